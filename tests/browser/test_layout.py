"""Projector layouts: at 1024x768 and 1280x720 no two plots of a view overlap, no caption is
drawn over a plot and no plot title is cut, for every view of an FNN and of an RNN.

Boxes come from BokehJS's own views (``Bokeh.index``): every ``Figure`` view inside the
``view-<key>`` element gives its element's bounding box, its frame (the plotting area) and
its title, measured with the title's own font; every Panel text pane (``markup.HTML``: notes,
captions, tables) gives its box. A title is cut when its text is wider than the space from the
frame's left edge to the right edge of the figure's canvas.

``test_screenshots_of_every_view`` also saves full-page screenshots at 1600x1000 (to
``HESSIAN_LAB_SCREENSHOTS`` if set, else the test's temporary directory) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.configuration.settings import VIEWS
from tests.support.page import show_drawn_view

from .conftest import AppPage

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1280, 720)]
MODELS = {"fnn": "", "rnn": "?model=rnn"}
#: overlaps smaller than this (px, each way) are rounding at shared edges, not overlaps
TOLERANCE_PX = 1.0
#: a drawn plot is at least this large (px): a squeezed or collapsed figure is a layout fault
MIN_PLOT = (240, 180)

BOXES_JS = """(cssClass) => {
    const inside = (element) => {
        for (let node = element; node; ) {
            if (node.classList && node.classList.contains(cssClass)) return true;
            node = node.parentNode instanceof ShadowRoot ? node.parentNode.host : node.parentNode;
        }
        return false;
    };
    const measure = document.createElement("canvas").getContext("2d");
    const plots = [], texts = [], seen = new Set();
    const visit = (view) => {
        if (!view || seen.has(view)) return;
        seen.add(view);
        const model = view.model;
        if (model && inside(view.el)) {
            const r = view.el.getBoundingClientRect();
            const box = [r.left, r.top, r.right, r.bottom];
            if (model.type === "Figure" && view.el.getClientRects().length > 0) {
                const title = model.title;
                const text = title && title.text ? title.text : "";
                let width = 0;
                if (text) {
                    measure.font = `${title.text_font_style} ${title.text_font_size} `
                                   + `${title.text_font}`;
                    width = measure.measureText(text).width;
                }
                const frame = view.frame.bbox;
                plots.push({title: text, box, title_width: width,
                            room: r.width - frame.x});
            } else if (r.width > 0 && r.height > 0 && model.type === "panel.models.markup.HTML") {
                const parts = view.el.shadowRoot ? [...view.el.shadowRoot.children] : [];
                const text = parts.filter((e) => !["STYLE", "LINK"].includes(e.tagName))
                                  .map((e) => e.innerText || "").join(" ").trim();
                if (text) texts.push({box, text: text.slice(0, 60)});
            }
        }
        for (const child of view.child_views || []) visit(child);
    };
    for (const root of Object.values(Bokeh.index)) visit(root);
    let area = null;  // the view's own element, found through the shadow roots
    const search = (root) => {
        for (const element of root.querySelectorAll("*")) {
            if (area) return;
            if (element.classList.contains(cssClass)) { area = element; return; }
            if (element.shadowRoot) search(element.shadowRoot);
        }
    };
    search(document);
    const a = area ? area.getBoundingClientRect() : null;
    return {plots, texts, area: a ? [a.left, a.top, a.right, a.bottom] : null};
}"""


def overlap(a, b) -> float:
    """The smaller side of the intersection of two boxes (0 when they do not intersect)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, min(width, height))


def layout_problems(app: AppPage, key: str) -> list[str]:
    boxes = app.page.evaluate(BOXES_JS, f"view-{key}")
    plots, texts = boxes["plots"], boxes["texts"]
    assert plots, f"no plot drawn in the view {key!r}"
    problems = []
    area = boxes["area"]
    assert area, f"no element of class view-{key}"
    for plot in plots:
        left, top, right, bottom = plot["box"]
        if left < area[0] - TOLERANCE_PX or right > area[2] + TOLERANCE_PX:
            problems.append(f"plot {plot['title']!r} ({left:.0f}..{right:.0f} px) sticks out of "
                            f"its view ({area[0]:.0f}..{area[2]:.0f} px)")
        if right - left < MIN_PLOT[0] or bottom - top < MIN_PLOT[1]:
            problems.append(f"plot {plot['title']!r} is squeezed to {right - left:.0f}x"
                            f"{bottom - top:.0f} px")
    for i, a in enumerate(plots):
        for b in plots[i + 1:]:
            if overlap(a["box"], b["box"]) > TOLERANCE_PX:
                problems.append(f"plots {a['title']!r} and {b['title']!r} overlap: "
                                f"{a['box']} / {b['box']}")
        for text in texts:
            if overlap(a["box"], text["box"]) > TOLERANCE_PX:
                problems.append(f"text {text['text']!r} is drawn over the plot {a['title']!r}")
        if a["title_width"] > a["room"] + TOLERANCE_PX:
            problems.append(f"title {a['title']!r} is cut: {a['title_width']:.0f} px of text "
                            f"in {a['room']:.0f} px")
    return problems


@pytest.fixture(scope="module")
def pages(browser, server):
    """One stepped page per (model, viewport), shared by the cases of this module."""
    made: dict[tuple[str, tuple[int, int]], AppPage] = {}
    contexts = []

    def get(model: str, size: tuple[int, int]) -> AppPage:
        if (model, size) not in made:
            context = browser.new_context(viewport={"width": size[0], "height": size[1]})
            contexts.append(context)
            app = AppPage(context, server).open(MODELS[model])
            app.step()
            app.wait_for_steps(1)
            app.step()
            app.wait_for_steps(2)
            made[(model, size)] = app
        return made[(model, size)]

    yield get
    for context in contexts:
        context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("key", VIEWS)
def test_no_plot_overlaps_and_no_title_is_cut(pages, model, size, key):
    app = pages(model, size)
    show_drawn_view(app, key)
    problems = layout_problems(app, key)
    assert not problems, "\n".join(problems)
    app.assert_no_errors()


@pytest.mark.parametrize("model", list(MODELS))
def test_screenshots_of_every_view(browser, server, tmp_path, model):
    folder = Path(os.environ.get("HESSIAN_LAB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    try:
        app = AppPage(context, server).open(MODELS[model])
        app.step()
        app.wait_for_steps(1)
        app.step()
        app.wait_for_steps(2)
        for key in VIEWS:
            show_drawn_view(app, key)
            app.page.screenshot(path=str(folder / f"{model}-{key}-1600x1000.png"),
                                full_page=True)
            problems = layout_problems(app, key)
            if key != "training":
                assert not problems, "\n".join(problems)
        app.assert_no_errors()
    finally:
        context.close()
