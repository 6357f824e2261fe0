"""What a lesson points at is on the screen, and the page fits a projector, a big screen and a
phone (issue "made for a projector").

- Every lesson opened by its link at 1024x768 (a projector) and 1600x1000: its *subject*, the
  plot or image its "Look at" line names (one element, by its CSS class), lies inside the
  window without scrolling, and no element that clips (``overflow`` other than visible)
  cuts it horizontally.
- Every tab title is visible and clickable at 1024x768 (none runs off the right edge).
- On a short window the lesson's explanation is folded away behind a visible toggle that
  unfolds it.
- On a phone (390x844) the settings panel sits above the views, the page is no wider than the
  window and every tab can be clicked.
- The sidebar's cards have the same width and room for their shadows, and the input-feature
  buttons lie inside their card.
"""

from __future__ import annotations

import pytest

from app.configuration.lessons import LESSONS
from app.configuration.settings import VIEW_TITLES, VIEWS
from app.page import viewport

from .conftest import AppPage

pytestmark = pytest.mark.browser

PROJECTOR = (1024, 768)
BIG_SCREEN = (1600, 1000)
PHONE = (390, 844)
TOLERANCE_PX = 1.0
#: each lesson's subject: the CSS class of the element its "Look at" line points at
SUBJECTS = {
    "rank-1": "rank-singular-values",
    "rank-r": "rank-singular-values",
    "rank-t": "rank-singular-values",
    "rank-rt": "rank-singular-values",
    "kronecker": "kronecker-factors",
    "relu-masks": "mask-levels",
    "eq46": "spectrum-plot",
    "rnn-hessian": "kronecker-factors",
    "weyl": "spectrum-plot",
    "errata": "errata-bars",
    "meprop": "sparse-cosine",
    "truncated-bptt": "sparse-singular-values",
    "softmax-hessian": "spectrum-plot",
    "weight-decay": "spectrum-plot",
    "edge-of-stability": "sharpness-plot",
}

#: the first element of a CSS class (through shadow roots): its box, the window's size, and
#: the boxes of the elements above it that clip what overflows them
PLACE_JS = """(cssClass) => {
    const find = (root) => {
        for (const element of root.querySelectorAll("*")) {
            if (element.classList.contains(cssClass) && element.getClientRects().length)
                return element;
            if (element.shadowRoot) {
                const inner = find(element.shadowRoot);
                if (inner) return inner;
            }
        }
        return null;
    };
    const element = find(document);
    if (!element) return null;
    const box = (e) => { const r = e.getBoundingClientRect();
                         return [r.left, r.top, r.right, r.bottom]; };
    const clips = [];
    for (let node = element.parentNode; node; ) {
        if (node instanceof ShadowRoot) { node = node.host; continue; }
        if (node.nodeType !== 1) break;
        const overflow = getComputedStyle(node).overflowX;
        if (overflow !== "visible")
            clips.push({what: `${node.tagName}.${node.className}`, box: box(node)});
        node = node.parentNode;
    }
    return {box: box(element), window: [window.innerWidth, window.innerHeight],
            scrolled: [window.scrollX, window.scrollY], clips};
}"""


def place(app: AppPage, css_class: str) -> dict:
    found = app.page.evaluate(PLACE_JS, css_class)
    assert found, f"no element of class {css_class!r} is shown"
    return found


def off_screen(found: dict) -> list[str]:
    """Where the element is cut by the window or by an element that clips it."""
    left, top, right, bottom = found["box"]
    width, height = found["window"]
    problems = []
    if right - left < 50 or bottom - top < 50:
        problems.append(f"it is only {right - left:.0f}x{bottom - top:.0f} px")
    if left < -TOLERANCE_PX or right > width + TOLERANCE_PX:
        problems.append(f"x {left:.0f}..{right:.0f} px is outside the window's {width} px")
    if top < -TOLERANCE_PX or bottom > height + TOLERANCE_PX:
        problems.append(f"y {top:.0f}..{bottom:.0f} px is outside the window's {height} px "
                        "(below the fold)")
    for clip in found["clips"]:
        c_left, _, c_right, _ = clip["box"]
        if left < c_left - TOLERANCE_PX or right > c_right + TOLERANCE_PX:
            problems.append(f"{clip['what']} ({c_left:.0f}..{c_right:.0f} px) cuts its "
                            f"x {left:.0f}..{right:.0f} px")
    return problems


@pytest.mark.parametrize("size", [PROJECTOR, BIG_SCREEN], ids=["1024x768", "1600x1000"])
def test_every_lessons_subject_is_on_screen_without_scrolling(browser, server, size):
    assert set(SUBJECTS) == {lesson.key for lesson in LESSONS}, "a lesson without a subject"
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    problems = []
    try:
        for lesson in LESSONS:
            app = AppPage(context, server).open(f"?lesson={lesson.key}")
            view = lesson.settings["view"]
            app.wait_for_drawn_view(view)
            app.page.wait_for_timeout(500)  # the layout settles after the last patch
            found = app.page.evaluate(PLACE_JS, SUBJECTS[lesson.key])
            if not found:
                problems.append(f"{lesson.key}: no element of class {SUBJECTS[lesson.key]!r}")
                continue
            assert found["scrolled"] == [0, 0], found["scrolled"]
            problems += [f"{lesson.key}: {SUBJECTS[lesson.key]}: {problem}"
                         for problem in off_screen(found)]
            app.assert_no_errors()
            app.page.close()
    finally:
        context.close()
    assert not problems, "\n".join(problems)


TABS_JS = """() => {
    const found = [];
    const walk = (root) => {
        for (const element of root.querySelectorAll("*")) {
            if (element.classList.contains("bk-tab")) {
                const r = element.getBoundingClientRect();
                // what the browser would click at the tab's centre
                const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
                let hit = element.getRootNode().elementFromPoint(x, y);
                found.push({text: element.innerText.trim(), box: [r.left, r.top, r.right, r.bottom],
                            hit: hit === element || element.contains(hit)});
            }
            if (element.shadowRoot) walk(element.shadowRoot);
        }
    };
    walk(document);
    return {tabs: found, window: [window.innerWidth, window.innerHeight]};
}"""


def assert_every_tab_clickable(app: AppPage) -> None:
    found = app.page.evaluate(TABS_JS)
    width = found["window"][0]
    titles = [tab["text"] for tab in found["tabs"]]
    assert titles == [VIEW_TITLES[key] for key in VIEWS], titles
    for tab in found["tabs"]:
        left, _, right, _ = tab["box"]
        assert left >= -TOLERANCE_PX and right <= width + TOLERANCE_PX, (
            f"tab {tab['text']!r} spans x {left:.0f}..{right:.0f} px in a {width} px window")
        assert tab["hit"], f"tab {tab['text']!r} is covered: a click would not reach it"
    # and a click on the last one shows its view
    last = VIEWS[-1]
    app.show_view(last)
    app.wait_for_drawn_view(last)


def test_every_tab_is_visible_and_clickable_at_1024(open_app):
    app = open_app(viewport=PROJECTOR)
    assert_every_tab_clickable(app)
    app.assert_no_errors()


def test_a_short_window_folds_the_lesson_text_behind_a_toggle(open_app):
    lesson = LESSONS[0]
    app = open_app(f"?lesson={lesson.key}", viewport=PROJECTOR)
    text = app.page.locator(".lesson-text").first
    toggle = app.page.locator(".lesson-toggle button").first
    look = app.page.locator(".lesson-look div").first
    # a pane the page adds once it has loaded is shown as soon as its styles apply
    app.wait_until(lambda: look.is_visible(), "the Look-at line to show")
    assert "Look at:" in look.inner_text()
    assert not text.is_visible(), "the explanation is shown on a 768 px high window"
    assert toggle.is_visible()
    toggle.click()
    app.wait_until(lambda: text.is_visible(), "the toggle to unfold the explanation")
    shown = app.page.locator(".lesson-text div").first.inner_text()
    assert lesson.explanation.split("**")[0][:30] in shown, shown
    toggle.click()
    app.wait_until(lambda: not text.is_visible(), "the toggle to fold the explanation again")
    app.assert_no_errors()
    # on a tall window everything is shown and there is nothing to toggle
    tall = open_app(f"?lesson={lesson.key}", viewport=BIG_SCREEN)
    assert tall.page.locator(".lesson-text").first.is_visible()
    assert not tall.page.locator(".lesson-toggle button").first.is_visible()


PAGE_JS = """() => {
    const find = (root, cls) => {
        for (const element of root.querySelectorAll("*")) {
            if (element.classList.contains(cls)) return element;
            if (element.shadowRoot) { const inner = find(element.shadowRoot, cls);
                                      if (inner) return inner; }
        }
        return null;
    };
    const box = (e) => { const r = e.getBoundingClientRect();
                         return [r.left, r.top, r.right, r.bottom]; };
    return {page: document.documentElement.scrollWidth, window: window.innerWidth,
            sidebar: box(find(document, "sidebar")), tabs: box(find(document, "view-tabs"))};
}"""


@pytest.mark.parametrize("phone", [False, True], ids=["narrow-window", "phone-browser"])
def test_on_a_phone_the_settings_fold_above_the_views(open_app, phone):
    """In a 390 px window, and in a phone's browser, which lays out a page without a viewport
    tag 980 px wide and zooms it down (app/page/viewport.py)."""
    app = open_app(viewport=PHONE, phone=phone)
    found = app.page.evaluate(PAGE_JS)
    assert found["window"] == PHONE[0], (
        f"the page is laid out {found['window']} px wide on a {PHONE[0]} px screen")
    assert app.page.evaluate(
        "() => document.querySelector('meta[name=viewport]')?.content") == viewport.CONTENT
    assert found["page"] <= found["window"], (
        f"the page is {found['page']} px wide in a {found['window']} px window")
    sidebar, tabs = found["sidebar"], found["tabs"]
    assert sidebar[2] <= found["window"] + TOLERANCE_PX, f"settings panel at {sidebar}"
    assert tabs[1] >= sidebar[3] - TOLERANCE_PX, (
        f"the views (top {tabs[1]:.0f} px) are beside the settings (bottom {sidebar[3]:.0f} px)")
    app.page.locator(".view-tabs").first.scroll_into_view_if_needed()
    assert_every_tab_clickable_on_screen(app)
    app.assert_no_errors()


def assert_every_tab_clickable_on_screen(app: AppPage) -> None:
    """Each tab inside the window's width; a click on each shows its view."""
    found = app.page.evaluate(TABS_JS)
    width = found["window"][0]
    for tab in found["tabs"]:
        left, _, right, _ = tab["box"]
        assert left >= -TOLERANCE_PX and right <= width + TOLERANCE_PX, (
            f"tab {tab['text']!r} spans x {left:.0f}..{right:.0f} px in a {width} px window")
    for key in ("whole", "rank"):
        app.show_view(key)
        app.wait_for_drawn_view(key)


CARDS_JS = """() => {
    const all = [];
    const walk = (root) => {
        for (const element of root.querySelectorAll("*")) {
            all.push(element);
            if (element.shadowRoot) walk(element.shadowRoot);
        }
    };
    walk(document);
    const box = (e) => { const r = e.getBoundingClientRect();
                         return [r.left, r.top, r.right, r.bottom]; };
    const sidebar = all.find((e) => e.classList.contains("sidebar"));
    const cards = all.filter((e) => typeof e.className === "string"
                                     && e.className.includes("models-layout-Card")
                                     && e.getClientRects().length)
                     .map((e) => ({box: box(e)}));
    const card = all.find((e) => e.classList.contains("classification-card"));
    const group = all.find((e) => e.classList.contains("feature-choice"));
    const buttons = [...group.shadowRoot.querySelectorAll("button")].map(box);
    return {sidebar: box(sidebar), cards, card: box(card), buttons};
}"""


def test_sidebar_cards_are_even_and_hold_their_buttons(open_app):
    app = open_app("?dataset=circles")
    app.page.locator(".feature-choice").first.scroll_into_view_if_needed()
    found = app.page.evaluate(CARDS_JS)
    cards, sidebar = found["cards"], found["sidebar"]
    assert len(cards) >= 5, cards
    widths = {round(card["box"][2] - card["box"][0]) for card in cards}
    assert len(widths) == 1, f"cards of widths {sorted(widths)} px"
    for card in cards:
        # room for the shadow on both sides, inside the sidebar and the window
        assert card["box"][0] >= sidebar[0] + 4 and card["box"][0] >= 4, (card, sidebar)
        assert card["box"][2] <= sidebar[2] - 4, (card, sidebar)
    left, top, right, bottom = found["card"]
    assert len(found["buttons"]) == 7
    for button in found["buttons"]:
        assert (button[0] >= left - TOLERANCE_PX and button[2] <= right + TOLERANCE_PX
                and button[1] >= top - TOLERANCE_PX and button[3] <= bottom + TOLERANCE_PX), (
            f"a feature button at {button} sticks out of its card {found['card']}")
    app.assert_no_errors()
