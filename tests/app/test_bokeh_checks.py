"""Served, Bokeh's self-checks of every new session are skipped (app.bokeh_checks): here they
run on every view's document, so that skipping them hides nothing."""

from __future__ import annotations

import panel as pn
import pytest
from bokeh.core.validation.check import check_integrity
from bokeh.document import Document
from bokeh.settings import settings

from app import Dashboard
from app.bokeh_checks import SELF_CHECKS, skip_self_checks
from app.settings import VIEWS


@pytest.fixture
def bokeh_settings():
    """Bokeh's settings, set back to their defaults afterwards (as the tests run them)."""
    assert not any(getattr(settings, name).is_set for name in SELF_CHECKS)
    yield settings
    for name in SELF_CHECKS:
        getattr(settings, name).unset_value()


@pytest.mark.parametrize("model", ["fnn", "rnn"])
@pytest.mark.parametrize("view", VIEWS)
def test_every_views_document_passes_bokehs_checks_with_them_on(model, view):
    assert settings.perform_error_diagnostics() and settings.perform_document_validation()
    dashboard = Dashboard(model=model, view=view)  # callback signatures are checked here
    document = Document()
    document.add_root(pn.panel(dashboard).get_root(document))
    dashboard.refresh_view()
    issues = check_integrity(document.models)
    assert [(issue.code, issue.name, issue.text) for issue in issues.error + issues.warning] == []
    dashboard.close()


def test_serving_skips_the_checks_unless_the_environment_sets_them(bokeh_settings, monkeypatch):
    for variable in SELF_CHECKS.values():
        monkeypatch.delenv(variable, raising=False)
    assert skip_self_checks() == list(SELF_CHECKS)
    assert not settings.perform_document_validation()
    assert not settings.perform_error_diagnostics()
    for name in SELF_CHECKS:
        getattr(settings, name).unset_value()
    monkeypatch.setenv("BOKEH_VALIDATE_DOC", "true")
    assert skip_self_checks() == ["perform_error_diagnostics"]
    assert settings.perform_document_validation()
    assert not settings.perform_error_diagnostics()
