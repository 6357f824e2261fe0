"""Long addresses in a browser: a page at an address of 10 KB trains behind HAProxy (its
websocket request carries the address again in Bokeh's session token, which HAProxy's
default buffers refused), and one of 20 KB shows why it is refused, behind HAProxy and from
a single ``panel serve`` process alike.
"""

from __future__ import annotations

import os
import random
import string
import sys
from pathlib import Path

import pytest

from .conftest import ROUND_TRIP_MS, AppPage, unavailable

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # serve/ runs from the checkout (python -m serve.supervisor)
    sys.path.insert(0, str(ROOT))
from serve.launch import Served  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXPLANATION = "This address is too long (over 16 KB)"


def long_query(length: int) -> str:
    """A query that makes the page's address ``/app?...`` ``length`` bytes long: seeded
    random letters, which Bokeh's token cannot compress (a 10 KB address, a 17 KB token)."""
    letters = random.Random(0).choices(string.ascii_letters, k=length - len("/app?note="))
    return "?note=" + "".join(letters)


@pytest.fixture(scope="module")
def balanced(browser):  # the browser first: without Chromium the test is skipped before serving
    has_haproxy = any(Path(d, "haproxy").exists() for d in [*os.get_exec_path(), "/usr/sbin"])
    if not has_haproxy:
        unavailable("no haproxy executable: install Debian's package "
                    "(sudo apt-get install haproxy)")
    with Served(workers=2) as served:
        yield served


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


def test_a_page_at_a_10_kb_address_trains_behind_haproxy(balanced, context):
    app = AppPage(context, balanced.url).open(long_query(10 * 1024))
    app.page.locator(".play-button button").first.click()
    app.wait_for_steps(3)
    app.assert_no_errors()


def test_a_20_kb_address_says_why_behind_haproxy(balanced, context):
    page = context.new_page()
    response = page.goto(f"{balanced.url}/app{long_query(20 * 1024)}", wait_until="load")
    assert response is not None and response.status == 414
    assert EXPLANATION in page.locator("body").inner_text()


def test_a_20_kb_address_says_why_from_one_process(server, context):
    page = context.new_page()
    page.goto(f"{server}/app{long_query(20 * 1024)}", wait_until="load")
    text = page.locator(".address-too-long div").first
    text.wait_for(state="visible", timeout=ROUND_TRIP_MS)
    assert EXPLANATION in text.inner_text()
    assert page.locator(".play-button").count() == 0
