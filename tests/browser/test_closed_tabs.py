"""A tab closed while it trains is normal: the server's log holds no traceback for it.

One served process (``make serve``, Bokeh destroying a closed session within a second);
tabs are opened, set playing and closed mid-play, some together; once the server has
destroyed every closed session, its log has no traceback (no "Task exception was never
retrieved", no ``WebSocketClosedError`` or ``StreamClosedError`` of a frame written to a
closed websocket).
"""

from __future__ import annotations

import time

import pytest

from serve.churn import discarded, served_for_churn
from tests.browser.conftest import AppPage

pytestmark = pytest.mark.browser

ROUNDS = 3  # each: TABS tabs opened, set playing, closed together
TABS = 2
DESTROY_TIMEOUT_S = 60.0


@pytest.fixture
def served(tmp_path):
    with served_for_churn(tmp_path / "server.log") as served:
        yield served


def test_tabs_closed_mid_play_leave_no_traceback(browser, served):
    closed = 0
    for _ in range(ROUNDS):
        pages = []
        for _ in range(TABS):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            pages.append(AppPage(context, served.url).open())
        for page in pages:
            page.play()
        for page in pages:
            page.wait_for_steps(1)
        for page in pages:
            page.context.close()  # mid-play: frames are on their way
        closed += TABS
    deadline = time.monotonic() + DESTROY_TIMEOUT_S
    while discarded(served) < closed:
        assert time.monotonic() < deadline, (
            f"{discarded(served)} of {closed} closed sessions destroyed:\n{served.log_tail()}")
        time.sleep(0.2)
    time.sleep(2.0)  # what the destruction schedules (a collection, cancelled writes)
    log = served.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "exception was never retrieved" not in log, (
        log[-6000:])
