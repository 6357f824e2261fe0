"""Sessions opened and closed in one served process, and its resident memory meanwhile, for
tests and benchmarks.

A session is opened the way a page opens it: over Bokeh's websocket, then the
``DocumentReady`` event a page sends once it has rendered its document
(``serve/page_session.py``), which makes the server build the whole dashboard for it, and
closed by closing that websocket. The server (``make serve``, one process, :class:`Served`) runs
with ``--unused-session-lifetime`` and ``--check-unused-sessions`` short, so that Bokeh
destroys a closed session within a second (a class's server keeps one 15 s, checking every
17 s), and logs at debug level, where Bokeh says which sessions it discards.

    with served_for_churn(log_path) as served:
        open_and_close(served, 20)
        print(settled_rss_mb(served, 20))
"""

from __future__ import annotations

import time
from pathlib import Path

from serve.launch import Served, descendants
from serve.page_session import open_page

#: Bokeh's options: destroy a closed session 0.5 s after it closed, look every 0.25 s
CHURN_ARGS = "--unused-session-lifetime 500 --check-unused-sessions 250 --log-level debug"
DISCARDED = "Discarding session"  # Bokeh's debug line for each session it destroys
SETTLE_S = 3.0  # after the last discard: app/page/gc_policy.py collects 1 s after a destruction
DISCARD_TIMEOUT_S = 120.0


def served_for_churn(log_path: Path | None = None,
                     env: dict[str, str] | None = None) -> Served:
    """``make serve`` (one process) with closed sessions destroyed at once."""
    return Served(workers=1, serve_args=CHURN_ARGS, log_path=log_path, env=env)


def panel_pid(served: Served) -> int:
    """The ``panel serve`` process of ``served`` (make runs it as a child)."""
    for pid in descendants(served.process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"panel") for part in command[:2]) and b"serve" in command:
            return pid
    raise RuntimeError(f"no panel serve process under make (pid {served.process.pid})")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def open_and_close(served: Served, count: int) -> None:
    """Open ``count`` sessions one after another as pages open them (the dashboard is built
    once the page has rendered its document: ``serve/page_session.py``), each closed once the
    server built it."""
    for _ in range(count):
        try:
            open_page(served.page_url)
        except (OSError, RuntimeError) as error:
            raise RuntimeError(f"no session at {served.page_url}: {error}\n"
                               f"{served.log_tail()}") from error


def discarded(served: Served) -> int:
    """Sessions Bokeh has destroyed so far (its log says so)."""
    return served.log_path.read_text(errors="replace").count(DISCARDED)


def settled_rss_mb(served: Served, closed: int) -> float:
    """The server's resident memory once ``closed`` sessions were destroyed and collected."""
    deadline = time.monotonic() + DISCARD_TIMEOUT_S
    while discarded(served) < closed:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{discarded(served)} of {closed} closed sessions destroyed "
                               f"after {DISCARD_TIMEOUT_S:.0f} s:\n{served.log_tail()}")
        time.sleep(0.2)
    time.sleep(SETTLE_S)
    return rss_mb(panel_pid(served))
