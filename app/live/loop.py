"""The live loop of one dashboard: its training slices and its frames.

The process-wide :class:`~app.live.scheduler.Scheduler` decides *when*; a :class:`SessionLoop`
decides *what*. Training: ``settings.speed`` is the most SGD steps between two frames (0: as
many as this session's share of the machine allows); a slice stops at its time budget, at
that limit, or when a step fails (training pauses and says why). A frame draws, as one batch
of document changes, the step counter and loss readout and the visible view, so the counter
and the plots always show the same step:

- the visible view's cheap streamed updates (``View.stream``: the loss curve), every frame;
- its full redraw (``View.redraw``, a generator of plot updates) spread over frames, at most
  ``FRAME_DRAW_BUDGET_S`` of plot updates per frame, and started no sooner than
  ``REDRAW_SPACING`` times the last redraw's cost (and the scheduler's share of redraws
  among the playing sessions, :meth:`~app.live.scheduler.Scheduler.redraw_interval`) after it
  ended, so that an expensive view (a large RNN Hessian) or a full class redraws less often
  instead of slowing every frame. A cheap view redraws at its own pace, once every
  ``min_redraw_interval`` on average: the redraws keep to that schedule, so an interval that
  is not a whole number of frames (0.1 s on 40 ms frames) is met by alternating spacings
  (80 and 120 ms) instead of being rounded up to the next frame each time.
  Its heavy core computations run on the session's worker thread (``View.offload``) while
  frames go on; those that last took a few milliseconds at most run in the frame.

Served, every change of the views' plots is made in a frame, and so is a rebuild that
settings changes ask for (``SessionLoop.rebuild_owed``: training waits for it). Pause,
Step, Reset, a lesson and every settings change leave the page *owed* a frame
(:meth:`SessionLoop.request_redraw`): one complete redraw with the readouts, drawn with the
state of the moment it is drawn, sent as soon as the flow control below lets a frame go
(:meth:`SessionLoop.send_owed`: when the frame in flight is written, when a receipt opens
the window, or at a retry every ``OWED_RETRY_S``), never dropped; requests made before it
goes are that one frame, so that changes arriving faster than the page draws never queue
up. No frame goes before the page has loaded its document (Panel's ``onload``: until then
Panel drops the changes a hold makes, and a later frame would refer to plots the page never
received). A frame runs under its page's document lock
(``bokeh.server.session.ServerSession.with_document_locked``, the call behind
``doc.add_next_tick_callback``) with the page's document as Panel's current document, and
its changes held by ``pn.io.hold`` and sent together, as one PATCH-DOC message on Panel's
write path (the one Panel's own callbacks use, so messages keep their order). Until the
frame is applied and the websocket has written its message out (as far as the server can tell:
:func:`app.compat.writes_pending`), the frame is *in flight*
and the scheduler skips this page's frames; it also skips them while ``RECEIPT_WINDOW``
frames wait for the page's receipt that it has painted them (:mod:`app.live.receipts`), so that
a page slower than the server gets frames as fast as it paints them, never a queue of them.
Without a server (tests, scripts, notebooks) a frame is drawn at once, inside ``pn.io.hold``
(which pushes to a notebook's comm).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import panel as pn
from panel.io.notebook import push
from panel.io.state import set_curdoc

from app.compat import notebook_output, writes_pending
from app.live.receipts import FrameReadouts
from app.live.scheduler import Scheduler, process_scheduler
from app.views.common import WAITING

#: a redraw starts no sooner than this many times its last cost after it ended
REDRAW_SPACING = 2.0
#: a redraw whose time on the view's schedule comes this little after a frame rides in it
#: (frames are dispatched a little late, by varying amounts: seconds)
PACE_TOLERANCE_S = 0.005
#: plot updates of a spread redraw per frame (always at least one)
FRAME_DRAW_BUDGET_S = 0.012
#: most frames sent to a page and not yet receipted as painted: while the page paints one,
#: the next ones are made and travel (on a loaded machine a receipt takes some 100 ms); at
#: least ``app.live.receipts.RECEIPT_EVERY``, so that every window holds a frame the page receipts
RECEIPT_WINDOW = 3
#: a frame not receipted after this long no longer holds the next ones back (seconds): a
#: page that cannot receipt (its script did not load) still gets a frame now and then
RECEIPT_TIMEOUT_S = 3.0
#: a frame owed to the page (Pause, Step, a settings change) that the flow control holds
#: back is tried again this often (seconds), besides when a frame is written or receipted
OWED_RETRY_S = 0.05

log = logging.getLogger(__name__)


class SessionLoop:
    """Training slices and frames of one dashboard (a client of the scheduler)."""

    def __init__(self, session, settings, views: dict, readouts: FrameReadouts,
                 scheduler: Scheduler | None = None):
        self.session = session
        self.settings = settings
        self.views = views
        if hasattr(views, "on_made"):  # a view made while playing gets the worker at once
            views.on_made.append(self._give_worker)
        self.scheduler = scheduler if scheduler is not None else process_scheduler()
        # scheduler protocol
        self.credit = 0.0
        self._frame_running = False
        self.last_frame = float("-inf")
        self.frames_skipped = 0
        # flow control: frames numbered 1, 2, ... as sent, with the step counter and the
        # loss; the page receipts them painted
        self.readouts = readouts
        readouts.on_receipt = self.receipt_arrived
        self.frames_sent = 0
        self.frames_receipted = 0
        self._unreceipted: deque[float] = deque()  # send times of the unreceipted frames
        # counts and costs
        self.frames = 0
        self.redraws = 0  # complete redraws of the visible view
        self.steps_since_frame = 0
        self.frame_seconds = 0.0  # cost of the last frame, its message made and handed on
        self.redraw_seconds = 0.0  # cost of the last complete redraw (worker time included)
        self.last_redraw_end = 0.0
        self.next_redraw_at = 0.0  # the visible view's next redraw on its own schedule
        self.pending = None  # the redraw in progress (a generator of plot updates)
        self.pending_seconds = 0.0
        self.busy = False  # a manual tick is running
        self.redraw_requested = False  # served: a frame is owed, with a complete redraw
        self._owed_retry: asyncio.TimerHandle | None = None
        #: served: the settings changed the model's structure; ``rebuild`` (the dashboard's)
        #: runs at the start of the owed frame, once for all the changes made before it
        self.rebuild_owed = False
        self.rebuild: Callable[[], object] | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.closed = False
        self.layout = None  # the dashboard's layout (to find a notebook cell's comm)
        doc = pn.state.curdoc
        self.document = doc
        self.session_context = getattr(doc, "session_context", None)
        # served: no frame before the page has loaded the document (Panel drops the changes
        # a hold makes until then, and a later frame would refer to models never sent)
        self.page_ready = False
        pn.state.onload(self.page_loaded)  # at once when not served
        self.scheduler.add(self)

    def attach(self, document, session_context) -> None:
        """Draw into ``document``; ``session_context.session`` (Bokeh's ServerSession, or
        an object with its ``with_document_locked``) takes the frames under its lock."""
        self.document = document
        self.session_context = session_context

    # --- state -------------------------------------------------------------------------
    @property
    def server_session(self):
        """Bokeh's ServerSession of the page, or None (tests, notebooks)."""
        return getattr(self.session_context, "session", None)

    @property
    def in_flight(self) -> bool:
        """The last frame is still being applied, its patch is still being written to the
        page's websocket, or the page has not yet receipted enough of the frames sent to it
        (then the scheduler skips this page's frames); or the page has not loaded yet."""
        return (self._frame_running or not self.page_ready
                or writes_pending(self.server_session) or self.awaiting_receipts())

    def page_loaded(self) -> None:
        """The page has loaded its document: frames may go, the owed one first."""
        self.page_ready = True
        self.send_owed()

    def awaiting_receipts(self, now: float | None = None) -> bool:
        """``RECEIPT_WINDOW`` frames or more are unreceipted, the oldest for less than
        ``RECEIPT_TIMEOUT_S``."""
        if len(self._unreceipted) < RECEIPT_WINDOW:
            return False
        now = time.perf_counter() if now is None else now
        return now - self._unreceipted[0] < RECEIPT_TIMEOUT_S

    def receipt_arrived(self, frame: int) -> None:
        """The page has painted every frame up to number ``frame``."""
        if frame <= self.frames_receipted or frame > self.frames_sent:
            return  # an old or foreign number
        done = frame - self.frames_receipted
        self.frames_receipted = frame
        for _ in range(min(done, len(self._unreceipted))):
            self._unreceipted.popleft()
        if self.send_owed():
            return  # the frame owed to the page went
        if len(self._unreceipted) == RECEIPT_WINDOW - 1:
            self.scheduler.offer_frame(self)  # the window just opened: no wait for a round

    @property
    def playing(self) -> bool:
        return bool(self.session.running) and not self.closed and self.session.net is not None

    def disconnected(self) -> bool:
        """True when served and no browser is connected any more (a closed tab): Bokeh only
        destroys the session some 15-20 s later."""
        server_session = self.server_session
        if server_session is None:
            return False
        if getattr(server_session, "destroyed", False):
            return True
        return getattr(server_session, "connection_count", 1) == 0

    def stop(self) -> None:
        self.session.running = False

    def start(self) -> None:
        """Play: the worker thread, and the scheduler's rounds on the running event loop."""
        self.start_worker()
        self.scheduler.add(self)
        self.scheduler.wake()

    def start_worker(self) -> None:
        """The session's worker thread for the views' heavy core computations."""
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hessian-lab")
            for view in self.made_views():
                view.executor = self.executor

    def made_views(self) -> list:
        """The views made so far (every one where ``views`` is a plain mapping): those not
        made yet get the worker when they are (:meth:`_give_worker`)."""
        return list(getattr(self.views, "built", self.views).values())

    def _give_worker(self, view) -> None:
        view.executor = self.executor

    # --- training ----------------------------------------------------------------------
    def steps_allowed(self) -> int | None:
        """Steps this session may still take before its next frame (None: no limit)."""
        speed = int(self.settings.speed)
        if speed <= 0:
            return None
        return max(speed - self.steps_since_frame, 0)

    def train_for(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> float:
        """Train until ``seconds`` have passed (at least one step) or the speed's steps per
        frame are taken; returns the time used."""
        allowed = self.steps_allowed()
        if allowed == 0 or not self.playing or self.rebuild_owed:
            return 0.0  # (the settings no longer fit the model until the owed frame)
        start = clock()
        # stops early where a step fails: paused, with the reason in session.status
        self.steps_since_frame += self.session.train_steps(allowed, seconds, clock)
        return clock() - start

    # --- frames ------------------------------------------------------------------------
    def dispatch_frame(self) -> None:
        """Draw a frame: under the page's document lock when served, else at once."""
        server_session = self.server_session
        if server_session is None or self.document is None:
            self.frame()
            return
        self._frame_running = True
        future = asyncio.ensure_future(server_session.with_document_locked(self._locked_frame))
        future.add_done_callback(self._frame_written)

    def _locked_frame(self) -> None:
        # Panel's hold: its events leave in one PATCH-DOC message, on the same path (and so
        # in the same order) as those of Panel's own callbacks (a tab opened, a widget moved)
        start = time.perf_counter()
        with set_curdoc(self.document), pn.io.hold(self.document):
            # the frame's last change, with the readouts: its number, which the page sends
            # back once painted
            self.frames_sent += 1
            self._unreceipted.append(time.perf_counter())
            self.draw(frame=self.frames_sent)
        # the frame's cost with its message made and handed to the websocket (the hold's end)
        self.frame_seconds = time.perf_counter() - start
        self.scheduler.note_frame_cost(self.frame_seconds)

    def _frame_written(self, future) -> None:
        self._frame_running = False
        if not future.cancelled() and future.exception() is not None:
            log.error("frame failed", exc_info=future.exception())
        self.send_owed()

    def request_redraw(self) -> bool:
        """Served: the page is owed a frame that redraws the visible view completely and
        shows the readouts as they are now (Pause, Step, Reset, a settings change). It is
        sent as soon as the flow control allows (:meth:`send_owed`), never dropped: at once
        when nothing is in flight, else when the frame in flight is written, a receipt
        opens the window, or a retry finds the way free; while playing, the next frame of
        the scheduler may carry it. Requests made before it is sent are one frame, drawn
        with the state of its own time. False when not served (then the caller draws now).
        Drawing only in frames keeps every Bokeh change on one path to the browser, in
        order (a model is never referred to before it is sent)."""
        if self.server_session is None or self.document is None:
            return False
        self.pending = None
        self.redraw_requested = True
        self.send_owed()
        return True

    def send_owed(self) -> bool:
        """Dispatch the frame owed to the page (:meth:`request_redraw`) if the flow control
        lets one go now; otherwise look again in ``OWED_RETRY_S`` (a frame in flight looks
        again when written, a receipt when it arrives). True when dispatched."""
        if (not self.redraw_requested or self.closed or self._frame_running
                or not self.page_ready):
            return False  # (a frame written, or the page loaded, looks again)
        if getattr(self.server_session, "destroyed", False):
            return False  # the page's session is gone
        if writes_pending(self.server_session) or self.awaiting_receipts():
            self._retry_owed()
            return False
        self.dispatch_frame()
        return True

    def _retry_owed(self) -> None:
        if self._owed_retry is not None:
            return
        try:
            event_loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop: the next frame or receipt sends it

        def retry() -> None:
            self._owed_retry = None
            self.send_owed()

        self._owed_retry = event_loop.call_later(OWED_RETRY_S, retry)

    def frame(self) -> None:
        """Draw a frame now, on this thread, as one batch of changes (in a notebook, pushed
        through the comm of the output cell, plot data included)."""
        start = time.perf_counter()
        document, comm = self.notebook_output()
        if comm is None:
            with pn.io.hold():
                self.draw()
        else:
            held = document.callbacks.hold_value
            document.hold("combine")
            try:
                self.draw()
            finally:
                push(document, comm)  # the held events, the plots' own data changes included
                if not held:
                    document.unhold()
        self.frame_seconds = time.perf_counter() - start
        self.scheduler.note_frame_cost(self.frame_seconds)

    def notebook_output(self) -> tuple:
        """(document, comm) of a notebook cell showing ``self.layout``, or (None, None)
        (:func:`app.compat.notebook_output`)."""
        return notebook_output(self.layout)

    def draw(self, frame: int | None = None) -> None:
        """The frame's changes: the visible view, then the readouts with the frame's
        number ``frame`` if given (call under a hold)."""
        start = time.perf_counter()
        self.steps_since_frame = 0
        self.rebuild_if_owed()
        if self.session.net is not None and self.redraw_requested:
            self.redraw_requested = False
            self.views[self.settings.view].refresh()
            self.redrawn_now(time.perf_counter() - start)
        elif self.session.net is not None:
            self.advance_view(self.scheduler.clock())
        self.show_readouts(frame, in_frame=True)
        self.frames += 1

    def rebuild_if_owed(self) -> None:
        """Run the rebuild that settings changes asked for, if one is owed."""
        if self.rebuild_owed and self.rebuild is not None:
            self.rebuild_owed = False
            self.rebuild()

    def show_readouts(self, frame: int | None = None, in_frame: bool = False) -> None:
        """The step counter and the loss (and the frame's number) in the page; ``in_frame``:
        called from a frame (see :meth:`app.live.receipts.FrameReadouts.show`)."""
        self.readouts.show(self.session.step, self.session.loss, frame, in_frame=in_frame,
                           epochs=self.session.epochs)

    def advance_view(self, frame_start: float) -> None:
        """Stream the visible view's new data, or advance its spread redraw; ``frame_start``
        on the scheduler's clock, which times the redraws (their costs are measured)."""
        budget_start = time.perf_counter()
        view = self.views[self.settings.view]
        wait = max(REDRAW_SPACING * self.redraw_seconds,
                   self.scheduler.redraw_interval(self.redraw_seconds))
        due = (frame_start - self.last_redraw_end >= wait
               and frame_start >= self.next_redraw_at - PACE_TOLERANCE_S)
        if self.pending is None and due:
            self._keep_pace(frame_start, view.min_redraw_interval)
            view.worker_seconds = 0.0
            self.pending = view.redraw()
            self.pending_seconds = 0.0
        if self.pending is None:
            view.ensure_built()
            view.stream()
            return
        while True:
            step_start = time.perf_counter()
            try:
                step = next(self.pending)
                finished = False
            except StopIteration:
                finished = True
            now = time.perf_counter()
            self.pending_seconds += now - step_start
            if finished:
                self.pending = None
                self.redraws += 1
                self.last_redraw_end = self.scheduler.clock()
                # drawing on the event loop plus the core time on the worker thread
                self.redraw_seconds = self.pending_seconds + view.worker_seconds
                return
            if step is WAITING or now - budget_start >= FRAME_DRAW_BUDGET_S:
                return  # the worker is computing, or this frame's budget is used

    def _keep_pace(self, start: float, interval: float) -> None:
        """A redraw starts at ``start``: the next one on the view's schedule, one
        ``interval`` after this one was due (after ``start`` when behind by an interval)."""
        behind = start - self.next_redraw_at >= interval
        self.next_redraw_at = (start if behind else self.next_redraw_at) + interval

    def redrawn_now(self, seconds: float) -> None:
        """A complete redraw was done outside the loop (a settings change, Step)."""
        self.pending = None
        self.last_redraw_end = self.scheduler.clock()
        self.next_redraw_at = (self.last_redraw_end
                               + self.views[self.settings.view].min_redraw_interval)
        self.redraw_seconds = seconds

    # --- end ---------------------------------------------------------------------------
    def close(self) -> None:
        """Leave the scheduler and stop the worker thread."""
        self.closed = True
        self.pending = None
        if self._owed_retry is not None:
            self._owed_retry.cancel()
            self._owed_retry = None
        self.scheduler.remove(self)
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None
            for view in self.made_views():
                view.executor = None

