"""app.browser_shims: when the page gets the BokehJS shims, and what it is sent."""

from __future__ import annotations

import bokeh
import pytest
from bokeh.document import Document
from bokeh.models import CustomJS

from app import browser_shims


def ready_callbacks(document: Document) -> list[CustomJS]:
    return list(document.callbacks.js_event_callbacks.get("document_ready", []))


def test_on_unless_the_environment_turns_them_off(monkeypatch):
    monkeypatch.delenv(browser_shims.VARIABLE, raising=False)
    assert browser_shims.enabled()
    for value, expected in (("on", True), (" OFF ", False), ("off", False)):
        monkeypatch.setenv(browser_shims.VARIABLE, value)
        assert browser_shims.enabled() is expected


def test_a_value_other_than_on_or_off_is_refused_by_name(monkeypatch):
    monkeypatch.setenv(browser_shims.VARIABLE, "yes")
    with pytest.raises(ValueError, match=r"HESSIAN_LAB_BROWSER_SHIMS must be one of on, off, "
                                         r"not 'yes'"):
        browser_shims.enabled()


def test_install_sends_the_shims_once_the_document_is_ready(monkeypatch):
    monkeypatch.delenv(browser_shims.VARIABLE, raising=False)
    document = Document()
    assert browser_shims.install(document)
    [callback] = ready_callbacks(document)
    assert f"startsWith({browser_shims.BOKEH_SERIES!r})" in callback.code
    assert "_get_css_value" in callback.code and "InlineStyleSheet" in callback.code
    assert "SERIES" not in callback.code  # the placeholder is filled in


def test_off_sends_nothing(monkeypatch):
    monkeypatch.setenv(browser_shims.VARIABLE, "off")
    document = Document()
    assert not browser_shims.install(document)
    assert ready_callbacks(document) == []


def test_the_installed_bokeh_is_the_series_the_shims_are_written_for():
    # a new series resolved by the pins would silently serve pages without them
    assert bokeh.__version__.startswith(browser_shims.BOKEH_SERIES), bokeh.__version__
