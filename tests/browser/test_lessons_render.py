"""Every lesson's text and equation, as a student sees them in Chromium.

Each lesson is chosen from the lesson menu of one page; its box must show the title, the
"Look at" line, and the equation typeset by KaTeX: a ``.katex`` element, no
``.katex-error``, and no raw TeX (``$$`` or a backslash command) in the visible text.
"""

from __future__ import annotations

import re

import pytest

from app.configuration.lessons import LESSONS
from tests.support.page import expect

#: the text of an element, through Panel's shadow roots, without the TeX source that KaTeX
#: keeps in a MathML <annotation> (never displayed)
VISIBLE_TEXT_JS = """(host) => {
    const parts = [];
    const walk = (node) => {
        if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
        if (["STYLE", "SCRIPT", "ANNOTATION"].includes((node.tagName || "").toUpperCase())) return;
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const child of node.childNodes || []) walk(child);
    };
    walk(host);
    return parts.join(" ");
}"""
RAW_TEX = re.compile(r"\$\$|\\[A-Za-z]+")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
LOST_BACKSLASH = re.compile(r"ilde|(?<![A-Za-z])(ext|ig)(?![A-Za-z])")


@pytest.mark.browser
def test_every_lesson_equation_renders_with_katex(open_app):
    app = open_app()
    box = app.page.locator(".lesson-box").first
    menu = app.page.locator(".lesson-select select").first
    for lesson in LESSONS:
        menu.select_option(label=lesson.title)
        text = app.wait_until(
            lambda title=lesson.title: title in (seen := box.evaluate(VISIBLE_TEXT_JS)) and seen,
            f"the lesson box to show {lesson.title!r}",
        )
        equation = app.page.locator(".lesson-box .lesson-equation").first
        expect(equation.locator(".katex").first).to_be_attached()
        assert equation.locator(".katex-error").count() == 0, lesson.key
        expect(equation.locator(".katex").first).to_be_visible()
        assert "Look at:" in text, lesson.key
        shown = equation.evaluate(VISIBLE_TEXT_JS)
        # what a lost backslash leaves of \tilde, \text, \big: words in the typeset equation
        assert not LOST_BACKSLASH.search(shown), (lesson.key, shown)
        assert not RAW_TEX.search(text), (lesson.key, RAW_TEX.findall(text))
        assert not CONTROL.search(text), (lesson.key, text)
        app.wait_for_drawn_view(lesson.settings["view"])  # the lesson's view, drawn
        app.screenshot(f"lesson-{lesson.key}")
    app.assert_no_errors()


@pytest.mark.browser
def test_a_link_to_a_lesson_shows_the_lesson(open_app):
    lesson = LESSONS[-2]
    app = open_app(f"?lesson={lesson.key}")
    box = app.page.locator(".lesson-box").first
    app.wait_until(lambda: lesson.title in box.evaluate(VISIBLE_TEXT_JS),
                   "the lesson box of the lesson in the link")
    expect(app.page.locator(".lesson-box .katex").first).to_be_attached()
    app.assert_no_errors()
