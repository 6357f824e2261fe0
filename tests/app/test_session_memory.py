"""Closed sessions give their memory back: one served process (``make serve``), many
sessions opened and closed, and its resident memory grows by much less than a session's
size (no browser; ``serve/churn.py``).

Each session is opened the way a page opens it, over Bokeh's websocket: the server builds
the whole dashboard for it. Once its websocket closes, Bokeh destroys it within a second
(short ``--unused-session-lifetime``), and what it held must be freed. Every closed session
used to stay in memory (some 5 MB each), kept by Panel's notification area of
``disconnect_notification`` and by the garbage collector's freeze of ``app/page/gc_policy.py``.
"""

from __future__ import annotations

import pytest

from serve.churn import open_and_close, served_for_churn, settled_rss_mb

WARM_UP = 5  # sessions opened first: caches, imports and the allocator's pools fill up
SESSIONS = 20
#: the growth allowed per closed session, in MB (a session kept alive is some 5 MB)
BOUND_MB = 1.0


@pytest.fixture
def served(tmp_path):
    with served_for_churn(tmp_path / "server.log") as served:
        yield served


def test_closed_sessions_leave_no_memory_behind(served):
    open_and_close(served, WARM_UP)
    before = settled_rss_mb(served, WARM_UP)
    open_and_close(served, SESSIONS)
    after = settled_rss_mb(served, WARM_UP + SESSIONS)
    per_session = (after - before) / SESSIONS
    assert per_session < BOUND_MB, (
        f"{SESSIONS} sessions opened and closed: resident memory {before:.0f} -> "
        f"{after:.0f} MB, {per_session:.2f} MB a session (bound {BOUND_MB} MB)")
    log = served.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
