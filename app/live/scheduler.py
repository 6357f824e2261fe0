"""One scheduler per process: fair training slices and paced frames for every playing page.

Every dashboard of a server process (or notebook kernel) registers a client here; a single
asyncio task on the process's event loop runs *rounds* while any client plays:

1. **Training, deficit round robin.** A round shares ``ROUND_TRAIN_S`` of training time among
   the n playing clients: each gets a quantum q = max(ROUND_TRAIN_S / n, MIN_QUANTUM) of credit
   (at most ``CREDIT_ROUNDS`` quanta banked) and trains while its credit is positive, so a slice
   lasts at most its credit plus one SGD step. A client whose step is slower than its quantum
   overdraws and sits out rounds until its credit is positive again: every client gets the
   same training time over a few rounds, however costly its steps, and none is starved. The
   first client of a round rotates, so none is always served first. Slices are timed on
   ``train_clock``, the event-loop thread's CPU time: a process that the operating system
   preempts in the middle of a slice (30 browsers sharing the machine with the server) is
   not charged the time it waited, which on the wall clock overdrew a client by up to
   seconds and made it sit out hundreds of rounds while the others trained.
2. **Frames.** A client's frame is due when 1/FRAME_RATE has passed since its last one, or
   longer under load: the interval is at least n x (mean frame cost) / DRAW_SHARE, so that all
   frames together use at most DRAW_SHARE of the wall time and the frame rate of every page
   lowers instead of the event loop lagging (frame costs are wall-clock times, unlike the
   slices': a process given little CPU measures dearer frames and draws fewer, which is what
   it can hold; every page is slowed alike). A due frame whose previous frame is still being
   written to the browser is *skipped*, never queued: at most one frame's patch is in flight
   per page (fast training never floods a slow browser). A frame streams the cheap updates
   (counters, the loss curve); a complete redraw of the visible view (the decision regions,
   a Hessian's spectrum) rides in a frame only every :meth:`Scheduler.redraw_interval`: with
   n playing clients at least n x (its cost) / REDRAW_SHARE apart, so that the redraws of a
   class take at most REDRAW_SHARE of the wall time and the frames themselves stay cheap (the
   counters and the loss keep their rate; the heavier pictures update less often).
3. **Pause.** The task then sleeps so that training uses at most TRAIN_SHARE of the wall time
   (the slices' wall time: on a machine that gives the process little CPU a slice lasts
   longer than its CPU time, and so does the pause after it); frames, websocket traffic and
   widget callbacks run meanwhile (the event loop stays responsive: it is never held longer
   than one round's training plus one step, and a click is not left behind a growing queue
   of the page's messages).

A client's frame is applied under its page's document lock (see :mod:`app.live.loop`). Without a
running event loop (tests, scripts) nothing runs by itself: :meth:`Scheduler.run_round` does
one round on demand.

The client protocol (:class:`app.live.loop.SessionLoop` implements it)::

    playing: bool               # Play pressed and the page still open
    credit: float               # training time owed, kept by the scheduler
    in_flight: bool             # its last frame is still being written out
    last_frame: float           # clock time of its last frame
    frames_skipped: int         # due frames skipped while one was in flight
    disconnected() -> bool      # the page was closed: the scheduler pauses it
    stop() -> None              # pause (used when disconnected)
    train_for(seconds, clock) -> float   # train up to ``seconds`` (>= one step if allowed)
    dispatch_frame() -> None    # draw one frame now or schedule it under the document lock
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable

#: most frames per second for one page
FRAME_RATE = 25.0
#: training time of one round, shared among the playing clients (seconds)
ROUND_TRAIN_S = 0.012
#: smallest quantum per client and round (seconds): many clients share rounds less finely
MIN_QUANTUM = 0.0005
#: most quanta a client may bank (one that waited for its frame does not burst afterwards)
CREDIT_ROUNDS = 2
#: most of the wall time spent training (the rest: frames, websocket I/O, other callbacks)
TRAIN_SHARE = 0.75
#: most of the wall time spent drawing the frames of all clients together
DRAW_SHARE = 0.5
#: most of the wall time spent on complete redraws of the visible views, all clients together
REDRAW_SHARE = 0.15
#: smallest pause between rounds (seconds)
MIN_PAUSE_S = 0.001
#: the frame cost assumed before any frame was measured (seconds)
INITIAL_FRAME_COST = 0.002

log = logging.getLogger(__name__)


class Scheduler:
    """Training slices and frames for all playing clients of this process (see the module)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter,
                 train_clock: Callable[[], float] = time.thread_time):
        self.clock = clock  # frames and redraws are paced on the wall clock
        self.train_clock = train_clock  # training slices are timed in this thread's CPU time
        self._clients: list[weakref.ref] = []  # weak: a dashboard nobody closed may go
        self.frame_cost = INITIAL_FRAME_COST  # running mean of one frame's cost (seconds)
        self.playing_count = 0  # clients playing in the last round
        self.rounds = 0
        self.next_frame_in = 0.0  # after a round: time until the next frame is due (seconds)
        self.train_wall = 0.0  # wall time of the last round's training slices (seconds)
        self._rotation = 0
        self._task: asyncio.Task | None = None

    # --- clients -----------------------------------------------------------------------
    @property
    def clients(self) -> list:
        """The registered clients still alive, in order of registration."""
        alive = [ref() for ref in self._clients]
        if None in alive:
            self._clients = [ref for ref in self._clients if ref() is not None]
        return [client for client in alive if client is not None]

    def add(self, client) -> None:
        if client not in self.clients:
            self._clients.append(weakref.ref(client))
            client.credit = 0.0

    def remove(self, client) -> None:
        self._clients = [ref for ref in self._clients if ref() not in (None, client)]

    def playing(self) -> list:
        return [client for client in self.clients if client.playing]

    def note_frame_cost(self, seconds: float) -> None:
        """Fold one frame's measured cost into the running mean that paces all frames."""
        self.frame_cost += 0.1 * (max(seconds, 0.0) - self.frame_cost)

    def frame_interval(self, playing: int) -> float:
        """Shortest time between two frames of one client while ``playing`` clients play."""
        return max(1.0 / FRAME_RATE, playing * self.frame_cost / DRAW_SHARE)

    def redraw_interval(self, cost: float) -> float:
        """Shortest time between two complete redraws of a client's view that cost ``cost``
        seconds, while the clients of the last round play (every one redrawing as often)."""
        return max(self.playing_count, 1) * max(cost, 0.0) / REDRAW_SHARE

    # --- one round ---------------------------------------------------------------------
    def run_round(self) -> float:
        """Train every playing client for its share, then dispatch the frames that are due;
        returns the training time used (seconds)."""
        for client in self.playing():
            if client.disconnected():
                client.stop()  # the page was closed: stop training until Play again
        playing = self.playing()
        self.playing_count = len(playing)
        if not playing:
            return 0.0
        start = self._rotation % len(playing)
        order = playing[start:] + playing[:start]
        self._rotation += 1
        self.rounds += 1
        quantum = max(ROUND_TRAIN_S / len(playing), MIN_QUANTUM)
        used = 0.0
        wall_start = self.clock()
        for client in order:
            client.credit = min(client.credit + quantum, CREDIT_ROUNDS * quantum)
            if client.credit <= 0.0:
                continue  # overdrawn by a slow step: sits this round out
            spent = client.train_for(client.credit, self.train_clock)
            client.credit -= spent
            used += spent
        now = self.clock()
        self.train_wall = now - wall_start if used > 0.0 else 0.0
        interval = self.frame_interval(len(playing))
        self.next_frame_in = interval
        for client in order:
            wait = self._frame_if_due(client, now, interval)
            self.next_frame_in = min(self.next_frame_in, wait)
        return used

    def offer_frame(self, client) -> None:
        """Dispatch ``client``'s frame now if it is due (called when what held it back is
        gone: its page receipted a frame), instead of at the end of the next round."""
        if client.playing:  # (paced as in the last round: this runs at every receipt)
            self._frame_if_due(client, self.clock(), self.frame_interval(self.playing_count))

    def _frame_if_due(self, client, now: float, interval: float) -> float:
        """Dispatch ``client``'s frame if due and nothing is in flight; returns the time
        until the scheduler should look again (seconds; a skipped frame is offered again by
        its client, :meth:`offer_frame`, or at the latest one interval later)."""
        if now - client.last_frame < interval:
            return client.last_frame + interval - now
        if client.in_flight:
            client.frames_skipped += 1  # skip, never queue
            return interval
        # keep to the frame schedule (rounds do not fall on it exactly), unless behind by
        # more than a frame
        behind = now - client.last_frame >= 2 * interval
        client.last_frame = now if behind else client.last_frame + interval
        client.dispatch_frame()
        return interval

    # --- the task on the event loop ----------------------------------------------------
    def wake(self) -> bool:
        """Start the rounds on the running event loop if they are not running; False when
        there is no running loop (then nothing runs by itself)."""
        if self._task is not None and not self._task.done():
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._task = loop.create_task(self._run())
        return True

    async def _run(self) -> None:
        while self.playing():
            try:
                used = self.run_round()
            except Exception:  # noqa: BLE001 - one broken session must not stop the others
                log.exception("scheduler round failed")
                used = 0.0
            await asyncio.sleep(self.pause_after(used))

    def pause_after(self, used: float) -> float:
        """The sleep after a round that trained ``used`` seconds (on ``train_clock``)."""
        # the share is of the wall time: a process given little CPU (30 browsers on the
        # server's cores) takes longer for the same slice, and its websocket messages and
        # widget callbacks need their share of that longer time too
        pause = max(MIN_PAUSE_S, self.train_wall * (1.0 - TRAIN_SHARE) / TRAIN_SHARE)
        if used == 0.0:  # nobody trains (slow speeds, waiting frames): until a frame is due
            pause = max(pause, self.next_frame_in)
        return pause


_SCHEDULER: Scheduler | None = None


def process_scheduler() -> Scheduler:
    """The scheduler shared by every dashboard of this process."""
    global _SCHEDULER
    if _SCHEDULER is None:
        _SCHEDULER = Scheduler()
    return _SCHEDULER
