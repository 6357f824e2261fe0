"""Garbage collection in a server process while a class arrives, and after pages close.

CPython's full collection (generation 2) runs whenever the objects that survived earlier
collections have grown by a quarter, and it scans every object the collector tracks. One
session (its dashboard, views and Bokeh document) is some 38,000 such objects, so while 30
pages open, the process runs a full collection every few sessions, each scanning every
session built so far: in one process building 30 sessions, ten collections, the last ones
0.4-0.5 s each, 2.1 s in all (an eighth of the building), and each one a pause of the event
loop in which no page gets a frame.

:func:`freeze_built_session`, called once a session is built, first collects the young
generations (cheap: only what was made since the last collection), then freezes every object
(``gc.freeze``: kept out of all later collections), so that a full collection scans only what
was made since the last session was built.

A frozen object is never freed, even once it is garbage: a closed page's session is a web
of reference cycles, and frozen it would stay in memory for good (some 5 MB a page: a
server with pages opened and closed all day grew without end). So when a session is
destroyed (Bokeh destroys a closed page's session ``--unused-session-lifetime`` after its
websocket closed), :func:`collect_ended_sessions` is scheduled on the event loop,
:data:`COLLECT_DELAY_S` later, once Bokeh has let go of the session: it unfreezes
everything, runs one full collection, which frees the ended sessions' cycles (and what the
live sessions dropped since they were built), and freezes what is left again. Sessions
destroyed within the delay share that one collection (Bokeh destroys the closed sessions it
finds in one pass, every ``--check-unused-sessions``), so a full collection, which scans
every live session, runs only after pages closed, at most once per pass, never because
pages open.

``HESSIAN_LAB_GC_FREEZE=off`` leaves the collector as CPython sets it (no freezing), for
comparisons (``benchmarks/bench_session_memory.py``).
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bokeh.document import Document
    from bokeh.server.contexts import BokehSessionContext

#: seconds from a session's destruction to the collection that frees it
COLLECT_DELAY_S = 1.0
#: the environment variable that turns freezing off (``off``)
FREEZE_VARIABLE = "HESSIAN_LAB_GC_FREEZE"


def freezing() -> bool:
    """Whether this process freezes built sessions (``HESSIAN_LAB_GC_FREEZE`` is not ``off``)."""
    return os.environ.get(FREEZE_VARIABLE, "on").strip().lower() != "off"


def freeze_built_session(document: Document) -> None:
    """Freeze the objects made so far, once ``document``'s session is built, and collect them
    once that session is destroyed (``document.on_session_destroyed``)."""
    if not freezing():
        return
    gc.collect(1)
    gc.freeze()
    document.on_session_destroyed(session_ended)


class _Collection:
    """The one collection scheduled on the event loop, if any."""

    handle: asyncio.TimerHandle | None = None


def session_ended(session_context: BokehSessionContext | None) -> None:
    """Schedule :func:`collect_ended_sessions` (``session_context``'s session was destroyed);
    run it at once where no event loop runs (outside a server)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        collect_ended_sessions()
        return
    if _Collection.handle is None:
        _Collection.handle = loop.call_later(COLLECT_DELAY_S, collect_ended_sessions)


def collect_ended_sessions() -> int:
    """Unfreeze, collect everything, freeze what is left; returns the objects freed."""
    _Collection.handle = None
    gc.unfreeze()
    freed = gc.collect()
    gc.freeze()
    return freed
