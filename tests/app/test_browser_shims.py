"""app.page.browser_shims: when the page gets the BokehJS shims, and what it is sent."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import bokeh
import panel as pn
import pytest

import app
from app import compat
from app.page import browser_shims


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


@pytest.fixture
def js_files(monkeypatch):
    """``pn.config.js_files`` of this test only (outside a session it is the process's)."""
    monkeypatch.setattr(pn.config, "js_files", {})
    return lambda: pn.config.js_files


@pytest.fixture
def fast_paths_on(monkeypatch):
    """The library fast paths on (the default) for one test, whatever the run sets."""
    monkeypatch.delenv(compat.VARIABLE, raising=False)
    assert compat.refresh()
    yield
    monkeypatch.undo()
    compat.refresh()


def test_install_has_the_page_load_the_script_from_the_apps_static_folder(monkeypatch, js_files,
                                                                          fast_paths_on):
    monkeypatch.delenv(browser_shims.VARIABLE, raising=False)
    pn.config.js_files = {"other": "other.js"}
    assert browser_shims.install()
    assert js_files() == {"other": "other.js", browser_shims.JS_FILES_KEY: browser_shims.SCRIPT_URL}
    # served by `panel serve app` at /app/static/ (a directory app's static folder); the page
    # is /app, so the address is relative to it; the series is in its query
    url = urlsplit(browser_shims.SCRIPT_URL)
    assert url.path == f"app/static/{browser_shims.SCRIPT.name}"
    assert browser_shims.SCRIPT.parent == Path(app.__file__).parent / "static"
    assert parse_qs(url.query) == {"bokeh": [browser_shims.BOKEH_SERIES]}


def test_the_script_checks_the_series_and_installs_each_shim_on_its_own():
    code = browser_shims.SCRIPT.read_text()
    assert 'searchParams.get("bokeh")' in code
    assert "startsWith(series)" in code
    # each shim in its own try (a failure puts back what it replaced), each replaced function
    # checked before it is replaced
    for name in ("visual-css-variables", "unchanged-stylesheets", "plot-font-size-per-task"):
        assert f'shim("{name}", (restores) =>' in code
    assert code.count("try {") >= 2 and "restore();" in code
    assert 'typeof original !== "function"' in code
    assert 'typeof font.get !== "function"' in code
    # the CSS-variable shim stands aside where a stylesheet defines a --bk- variable
    assert 'includes("--bk-")' in code


def test_off_sends_nothing(monkeypatch, js_files):
    monkeypatch.setenv(browser_shims.VARIABLE, "off")
    assert not browser_shims.install()
    assert js_files() == {}
    # (and HESSIAN_LAB_FAST_PATHS=off turns them off too: tests/app/test_compat.py)


def test_the_installed_bokeh_is_the_series_the_shims_are_written_for():
    # a new series resolved by the pins would silently serve pages without them
    assert bokeh.__version__.startswith(browser_shims.BOKEH_SERIES), bokeh.__version__
