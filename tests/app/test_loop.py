"""The live loop: one scheduler shares training fairly, speed, frames skipped not queued.

Time is a fake clock here (each reading advances it by a fixed amount, as if every step
cost that much), so the tests check what the scheduler decides, never how fast the machine is.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from bokeh.document.events import ColumnsStreamedEvent, ModelChangedEvent
from panel.models.esm import DataEvent

from app import Dashboard
from app.live.scheduler import CREDIT_ROUNDS, MIN_QUANTUM, ROUND_TRAIN_S, Scheduler
from serve.in_process import ServerStandIn, served_document
from tests.support.sessions import served_frame
from tests.support.views import figure_titled, find, glyph_data, page_model


class FakeClock:
    """Seconds that advance by ``per_call`` at every reading (and by ``advance``)."""

    def __init__(self, per_call: float = 0.0):
        self.now = 0.0
        self.per_call = per_call

    def __call__(self) -> float:
        self.now += self.per_call
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeClient:
    """A scheduler client whose every step costs ``step_cost`` seconds of the fake clock."""

    def __init__(self, clock: FakeClock, step_cost: float, served: list | None = None):
        self.clock, self.step_cost = clock, step_cost
        self.served = served if served is not None else []  # clients in order of service
        self.playing, self.in_flight = True, False
        self.credit, self.last_frame, self.frames_skipped = 0.0, float("-inf"), 0
        self.steps, self.trained, self.frames = 0, 0.0, 0
        self.slices: list[tuple[float, float]] = []  # (credit given, time used)

    def disconnected(self) -> bool:
        return False

    def stop(self) -> None:
        self.playing = False

    def train_for(self, seconds: float, clock) -> float:
        self.served.append(self)
        start = clock()
        while True:
            self.clock.advance(self.step_cost)
            self.steps += 1
            if clock() - start >= seconds:
                break
        used = clock() - start
        self.trained += used
        self.slices.append((seconds, used))
        return used

    def dispatch_frame(self) -> None:
        self.frames += 1


def test_scheduler_shares_training_time_fairly_and_bounds_slices():
    clock = FakeClock()
    scheduler = Scheduler(clock=clock, train_clock=clock)
    # a tiny FNN step, a mid-size one, and a huge RNN step far longer than a quantum
    served = []
    clients = [FakeClient(clock, cost, served) for cost in (0.0002, 0.002, 0.05)]
    for client in clients:
        scheduler.add(client)
    firsts = set()
    for _ in range(600):
        served.clear()
        scheduler.run_round()
        if served:
            firsts.add(id(served[0]))
    totals = [client.trained for client in clients]
    assert all(client.steps > 0 for client in clients), "a client was starved"
    assert max(totals) < 1.5 * min(totals), totals  # the same training time for each
    assert clients[0].steps > 100 * clients[2].steps  # ... so cheap steps run far more often
    quantum = max(ROUND_TRAIN_S / len(clients), MIN_QUANTUM)
    for client in clients:
        for given, used in client.slices:
            # a slice ends at its credit, at most one step later; credit never piles up
            assert given <= CREDIT_ROUNDS * quantum + 1e-12
            assert used <= given + client.step_cost + 1e-12
    assert len(firsts) == len(clients), "the same clients were always served first"


def test_a_client_preempted_mid_slice_is_not_charged_the_wait():
    """The operating system takes the CPU from the server for 2 s in the middle of one
    client's slice (browsers sharing the machine): on the wall clock that slice would be
    charged 2 s, some 2500 rounds of sitting out; on the training clock it costs what it ran."""
    wall = FakeClock()

    class ThreadTime(FakeClock):  # a step takes CPU and wall time alike, a preemption wall
        preempt = 0.0

        def advance(self, seconds: float) -> None:
            super().advance(seconds)
            wall.advance(seconds + self.preempt)
            self.preempt = 0.0

    cpu = ThreadTime()
    scheduler = Scheduler(clock=wall, train_clock=cpu)
    assert Scheduler().train_clock is time.thread_time  # served: the event loop's CPU time
    clients = [FakeClient(cpu, 0.0002) for _ in range(3)]
    for client in clients:
        scheduler.add(client)
    preempted = clients[1]
    original = preempted.train_for

    def train_for_preempted_once(seconds, clock):
        if not preempted.slices:
            cpu.preempt = 2.0  # descheduled during its first step: this thread's CPU stops
        return original(seconds, clock)

    preempted.train_for = train_for_preempted_once
    for _ in range(200):
        scheduler.run_round()
    steps = [client.steps for client in clients]
    assert min(steps) > 0.8 * max(steps), steps
    assert len(preempted.slices) == 200  # it sat out no round


def test_every_playing_client_gets_frames_and_paused_ones_none():
    clock = FakeClock()
    scheduler = Scheduler(clock=clock, train_clock=clock)
    clients = [FakeClient(clock, 0.0005) for _ in range(5)]
    clients[4].playing = False
    for client in clients:
        scheduler.add(client)
    for _ in range(300):
        scheduler.run_round()
        clock.advance(0.005)
    assert all(client.frames > 0 for client in clients[:4])
    assert clients[4].frames == 0 and clients[4].steps == 0


def test_frame_rate_lowers_with_the_cost_of_frames():
    scheduler = Scheduler()
    one_page = scheduler.frame_interval(1)
    for _ in range(200):
        scheduler.note_frame_cost(0.01)  # expensive frames
    assert scheduler.frame_interval(30) > scheduler.frame_interval(1) >= one_page


def test_redraws_of_a_class_are_spaced_by_their_share_of_the_machine():
    from app.live.scheduler import REDRAW_SHARE

    scheduler = Scheduler()
    scheduler.playing_count = 1
    alone = scheduler.redraw_interval(0.005)
    scheduler.playing_count = 30
    assert scheduler.redraw_interval(0.005) == pytest.approx(30 * alone)
    assert scheduler.redraw_interval(0.005) == pytest.approx(30 * 0.005 / REDRAW_SHARE)
    assert scheduler.redraw_interval(0.0) == 0.0


def test_a_full_class_streams_every_frame_and_redraws_less_often():
    """With 30 sessions playing, a frame still streams the counter and the loss curve, but
    the decision regions are redrawn only once their share of the machine allows."""
    from app.live.loop import REDRAW_SPACING

    clock = FakeClock(per_call=0.0002)
    scheduler = Scheduler(clock=clock, train_clock=clock)
    dashboard = Dashboard(scheduler=scheduler)
    loop, view = dashboard.loop, dashboard.views["training"]
    dashboard.session.running = True
    scheduler.run_round()  # one playing client (its frame is drawn at once: not served)
    redraws = loop.redraws
    loop.last_redraw_end = loop.next_redraw_at = float("-inf")
    loop.frame()  # a redraw is due
    assert loop.redraws == redraws + 1 and loop.redraw_seconds > 0
    scheduler.playing_count = 30
    wait = scheduler.redraw_interval(loop.redraw_seconds)
    alone = REDRAW_SPACING * loop.redraw_seconds
    assert wait > alone
    seen = frame_steps(dashboard)
    streamed = []
    original = view.stream
    view.stream = lambda: (streamed.append(dashboard.session.step), original())
    for _ in range(5):
        dashboard.session.train(2)
        # long enough since the last redraw for one session, not for one of a class of 30
        loop.last_redraw_end = clock() - (alone + wait) / 2
        loop.next_redraw_at = float("-inf")  # the view's own pace allows it
        loop.frame()
    assert loop.redraws == redraws + 1, "a redraw came sooner than the class's share allows"
    assert len(seen) == 5 and streamed == seen
    loop.last_redraw_end = clock() - wait  # the share's wait has passed
    loop.next_redraw_at = float("-inf")
    loop.frame()
    assert loop.redraws == redraws + 2
    dashboard.close()


def frame_steps(dashboard) -> list[int]:
    """Record the session's step at each frame the loop draws."""
    seen = []
    original = dashboard.loop.draw

    def counting(*args, **kwargs):
        seen.append(dashboard.session.step)
        original(*args, **kwargs)

    dashboard.loop.draw = counting
    return seen


@pytest.mark.parametrize("speed", [0, 1, 3])
def test_speed_sets_the_steps_between_frames(speed):
    clock = FakeClock(per_call=0.0002)
    scheduler = Scheduler(clock=clock, train_clock=clock)
    dashboard = Dashboard(speed=speed, scheduler=scheduler)
    seen = frame_steps(dashboard)
    dashboard.session.running = True
    for _ in range(40):
        scheduler.run_round()
        clock.advance(0.01)
    assert len(seen) >= 5
    between = [b - a for a, b in zip(seen, seen[1:], strict=False)]
    if speed == 0:
        assert max(between) >= 10, between  # fastest: many steps per frame
    else:
        assert max(between) <= speed and min(between[1:]) == speed, between
    dashboard.close()


def test_speed_menu_follows_the_setting():
    dashboard = Dashboard(speed=1)
    assert not dashboard.messages
    assert dashboard.sidebar.speed_select.value == 1
    dashboard.sidebar.speed_select.value = 30
    assert dashboard.settings.speed == 30
    dashboard.settings.speed = 7  # a link's speed that the menu does not list
    assert dashboard.sidebar.speed_select.value == 7
    dashboard.close()


class FakeServerSession:
    """Bokeh's ServerSession as the loop uses it: the frame runs under the "lock", and the
    coroutine finishes only once ``written`` is set (the patch is on the wire)."""

    def __init__(self):
        self.connection_count, self.destroyed = 1, False
        self.locked_calls = 0
        self.written = asyncio.Event()

    async def with_document_locked(self, func):
        self.locked_calls += 1
        func()
        await self.written.wait()


@pytest.fixture
def fast_paths_on(monkeypatch):
    """The library fast paths of app.compat on for one test, whatever the run sets (their
    public routes: tests/app/test_compat.py, and the whole suite with them off in CI)."""
    from app import compat

    monkeypatch.delenv(compat.VARIABLE, raising=False)
    assert compat.refresh()
    yield
    monkeypatch.undo()
    compat.refresh()


def served(dashboard):
    """Render the dashboard into a document and attach a fake server session to its loop.
    Every view is made first: Play would make the hidden ones, and the layout change that
    adds them releases its document hold in a next-tick callback, which a real server runs
    and this stand-in does not (every later change would stay held)."""
    list(dashboard.views.values())
    document = served_document(dashboard)
    server_session = FakeServerSession()
    dashboard.loop.document = document
    dashboard.loop.session_context = SimpleNamespace(session=server_session)
    return document, server_session


def served_on_a_fake_clock():
    """(clock, scheduler, dashboard, document, server session): a served dashboard whose
    scheduler reads a fake clock that advances 0.2 ms per reading."""
    clock = FakeClock(per_call=0.0002)
    scheduler = Scheduler(clock=clock, train_clock=clock)
    dashboard = Dashboard(scheduler=scheduler)
    document, server_session = served(dashboard)
    return clock, scheduler, dashboard, document, server_session


def test_a_frame_in_flight_makes_the_next_ones_skip_not_queue():
    async def run():
        clock, scheduler, dashboard, _, server_session = served_on_a_fake_clock()
        dashboard.session.running = True
        scheduler.run_round()
        await asyncio.sleep(0)  # the frame's coroutine starts and draws
        assert server_session.locked_calls == 1 and dashboard.loop.in_flight
        assert dashboard.loop.frames == 1
        for _ in range(10):  # frames fall due while the first is still being written
            clock.advance(0.1)
            scheduler.run_round()
            await asyncio.sleep(0)
        assert server_session.locked_calls == 1, "a frame was queued behind the one in flight"
        assert dashboard.loop.frames_skipped >= 9
        steps = dashboard.session.step
        assert steps > 10  # training went on meanwhile
        server_session.written.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert not dashboard.loop.in_flight
        clock.advance(0.1)
        scheduler.run_round()
        await asyncio.sleep(0)
        assert server_session.locked_calls == 2 and dashboard.loop.frames == 2
        dashboard.close()

    asyncio.run(run())


class EventRecorder:
    """Receives the document's patch events, as Bokeh's server session does."""

    def __init__(self, events: list):
        self.events = events

    def _document_patched(self, event) -> None:
        self.events.append(event)


def test_counter_and_view_change_in_the_same_frame_and_training_alone_changes_nothing():
    async def run():
        clock, scheduler, dashboard, document, server_session = served_on_a_fake_clock()
        server_session.written.set()
        loop = dashboard.loop
        events = []
        receiver = EventRecorder(events)
        document.callbacks.on_change_dispatch_to(receiver)
        dashboard.session.running = True  # (the Play button's label changes)
        events.clear()
        loop.last_frame = clock() + 0.5  # no frame due: a training slice alone
        scheduler.run_round()
        assert dashboard.session.step > 0 and events == []
        for _ in range(4):
            clock.advance(1.0)
            events.clear()
            scheduler.run_round()
            for _ in range(3):  # the frame's coroutine runs, then its done-callback
                await asyncio.sleep(0)
            step = dashboard.session.step
            texts = [e.new for e in events if isinstance(e, ModelChangedEvent)
                     and e.attr == "step" and f"step {step}" in str(e.new)]
            assert texts, "the step counter was not in the frame"
            streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
            assert streamed and streamed[-1].data["step"][-1] == step, (
                "the loss curve of the frame ends at another step than the counter")
            loop.receipt_arrived(loop.frames_sent)  # the page painted it
        dashboard.close()

    asyncio.run(run())


def test_the_scheduler_stops_a_session_whose_page_closed():
    scheduler = Scheduler(clock=FakeClock(per_call=0.0002))
    dashboard = Dashboard(scheduler=scheduler)
    _, server_session = served(dashboard)
    dashboard.session.running = True
    server_session.connection_count = 0
    scheduler.run_round()
    assert not dashboard.session.running and dashboard.session.step == 0
    dashboard.close()
    assert dashboard.loop not in scheduler.clients


def loss_curve(view):
    """The training view's loss figure, the data of its curve and of its marker of the
    initial weights' loss, as the page draws them."""
    from bokeh.models import Line, Scatter

    plot = figure_titled(view, "loss E of each mini-batch")
    return plot, glyph_data(plot, Line), glyph_data(plot, Scatter)


def test_loss_curve_starts_with_the_initial_loss_and_stays_bounded(monkeypatch):
    import app.views.training as training

    monkeypatch.setattr(training, "LOSS_POINTS", 50)
    dashboard = Dashboard()
    view = dashboard.views["training"]
    _, curve, _ = loss_curve(view)
    data = curve.data
    assert list(data["step"]) == [0] and data["loss"][0] == dashboard.session.initial_loss
    dashboard.session.train(300)
    view.stream()
    steps = list(curve.data["step"])
    assert len(steps) <= 50 and steps[0] == 0 and steps == sorted(steps)
    stride = steps[-1] - steps[-2]  # the curve keeps the multiples of its stride
    assert all(step % stride == 0 for step in steps)
    assert steps[-1] >= 300 - stride  # the curve reaches the current step
    recorded = dict(zip(dashboard.session.loss_steps, dashboard.session.loss_values,
                        strict=True))
    for step, loss in zip(steps[1:], curve.data["loss"][1:], strict=True):
        assert loss == recorded[int(step)]  # exact mini-batch losses, sampled
    dashboard.close()


def test_the_initial_loss_marker_and_its_legend_stay_still_while_the_curve_streams():
    """The legend's entry draws from a source of its own (BokehJS rebuilds a legend whose
    entries' sources change), and the curve is a one-pixel line (the browser's fast path)."""
    from bokeh.models import GlyphRenderer, Legend

    import app.views.training as training

    dashboard = Dashboard()
    view = dashboard.views["training"]
    plot, curve, initial = loss_curve(view)
    legends = list(plot.select(type=Legend))  # wherever the legend is placed
    sources = {renderer.data_source for legend in legends for item in legend.items
               for renderer in item.renderers}
    assert curve not in sources and initial in sources
    line = next(r for r in plot.renderers if isinstance(r, GlyphRenderer)
                and r.data_source is curve)
    assert line.glyph.line_width == training.LOSS_LINE_WIDTH == 1
    marker = dict(initial.data)
    dashboard.session.train(50)
    view.stream()
    assert len(curve.data["step"]) > 1
    assert list(initial.data["step"]) == [0] == list(marker["step"])
    assert initial.data["loss"][0] == dashboard.session.initial_loss
    dashboard.close()


def test_the_scheduler_does_not_keep_a_forgotten_dashboard_alive():
    import gc
    import weakref

    scheduler = Scheduler()
    dashboard = Dashboard(scheduler=scheduler)
    loop = weakref.ref(dashboard.loop)
    assert scheduler.clients == [dashboard.loop]
    del dashboard
    gc.collect()
    assert loop() is None and scheduler.clients == []


def test_a_page_that_receipts_every_few_frames_gets_every_due_frame():
    """The page receipts the frames numbered a multiple of RECEIPT_EVERY only: any window of
    unreceipted frames holds one of them, so a page that paints at once never waits."""
    from app.live.loop import RECEIPT_WINDOW
    from app.live.receipts import RECEIPT_EVERY

    assert RECEIPT_WINDOW >= RECEIPT_EVERY >= 1

    async def run():
        clock, scheduler, dashboard, document, server_session = served_on_a_fake_clock()
        server_session.written.set()
        loop = dashboard.loop
        numbers = []

        class Page(EventRecorder):  # receipts at once what the page's script receipts
            def _document_patched(self, event):
                if isinstance(event, ModelChangedEvent) and event.attr == "frame":
                    numbers.append(event.new)
                    if event.new % RECEIPT_EVERY == 0:
                        asyncio.get_running_loop().call_soon(loop.receipt_arrived, event.new)

        document.callbacks.on_change_dispatch_to(Page([]))
        dashboard.session.running = True
        for _ in range(12):
            clock.advance(1.0)  # a frame is due at every round
            scheduler.run_round()
            for _ in range(4):
                await asyncio.sleep(0)
        assert numbers == list(range(1, 13)) and loop.frames_skipped == 0
        assert loop.frames_sent - loop.frames_receipted < RECEIPT_EVERY  # unreceipted
        dashboard.close()

    asyncio.run(run())


def test_frames_wait_for_the_page_to_receipt_them_and_go_on_at_once_when_it_does():
    from app.live.loop import RECEIPT_TIMEOUT_S, RECEIPT_WINDOW

    async def run():
        clock, scheduler, dashboard, document, server_session = served_on_a_fake_clock()
        server_session.written.set()  # every patch leaves the socket at once
        loop = dashboard.loop
        events = []
        document.callbacks.on_change_dispatch_to(EventRecorder(events))
        dashboard.session.running = True

        async def due_round():
            clock.advance(1.0)
            scheduler.run_round()
            for _ in range(3):  # the frame's coroutine runs, then its done-callback
                await asyncio.sleep(0)

        sent_by = {}  # frame number: a reading of the real clock just after it was sent
        for sent in range(1, RECEIPT_WINDOW + 1):
            events.clear()
            await due_round()
            sent_by[sent] = time.perf_counter()
            assert loop.frames_sent == sent
            # the frame's number is its patch's last change, for the page to send back
            numbers = [e.new for e in events if isinstance(e, ModelChangedEvent)
                       and e.attr == "frame"]
            assert numbers == [sent] and events[-1].attr == "frame"
        assert loop.in_flight  # a full window: due frames are skipped, training goes on
        steps = dashboard.session.step
        for _ in range(5):
            await due_round()
        assert loop.frames_sent == RECEIPT_WINDOW and loop.frames_skipped >= 5
        assert dashboard.session.step > steps
        loop.receipt_arrived(RECEIPT_WINDOW + 7)  # a number never sent is not a receipt
        loop.receipt_arrived(0)
        assert loop.frames_receipted == 0 and loop.in_flight
        # the page painted the first frame: the next one goes at once, not at the next round
        loop.last_frame = float("-inf")
        # as the page's message arrives: a Bokeh event on the component's model
        receipts_model = page_model(document, "frame-readouts")
        document.callbacks.trigger_event(DataEvent(receipts_model, data=1))
        await asyncio.sleep(0)
        assert loop.frames_receipted == 1 and loop.frames_sent == RECEIPT_WINDOW + 1
        assert loop.in_flight
        # a page that stops receipting still gets a frame once the oldest is stale: the
        # oldest unreceipted frame is now frame 2
        assert loop.awaiting_receipts(now=sent_by[2] + RECEIPT_TIMEOUT_S / 2)
        assert not loop.awaiting_receipts(now=sent_by[2] + RECEIPT_TIMEOUT_S)
        for _ in range(3):  # that frame's coroutine finishes
            await asyncio.sleep(0)
        loop.receipt_arrived(loop.frames_sent)  # all painted
        assert not loop.in_flight and loop.frames_receipted == loop.frames_sent
        dashboard.close()

    asyncio.run(run())


def test_readouts_change_their_text_without_a_bokeh_div():
    """The step counter and the loss (FrameReadouts) and the computing line (LiveText) are
    ServerToPage components: a change is one property of a data model (the page sets the
    line's text; no Div re-renders and BokehJS lays nothing out)."""
    from bokeh.models import Div

    from app.views.live_text import LiveText, ServerToPage

    dashboard = Dashboard()
    document, server_session = served(dashboard)
    server_session.written.set()
    assert isinstance(dashboard.readouts, ServerToPage)
    assert isinstance(find(dashboard.views["training"], "view-computing"), LiveText)
    events = []
    document.callbacks.on_change_dispatch_to(EventRecorder(events))
    dashboard.session.train(3)
    served_frame(dashboard.loop)  # drawn under the document lock
    changed = [e for e in events if isinstance(e, ModelChangedEvent)]
    assert any(e.attr == "step" and e.new == "step 3" for e in changed)
    assert any(e.attr == "loss" and e.new.startswith("loss ") for e in changed)
    assert not [e for e in changed if isinstance(e.model, Div)], "a Div changed in a frame"
    dashboard.close()


def test_a_frame_writes_its_readouts_and_number_straight_to_the_page_number_last(fast_paths_on):
    """In a frame the step counter, the loss and the frame's number go straight to the page's
    Bokeh data model (no param watcher runs, Panel handles no change), the number last; the
    component's parameters hold the values, so that a later rendering shows them (the fast
    path of app.compat.set_on_page)."""
    dashboard = Dashboard()
    document, server_session = served(dashboard)
    server_session.written.set()
    readouts = dashboard.readouts
    batches = []
    readouts.param.watch(lambda *events: batches.append([e.name for e in events]),
                         ["step", "loss", "frame"])
    events = []
    document.callbacks.on_change_dispatch_to(EventRecorder(events))
    dashboard.session.train(2)
    served_frame(dashboard.loop)
    assert batches == []
    data_changes = [(e.attr, e.new) for e in events if isinstance(e, ModelChangedEvent)
                    and e.attr in ("step", "loss", "frame")]
    assert [attr for attr, _ in data_changes] == ["step", "loss", "frame"]
    assert data_changes[0][1] == "step 2" and data_changes[2][1] == 1
    assert (readouts.step, readouts.frame) == ("step 2", 1)
    assert readouts.loss == f"loss {dashboard.session.loss:.4g}"
    events.clear()
    served_frame(dashboard.loop)  # nothing trained: only the number changes
    assert [(e.attr, e.new) for e in events if isinstance(e, ModelChangedEvent)] == [
        ("frame", 2)]
    assert readouts.frame == 2 and readouts.step == "step 2"
    # a rendering after the frames shows their values
    model = readouts.get_root(document)
    assert (model.data.step, model.data.frame) == ("step 2", 2)
    # outside a frame (a reset, Step) the parameter path is taken: watchers run
    readouts.show(7, 0.5)
    assert batches == [["step", "loss"]]
    dashboard.close()


def test_readouts_show_refuses_nothing_and_formats_the_counter_and_the_loss():
    from app.live.receipts import FrameReadouts

    readouts = FrameReadouts()
    readouts.show(12, 0.123456789)
    assert (readouts.step, readouts.loss, readouts.frame) == ("step 12", "loss 0.1235", 0)
    readouts.show(12, float("nan"), frame=5)
    assert (readouts.loss, readouts.frame) == ("loss nan", 5)


def test_readouts_and_receipts_changed_in_a_frame_are_not_taken_for_page_changes(monkeypatch,
                                                                                 fast_paths_on):
    """A frame's changes of the readouts and of the frame number are never handled at the
    end of the frame's hold as if the page had made them (Panel's page-change handling,
    busy indicator included, cost ~6 ms a change: the fast path of app.compat.QuietToPage)."""
    from app.live.receipts import FrameReadouts
    from app.views.live_text import LiveText

    taken = []
    for component in (LiveText, FrameReadouts):
        monkeypatch.setattr(component, "_process_events",
                            lambda self, events: taken.append((self, events)))
    dashboard = Dashboard()
    document, server_session = served(dashboard)
    server_session.written.set()
    events = []
    document.callbacks.on_change_dispatch_to(EventRecorder(events))
    dashboard.session.train(2)
    served_frame(dashboard.loop)  # a served frame: its changes held, sent together
    changed = {(type(e.model).__name__, e.attr, e.new) for e in events
               if isinstance(e, ModelChangedEvent)}
    assert any(attr == "step" and new == "step 2" for _, attr, new in changed)
    assert any(attr == "frame" and new == 1 for _, attr, new in changed)
    assert dashboard.readouts.step == "step 2" and dashboard.readouts.frame == 1
    assert taken == [], "a change made by the server was handled as one from the page"
    dashboard.close()


def test_a_served_document_counts_its_models_as_sent_before_and_after_a_frame():
    """As on a server after the page's first pull, none of the document's models is new
    (Bokeh walks the new ones in every patch): the benchmarks measure frames that way."""
    dashboard = Dashboard()
    document = served_document(dashboard)
    assert document.models.synced_references == set(document.models)
    server = ServerStandIn(document, dashboard.loop)
    dashboard.loop.attach(document, SimpleNamespace(session=server))
    for _ in range(3):
        dashboard.session.train_step()
    served_frame(dashboard.loop)
    assert server.frame_cpu and server.bytes > 0  # one frame, its patch serialised
    assert document.models.synced_references == set(document.models)
    dashboard.close()


class PacedView:
    """A view that redraws in no time, at most every ``min_redraw_interval`` seconds."""

    min_redraw_interval = 0.1
    worker_seconds = 0.0

    def __init__(self):
        self.redraws = 0

    def redraw(self):
        self.redraws += 1
        yield

    def stream(self) -> None:
        pass

    def ensure_built(self) -> None:
        pass


def paced_dashboard() -> tuple[FakeClock, Dashboard, PacedView]:
    """A dashboard on a fake clock whose visible view is a PacedView with free redraws."""
    clock = FakeClock()
    dashboard = Dashboard(scheduler=Scheduler(clock=clock, train_clock=clock))
    view = PacedView()
    dashboard.loop.views = {dashboard.settings.view: view}
    dashboard.loop.redraw_seconds = 0.0
    return clock, dashboard, view


@pytest.mark.parametrize("lateness", [0.0, 0.003])
def test_a_cheap_view_redraws_at_its_own_pace_on_the_frame_grid(lateness):
    """A 0.1 s pace on 40 ms frames is ten redraws a second (spaced 80 and 120 ms), not
    every third frame; frames dispatched a little late, by varying amounts, keep it."""
    clock, dashboard, view = paced_dashboard()
    loop = dashboard.loop
    start = clock.now + 1.0
    frames = [start + 0.04 * k + lateness * (k % 3) for k in range(250)]  # 10 s of frames
    redrawn_in = []  # the frames that redrew
    for k, frame_start in enumerate(frames):
        before = view.redraws
        clock.now = frame_start
        loop.advance_view(clock())
        if view.redraws > before:
            redrawn_in.append(k)
    assert len(redrawn_in) == 100
    assert {b - a for a, b in zip(redrawn_in, redrawn_in[1:], strict=False)} == {2, 3}
    dashboard.close()


def test_a_view_behind_its_pace_does_not_catch_up_in_a_burst():
    clock, dashboard, view = paced_dashboard()
    loop = dashboard.loop
    start = clock.now + 1.0

    def frame_at(seconds: float) -> None:
        clock.now = start + seconds
        loop.advance_view(clock())

    frame_at(0.0)
    frame_at(1.0)  # a second without frames (a pause, a slow machine)
    frame_at(1.04)  # the next two frames: the pace starts again from the late one
    frame_at(1.08)
    assert view.redraws == 2
    frame_at(1.12)
    assert view.redraws == 3
    dashboard.close()


def readout_steps(events: list) -> list[str]:
    """The step counter's texts sent in ``events`` (a frame's readouts). The tests that read
    them run with the fast paths on: without them (``HESSIAN_LAB_FAST_PATHS=off``) Panel sends
    the readouts of a frame that this stand-in of a server runs as it schedules them, not in
    the frame's own events (the browser tests check that path: test_pause_shows_now.py)."""
    return [e.new for e in events if isinstance(e, ModelChangedEvent) and e.attr == "step"]


def test_pause_owes_the_page_a_final_frame_sent_once_receipts_allow(fast_paths_on):
    """Frames wait for receipts while playing; at Pause the steps trained since the last
    frame drawn are owed to the page: one frame, sent as soon as a receipt opens the window,
    with the counter and the loss curve at the paused step."""
    from app.live.loop import RECEIPT_WINDOW

    async def run():
        clock, scheduler, dashboard, document, server_session = served_on_a_fake_clock()
        server_session.written.set()
        loop = dashboard.loop
        events = []
        document.callbacks.on_change_dispatch_to(EventRecorder(events))
        dashboard.toggle_play()
        for _ in range(RECEIPT_WINDOW + 4):  # the page receipts nothing: the window fills
            clock.advance(1.0)
            scheduler.run_round()
            for _ in range(3):
                await asyncio.sleep(0)
        assert loop.frames_sent == RECEIPT_WINDOW and loop.awaiting_receipts()
        drawn = int(loop.readouts.step.split()[1])
        assert dashboard.session.step > drawn  # trained on while frames were held back
        dashboard.toggle_play()  # Pause
        for _ in range(3):
            await asyncio.sleep(0)
        assert loop.frames_sent == RECEIPT_WINDOW, "a frame went past the flow control"
        paused_at = dashboard.session.step
        events.clear()
        loop.receipt_arrived(2)  # the page painted frames 1 and 2
        for _ in range(3):
            await asyncio.sleep(0)
        assert loop.frames_sent == RECEIPT_WINDOW + 1
        assert readout_steps(events) == [f"step {paused_at}"]
        streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
        assert streamed and streamed[-1].data["step"][-1] == paused_at
        assert dashboard.readouts.step == f"step {paused_at}"
        loop.receipt_arrived(loop.frames_sent)  # nothing more is owed: nothing more is sent
        for _ in range(3):
            await asyncio.sleep(0)
        assert loop.frames_sent == RECEIPT_WINDOW + 1 and dashboard.session.step == paused_at
        dashboard.close()

    asyncio.run(run())


def test_a_frame_owed_to_a_page_that_never_receipts_goes_once_the_oldest_is_stale(
        monkeypatch):
    import app.live.loop as live_loop
    from app.live.loop import OWED_RETRY_S, RECEIPT_WINDOW

    async def run():
        clock, scheduler, dashboard, document, server_session = served_on_a_fake_clock()
        server_session.written.set()
        loop = dashboard.loop
        dashboard.toggle_play()
        for _ in range(RECEIPT_WINDOW):
            clock.advance(1.0)
            scheduler.run_round()
            for _ in range(3):
                await asyncio.sleep(0)
        assert loop.awaiting_receipts()
        dashboard.toggle_play()  # Pause: owed, held back
        await asyncio.sleep(0)
        assert loop.frames_sent == RECEIPT_WINDOW and loop.redraw_requested
        later = SimpleNamespace(perf_counter=lambda: time.perf_counter() + 60.0)
        monkeypatch.setattr(live_loop, "time", later)  # the loop's clock: a minute later
        await asyncio.sleep(2 * OWED_RETRY_S)
        for _ in range(3):
            await asyncio.sleep(0)
        assert loop.frames_sent == RECEIPT_WINDOW + 1 and not loop.redraw_requested
        assert dashboard.readouts.step == f"step {dashboard.session.step}"
        dashboard.close()

    asyncio.run(run())


def test_step_after_pause_shows_one_step_more_and_requests_coalesce(fast_paths_on):
    """Step (and settings changes) owe the page one frame with the state as it is when
    drawn; several requests before it is drawn are one frame."""

    async def run():
        clock, scheduler, dashboard, document, server_session = served_on_a_fake_clock()
        loop = dashboard.loop
        events = []
        document.callbacks.on_change_dispatch_to(EventRecorder(events))
        dashboard.toggle_play()
        for _ in range(3):
            clock.advance(1.0)
            scheduler.run_round()
            await asyncio.sleep(0)
        dashboard.toggle_play()  # Pause while a frame is still being written
        server_session.written.set()
        for _ in range(6):
            await asyncio.sleep(0)
        paused_at = dashboard.session.step
        assert dashboard.readouts.step == f"step {paused_at}"
        loop.receipt_arrived(loop.frames_sent)
        sent = loop.frames_sent
        server_session.written.clear()  # the next frame stays in flight
        events.clear()
        dashboard.step()
        await asyncio.sleep(0)
        for _ in range(3):  # more requests while that frame is in flight
            dashboard.step()
        assert loop.frames_sent == sent + 1
        server_session.written.set()
        for _ in range(6):
            await asyncio.sleep(0)
        assert loop.frames_sent == sent + 2, "the requests made in flight were not one frame"
        assert readout_steps(events) == [f"step {paused_at + 1}", f"step {paused_at + 4}"]
        dashboard.close()

    asyncio.run(run())


def test_a_process_given_little_cpu_pauses_by_the_wall_time_its_slices_took():
    """On a loaded machine a slice of 12 ms of CPU takes some 50 ms of wall time; the pause
    after it leaves the event loop its share of that (the page's messages, a Pause click)."""
    from app.live.scheduler import MIN_PAUSE_S, TRAIN_SHARE

    wall = FakeClock()

    class Starved(FakeClock):  # every CPU second of a step takes four of the wall clock
        def advance(self, seconds: float) -> None:
            super().advance(seconds)
            wall.advance(4 * seconds)

    cpu = Starved()
    scheduler = Scheduler(clock=wall, train_clock=cpu)
    client = FakeClient(cpu, 0.0005)
    scheduler.add(client)
    used = scheduler.run_round()
    assert used > 0 and scheduler.train_wall == pytest.approx(4 * used)
    pause = scheduler.pause_after(used)
    assert pause == pytest.approx(max(MIN_PAUSE_S, 4 * used * (1 - TRAIN_SHARE) / TRAIN_SHARE))
    assert scheduler.train_wall / (scheduler.train_wall + pause) <= TRAIN_SHARE + 1e-9
