"""Lines changed while training runs resize nothing in the page (app/views/live_text.py).

A component whose size changes makes BokehJS lay its view out again (Panel's resize
observers), some 10-16 ms of the page's main thread each time. The metrics summary above the
training view's loss and accuracy plots changes its text twice a second while training runs,
to texts of different lengths: it is as wide as its column, so none of these changes resizes
it. This counts, with a ResizeObserver wrapped before the page is built, the resizes of the
summary reported to BokehJS and Panel while it changes.
"""

from __future__ import annotations

import pytest

from .conftest import ROUND_TRIP_MS, AppPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: before any page script: count the resizes reported for elements with the class
COUNT_RESIZES_JS = """
window.__resizes = {};
const Observer = window.ResizeObserver;
window.ResizeObserver = class extends Observer {
    constructor(callback) {
        super((entries, observer) => {
            for (const entry of entries) {
                for (const name of entry.target.classList || []) {
                    window.__resizes[name] = (window.__resizes[name] || 0) + 1;
                }
            }
            return callback(entries, observer);
        });
    }
};
"""

#: the summary's texts seen so far, recorded at each change
WATCH_SUMMARY_JS = """(host) => {
    window.__summaries = [host.shadowRoot.textContent];
    new MutationObserver(() => window.__summaries.push(host.shadowRoot.textContent))
        .observe(host.shadowRoot, {subtree: true, childList: true, characterData: true});
}"""


def test_the_metrics_summary_changes_without_resizing(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        context.add_init_script(COUNT_RESIZES_JS)
        app = AppPage(context, server).open()
        summary = app.page.locator(".metrics-summary").first
        summary.wait_for(state="visible")
        app.play()
        app.wait_for_steps(10)
        app.page.wait_for_timeout(1000)  # the first texts laid out
        before = app.page.evaluate("window.__resizes['metrics-summary'] || 0")
        app.page.evaluate(WATCH_SUMMARY_JS, summary.element_handle())
        app.page.wait_for_function("window.__summaries.length > 4", timeout=ROUND_TRIP_MS)
        texts = app.page.evaluate("window.__summaries")
        after = app.page.evaluate("window.__resizes['metrics-summary'] || 0")
        app.assert_no_errors()
    finally:
        context.close()
    assert len(set(texts)) > 3, texts  # the text did change
    assert after == before, f"{after - before} resizes while the text changed: {texts}"
