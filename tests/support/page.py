"""What the browser tests of the served page do alike, beside ``tests/browser/conftest.py``'s
``AppPage``: Playwright's ``expect`` (its import skips the importing test module where
Playwright is missing, and fails it in CI, as the ``browser`` fixture does), the settings the
page's address holds, a reload that waits for the page as ``AppPage.open`` does, and a view
shown with its plots drawn and laid out.

    from tests.support.page import address, expect, reload

    app = open_app("?view=rank")
    expect(app.page.locator(".view-tabs .bk-tab.bk-active")).to_have_text("Gradient rank")
    assert address(app)["view"] == ["rank"]
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
#: how long a page may take to load and draw its step counter (ms), as ``AppPage.open``
LOAD_MS = 60_000
#: the wait after a view's plots are drawn, for the layout to settle after the last patch (ms)
SETTLE_MS = 500

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture says why: a failure in CI, a skip elsewhere
    if IN_CI:
        raise
    pytest.skip("the Python package playwright is not installed", allow_module_level=True)

__all__ = ["LOAD_MS", "SETTLE_MS", "address", "expect", "reload", "show_drawn_view"]


def address(app) -> dict[str, list[str]]:
    """The query of the page's address, parsed: each name with its values in order."""
    return parse_qs(app.page.evaluate("() => window.location.search").lstrip("?"))


def reload(app, timeout_ms: int = LOAD_MS) -> None:
    """Reload the page and wait until its step counter is drawn (the new session's document
    has arrived over the websocket)."""
    app.page.reload(wait_until="load", timeout=timeout_ms)
    app.counter_locator.wait_for(state="visible", timeout=timeout_ms)


def show_drawn_view(app, key: str) -> None:
    """Show the view ``key`` and wait until a plot of it is drawn and the layout settled."""
    app.show_view(key)
    app.wait_for_drawn_view(key)
    app.page.wait_for_timeout(SETTLE_MS)
