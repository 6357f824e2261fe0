"""The class benchmark's reference page trains in Chromium as the benchmark observes it.

``benchmarks/bench_classroom.py`` sets the app's figures beside those of
``benchmarks/reference_page.py``; this serves the reference page the way the benchmark does
(``ReferenceServed``) and checks that Play makes its step counter advance, read with the
benchmark's own pattern, so a broken reference cannot make the app look good.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_classroom import STEP, ReferenceServed
from benchmarks.reference_page import STEPS_PER_FRAME

from .conftest import ROUND_TRIP_MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_reference_page_trains_after_play(browser):
    with ReferenceServed() as served:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(served.page_url, wait_until="load")
            counter = page.locator(".step-counter div").first
            counter.wait_for(state="visible", timeout=ROUND_TRIP_MS)
            assert STEP.search(counter.inner_text()).group(1) == "0"
            page.locator(".play-button button").first.click()
            page.wait_for_function(
                """([host, least]) => {
                    const match = /\\bstep (\\d+)/.exec(host.textContent || "");
                    return match && Number(match[1]) >= least;
                }""",
                arg=[counter.element_handle(), 5 * STEPS_PER_FRAME], timeout=ROUND_TRIP_MS,
            )
            steps = int(STEP.search(counter.inner_text()).group(1))
            assert steps % STEPS_PER_FRAME == 0
        finally:
            context.close()
