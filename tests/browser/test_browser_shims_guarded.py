"""The BokehJS shims of app/page/browser_shims.py, each on its own, and a user's CSS variables kept.

The app is served here with the fast paths and the shims on, whatever this run sets (CI runs
the browser tests with ``HESSIAN_LAB_FAST_PATHS=off`` too).

- A shim whose install fails puts back what it replaced, and the others are applied: a
  BokehJS whose ``VisualProperties._get_css_value`` cannot be replaced (made read-only before
  the shims load) leaves the CSS-variable shim out, the page plays without an error.
- The CSS-variable shim answers "none set" only while no stylesheet defines a ``--bk-``
  variable: with a page stylesheet that defines one, BokehJS's own lookup finds its value;
  without one, the shim answers "" even for a variable set on an element's style attribute.
"""

from __future__ import annotations

import pytest

from app import compat
from app.page import browser_shims
from serve.launch import Served

from .conftest import AppPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: before any page script: once BokehJS has run, make the visuals' lookup read-only
READ_ONLY_LOOKUP_JS = """
let bokeh;
Object.defineProperty(window, "Bokeh", {configurable: true, get() { return bokeh; }, set(value) {
    bokeh = value;
    queueMicrotask(() => {  // after BokehJS's script, before the next one (the shims)
        const visuals = bokeh.require("core/visuals/visual").VisualProperties.prototype;
        Object.defineProperty(visuals, "_get_css_value", {value: visuals._get_css_value,
                                                          writable: false});
    });
}});
"""

#: before any page script: a stylesheet of the page that sets a visual's CSS variable
USER_VARIABLE_JS = """
const sheet = new CSSStyleSheet();
sheet.replaceSync(":root { --bk-line-color: rgb(1, 2, 3); }");
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
"""

#: BokehJS's lookup (shimmed or not) of --bk-line-color on the page's root element
LOOKUP_JS = """() => {
    const visuals = Bokeh.require("core/visuals/visual").VisualProperties.prototype;
    return visuals._get_css_value.call({obj: {el: document.documentElement},
                                        css_prefix: "--bk-"}, "line-color").trim();
}"""

ALL_SHIMS = ["visual-css-variables", "unchanged-stylesheets", "plot-font-size-per-task"]


@pytest.fixture(scope="module")
def shimmed():
    """The app served with the fast paths and the shims on; its base URL."""
    with Served(env={compat.VARIABLE: "on", browser_shims.VARIABLE: "on"}) as served:
        yield served.url


def open_page(browser, url: str, init_script: str | None = None):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if init_script:
        context.add_init_script(init_script)
    app = AppPage(context, url).open()
    app.page.wait_for_function("window.hessianLabShims !== undefined")
    return context, app


def test_a_shim_that_cannot_be_installed_leaves_bokehjs_as_it_was_and_the_others_apply(
        browser, shimmed):
    context, app = open_page(browser, shimmed, READ_ONLY_LOOKUP_JS)
    try:
        assert app.page.evaluate("window.hessianLabShimsFailed") == ["visual-css-variables"]
        assert app.page.evaluate("window.hessianLabShims") == ALL_SHIMS[1:]
        app.page.evaluate("document.documentElement.style.setProperty('--bk-line-color', 'red')")
        assert app.page.evaluate(LOOKUP_JS) == "red"  # BokehJS's own lookup, not the shim
        app.play()
        app.wait_for_steps(30)
        app.show_view("spectrum")
        app.wait_for_drawn_view("spectrum")
        app.assert_no_errors()
    finally:
        context.close()


def test_a_page_stylesheet_that_sets_a_bokeh_variable_keeps_it(browser, shimmed):
    context, app = open_page(browser, shimmed, USER_VARIABLE_JS)
    try:
        assert app.page.evaluate("window.hessianLabShims") == ALL_SHIMS
        assert app.page.evaluate(LOOKUP_JS) == "rgb(1, 2, 3)"
        app.play()
        app.wait_for_steps(20)
        app.assert_no_errors()
    finally:
        context.close()


def test_without_such_a_stylesheet_the_shim_answers_none_set(browser, shimmed):
    context, app = open_page(browser, shimmed)
    try:
        assert app.page.evaluate("window.hessianLabShims") == ALL_SHIMS
        assert app.page.evaluate("window.hessianLabShimsFailed") == []
        app.page.evaluate("document.documentElement.style.setProperty('--bk-line-color', 'red')")
        assert app.page.evaluate(LOOKUP_JS) == ""  # (a style attribute is no stylesheet)
    finally:
        context.close()
