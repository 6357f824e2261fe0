"""On a projector (1024x768): no legend is drawn over data, no text is cut, the decision plot
is square, and the lesson box keeps its equation off the tab bar.

Everything is read from BokehJS's own views (``Bokeh.index``) and the page's elements:

- a legend is outside the frame when it is not in the plot's ``center`` (inside the frame)
  and its box does not intersect the frame's box;
- a text is cut when an element that scrolls or clips (``overflow-x`` auto, scroll or
  hidden) has a ``scrollWidth`` above its ``clientWidth``, or a table reaches past the view;
- a plot is square when its x and y ranges cover the same data per pixel of its frame.
"""

from __future__ import annotations

import pytest

from app.configuration.settings import VIEWS
from tests.support.page import show_drawn_view

from .conftest import AppPage
from .test_layout import BOXES_JS

pytestmark = pytest.mark.browser

PROJECTOR = (1024, 768)
MODELS = {"fnn": "", "rnn": "?model=rnn"}
TOLERANCE_PX = 1.0

LEGENDS_JS = """(cssClass) => {
    const inside = (element) => {
        for (let node = element; node; ) {
            if (node.classList && node.classList.contains(cssClass)) return true;
            node = node.parentNode instanceof ShadowRoot ? node.parentNode.host : node.parentNode;
        }
        return false;
    };
    const found = [], seen = new Set();
    const visit = (view) => {
        if (!view || seen.has(view)) return;
        seen.add(view);
        const model = view.model;
        if (model && model.type === "Figure" && inside(view.el)
                && view.el.getClientRects().length > 0) {
            const frame = view.frame.bbox;
            const title = model.title ? model.title.text : "";
            for (const [renderer, rendererView] of view.renderer_views) {
                if (renderer.type !== "Legend" || !renderer.visible) continue;
                const items = renderer.items.filter((item) => item.visible);
                if (!items.length) continue;
                const box = rendererView.bbox;
                found.push({
                    title,
                    labels: items.map((item) => String(item.label && item.label.value
                                                       || item.label && item.label.field || "")),
                    in_center: model.center.includes(renderer),
                    box: box ? [box.left, box.top, box.right, box.bottom] : null,
                    frame: [frame.left, frame.top, frame.right, frame.bottom],
                });
            }
        }
        for (const child of view.child_views || []) visit(child);
    };
    for (const root of Object.values(Bokeh.index)) visit(root);
    return found;
}"""

CUT_TEXT_JS = """(cssClass) => {
    let area = null;
    const search = (root) => {
        for (const element of root.querySelectorAll("*")) {
            if (area) return;
            if (element.classList.contains(cssClass)) { area = element; return; }
            if (element.shadowRoot) search(element.shadowRoot);
        }
    };
    search(document);
    if (!area) return {area: null, cut: []};
    const right = Math.min(area.getBoundingClientRect().right, window.innerWidth);
    const cut = [];
    // Panel draws into shadow roots: a host's text is in its shadow root, not its innerText
    const textOf = (element) => {
        const parts = element.shadowRoot ? [...element.shadowRoot.children] : [element];
        return parts.filter((e) => !["STYLE", "LINK"].includes(e.tagName))
                    .map((e) => e.innerText || "").join(" ").trim().slice(0, 50);
    };
    // text panes (Markdown, HTML: notes, captions, tables) and the text inside them; plots
    // are Bokeh canvases, whose titles test_layout.py measures
    const isText = (element) => element.classList.contains("bk-panel-models-markup-HTML")
        || ["TABLE", "TH", "TD", "P", "H1", "H2", "H3", "LI"].includes(element.tagName);
    const walk = (root) => {
        for (const element of root.querySelectorAll("*")) {
            if (element.shadowRoot) walk(element.shadowRoot);
            if (!element.clientWidth || !element.getClientRects().length) continue;
            const text = textOf(element);
            const overflow = getComputedStyle(element).overflowX;
            if (isText(element) && ["auto", "scroll", "hidden"].includes(overflow) && text
                    && element.scrollWidth > element.clientWidth + 1) {
                cut.push(`${element.tagName} ${element.scrollWidth} > ${element.clientWidth} px:`
                         + ` ${text}`);
            }
            if (element.tagName === "TABLE"
                    && element.getBoundingClientRect().right > right + 1) {
                cut.push(`table reaches ${element.getBoundingClientRect().right} px past the`
                         + ` view's ${right} px: ${text}`);
            }
        }
    };
    walk(area.shadowRoot || area);
    return {area: true, cut};
}"""

ASPECT_JS = """(titleStart) => {
    const found = [], seen = new Set();
    const visit = (view) => {
        if (!view || seen.has(view)) return;
        seen.add(view);
        const model = view.model;
        if (model && model.type === "Figure" && model.title
                && model.title.text.startsWith(titleStart) && view.el.getClientRects().length) {
            const frame = view.frame.bbox;
            found.push({
                x: (model.x_range.end - model.x_range.start) / frame.width,
                y: (model.y_range.end - model.y_range.start) / frame.height,
                frame: [frame.width, frame.height],
            });
        }
        for (const child of view.child_views || []) visit(child);
    };
    for (const root of Object.values(Bokeh.index)) visit(root);
    return found;
}"""


def intersects(a, b) -> bool:
    return (min(a[2], b[2]) - max(a[0], b[0]) > TOLERANCE_PX
            and min(a[3], b[3]) - max(a[1], b[1]) > TOLERANCE_PX)


@pytest.fixture(scope="module")
def projector(browser, server):
    """One page per model at 1024x768, shared by the cases of this module."""
    made: dict[str, AppPage] = {}
    contexts = []

    def get(model: str) -> AppPage:
        if model not in made:
            context = browser.new_context(viewport={"width": PROJECTOR[0],
                                                    "height": PROJECTOR[1]})
            contexts.append(context)
            made[model] = AppPage(context, server).open(MODELS[model])
        return made[model]

    yield get
    for context in contexts:
        context.close()


@pytest.mark.parametrize("model", list(MODELS))
def test_every_legend_is_outside_its_plot_frame(projector, model):
    app = projector(model)
    problems, legends = [], 0
    for key in VIEWS:
        show_drawn_view(app, key)
        for legend in app.page.evaluate(LEGENDS_JS, f"view-{key}"):
            legends += 1
            where = f"{key}: legend {legend['labels']} of {legend['title']!r}"
            if legend["in_center"]:
                problems.append(f"{where} is placed inside the frame")
            if legend["box"] and intersects(legend["box"], legend["frame"]):
                problems.append(f"{where} {legend['box']} covers the frame {legend['frame']}")
    assert legends >= len(VIEWS) // 2, f"only {legends} legends found: the probe is broken"
    assert not problems, "\n".join(problems)
    app.assert_no_errors()


@pytest.mark.parametrize("model", list(MODELS))
def test_no_text_is_cut_at_1024(projector, model):
    app = projector(model)
    problems = []
    for key in VIEWS:
        show_drawn_view(app, key)
        found = app.page.evaluate(CUT_TEXT_JS, f"view-{key}")
        assert found["area"], f"no element of class view-{key}"
        problems += [f"{key}: {cut}" for cut in found["cut"]]
        # plot titles are drawn on the canvas: measured with their own font
        for plot in app.page.evaluate(BOXES_JS, f"view-{key}")["plots"]:
            if plot["title_width"] > plot["room"] + TOLERANCE_PX:
                problems.append(f"{key}: title {plot['title']!r} is cut: "
                                f"{plot['title_width']:.0f} px in {plot['room']:.0f} px")
    assert not problems, "\n".join(problems)


def test_decision_plot_is_square(projector):
    app = projector("fnn")
    show_drawn_view(app, "training")
    plots = app.page.evaluate(ASPECT_JS, "decision boundary")
    assert plots, "no decision-boundary plot drawn"
    for plot in plots:
        assert plot["x"] == pytest.approx(plot["y"], rel=0.02), (
            f"x {plot['x']:.5f} vs y {plot['y']:.5f} data per pixel in a frame of "
            f"{plot['frame']} px: circles are drawn as ellipses")


def test_lesson_equation_keeps_off_the_tab_bar(open_app):
    app = open_app("?lesson=rank-1", viewport=PROJECTOR)
    gap = app.page.evaluate("""() => {
        const find = (root, cls) => {
            for (const element of root.querySelectorAll("*")) {
                if (element.classList.contains(cls)) return element;
                if (element.shadowRoot) {
                    const inner = find(element.shadowRoot, cls);
                    if (inner) return inner;
                }
            }
            return null;
        };
        const equation = find(document, "lesson-equation");
        const tabs = find(document, "view-tabs");
        if (!equation || !tabs) return null;
        const header = tabs.shadowRoot ? tabs.shadowRoot.querySelector(".bk-header") : null;
        const top = (header || tabs).getBoundingClientRect().top;
        return top - equation.getBoundingClientRect().bottom;
    }""")
    assert gap is not None, "no lesson equation or tab bar found"
    assert gap >= 8, f"the lesson equation ends {gap:.0f} px above the tab bar"


WAITING_JS = """() => {
    let shown = 0;
    for (const doc of Bokeh.documents) {
        for (const model of doc.all_models) {
            if (model.type === "Label" && model.visible && String(model.text).includes("Step"))
                shown += 1;
        }
    }
    return shown;
}"""


def test_empty_curves_say_what_will_appear_until_the_first_step(open_app):
    app = open_app("?lesson=meprop", viewport=PROJECTOR)
    app.wait_for_drawn_view("sparse")
    app.wait_until(lambda: app.page.evaluate(WAITING_JS) == 2,
                   "a line in both empty curve plots saying what will appear")
    app.step()
    app.wait_for_steps(1)
    app.wait_until(lambda: app.page.evaluate(WAITING_JS) == 0,
                   "the lines to go once the curves have their first step")
    app.assert_no_errors()
