"""Garbage collection in a server process while a class arrives.

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
was made since the last session was built. When a session ends, everything is unfrozen
(``gc.unfreeze``) and the next full collection frees the closed session's reference cycles as
before. What a live session drops after it was frozen (its first views, after the model is
rebuilt) waits for the end of some session, or the next unfreeze, to be freed.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bokeh.document import Document
    from bokeh.server.contexts import BokehSessionContext


def freeze_built_session(document: Document) -> None:
    """Freeze the objects made so far, once ``document``'s session is built, and unfreeze them
    all when that session is destroyed (``document.on_session_destroyed``)."""
    gc.collect(1)
    gc.freeze()
    document.on_session_destroyed(unfreeze)


def unfreeze(session_context: BokehSessionContext | None) -> None:
    """Let the next full collection scan every object again (``session_context``'s session
    ended)."""
    gc.unfreeze()
