"""The BokehJS shims of app/page/browser_shims.py in a served page: applied, and exact here.

The shim of the visuals' CSS variables answers "none set" without asking the page's style.
That is exact only while no stylesheet of the page sets a ``--bk-*`` variable of a visual; the
shim of a plot's font size answers with the first of a task, exact only while nothing changes
it. The last test serves the app without the shims (``HESSIAN_LAB_BROWSER_SHIMS=off``), wraps
BokehJS's own code before the page is built, plays, opens every view and checks that the
lookups happened, every CSS variable looked up was unset, and every plot's font size was
always the same. With ``HESSIAN_LAB_FAST_PATHS=off`` (or the shims off) in this run's
environment the ``server`` fixture serves the page without them, and the first tests check
that instead. Each shim on its own: ``test_browser_shims_guarded.py``.
"""

from __future__ import annotations

import urllib.request

import pytest

from app import compat
from app.configuration.settings import VIEWS
from app.page import browser_shims
from serve.launch import Served

from .conftest import AppPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: before any page script: wrap BokehJS's lookup, once it is loaded, to record its answers
RECORD_LOOKUPS_JS = """
window.__lookups = {count: 0, found: {}, font_reads: 0, fonts: {}};
const wrap = setInterval(() => {
    if (!(window.Bokeh && Bokeh.require)) return;
    clearInterval(wrap);
    const visuals = Bokeh.require("core/visuals/visual").VisualProperties.prototype;
    const original = visuals._get_css_value;
    visuals._get_css_value = function (name) {
        const value = original.call(this, name);
        window.__lookups.count++;
        if (value !== "") window.__lookups.found[this.css_prefix + name] = value;
        return value;
    };
    const plots = Bokeh.require("models/plots/plot_canvas").PlotView.prototype;
    const read = Object.getOwnPropertyDescriptor(plots, "base_font_size").get;
    Object.defineProperty(plots, "base_font_size", {configurable: true, get() {
        const value = read.call(this);
        window.__lookups.font_reads++;
        const seen = window.__lookups.fonts[this.model.id] ??= [];
        if (!seen.includes(value)) seen.push(value);
        return value;
    }});
}, 1);
"""


def served_with_shims() -> bool:
    """Whether the ``server`` fixture (this process's environment) serves the shims: not with
    ``HESSIAN_LAB_BROWSER_SHIMS=off`` or ``HESSIAN_LAB_FAST_PATHS=off`` (app.compat)."""
    return browser_shims.enabled() and compat.refresh()


def test_the_page_loads_the_script_after_bokehjs_and_before_its_document(server):
    # so the first drawing goes through the shims too
    with urllib.request.urlopen(f"{server}/app", timeout=30) as response:
        html = response.read().decode()
    if not served_with_shims():
        assert browser_shims.SCRIPT_URL not in html
        return
    shims = html.index(f'src="{browser_shims.SCRIPT_URL}"')
    assert html.index("bokeh.min.js") < shims
    assert shims < html.index("embed_items")
    with urllib.request.urlopen(f"{server}/{browser_shims.SCRIPT_URL}", timeout=30) as response:
        assert response.read().decode() == browser_shims.SCRIPT.read_text()


def test_the_page_applies_every_shim(browser, server):
    context = browser.new_context()
    try:
        app = AppPage(context, server).open()
        if served_with_shims():
            app.page.wait_for_function("window.hessianLabShims !== undefined")
            assert app.page.evaluate("window.hessianLabShims") == [
                "visual-css-variables", "unchanged-stylesheets", "plot-font-size-per-task"]
            assert app.page.evaluate("window.hessianLabShimsFailed") == []
        else:
            assert app.page.evaluate("window.hessianLabShims") is None
        app.play()
        app.wait_for_steps(50)
        app.assert_no_errors()
    finally:
        context.close()


def test_no_css_variable_of_a_visual_is_set_and_no_plot_font_size_changes_in_any_view(browser):
    with Served(env={browser_shims.VARIABLE: "off"}) as served:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            context.add_init_script(RECORD_LOOKUPS_JS)
            app = AppPage(context, served.url).open()
            assert app.page.evaluate("window.hessianLabShims") is None  # served without them
            app.play()
            app.wait_for_steps(20)
            for key in VIEWS:
                app.show_view(key)
                app.wait_for_drawn_view(key)
            lookups = app.page.evaluate("window.__lookups")
            app.assert_no_errors()
        finally:
            context.close()
    assert lookups["count"] > 1000
    assert lookups["found"] == {}
    assert lookups["font_reads"] > 1000
    assert len(lookups["fonts"]) >= len(VIEWS)  # every view draws at least one plot
    changed = {plot: sizes for plot, sizes in lookups["fonts"].items() if len(sizes) != 1}
    assert changed == {}
