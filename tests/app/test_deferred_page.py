"""app/page/deferred_page.py without a server: Panel's ``onload`` calls back at once, so the page
is built at once (a served page's build after its load: tests/test_plain_get.py)."""

from __future__ import annotations

import panel as pn

from app.page.deferred_page import FAILED_TEXT, LOADING_CLASS, built_on_load, loading_text


def test_the_loading_text_says_so():
    text = loading_text()
    assert "Loading" in text.object and LOADING_CLASS in text.css_classes


def test_the_built_objects_replace_the_loading_text_above_what_stays_below():
    below = pn.pane.HTML("worker w1")
    order = []
    built = pn.pane.HTML("the dashboard")

    def build():
        order.append("build")
        return [built]

    page = built_on_load(build, [below], then=lambda: order.append("then"))
    assert page.objects == [built, below]
    assert order == ["build", "then"]  # then() runs once the built objects are in the page


def test_a_build_that_fails_says_so_in_place_of_loading_and_goes_on_to_panel():
    below = pn.pane.HTML("worker w1")
    errors = []

    def build():
        raise ValueError("no dashboard")

    # Panel hands an onload callback's error to its exception handler (else raises it)
    with pn.config.set(exception_handler=errors.append):
        page = built_on_load(build, [below], then=lambda: errors.append("then"))
    assert [str(error) for error in errors] == ["no dashboard"]  # then() not called
    failed, kept = page.objects
    assert FAILED_TEXT in failed.object and kept is below
