"""What a server process sets for itself (app.page.serving). Served, Bokeh's self-checks of every
new
session are skipped: here they run on every view's document, so that skipping them hides
nothing. And a served process keeps one BLAS thread."""

from __future__ import annotations

import panel as pn
import pytest
from bokeh.core.validation.check import check_integrity
from bokeh.document import Document
from bokeh.settings import settings

from app import Dashboard
from app.configuration.settings import VIEWS
from app.page.serving import (
    BLAS_THREADS_VARIABLE,
    SELF_CHECKS,
    blas_threads,
    limit_blas_threads,
    skip_self_checks,
)


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


def test_a_served_process_keeps_one_blas_thread_unless_told(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    monkeypatch.delenv(BLAS_THREADS_VARIABLE, raising=False)
    assert blas_threads() == 1
    monkeypatch.setenv(BLAS_THREADS_VARIABLE, "2")
    assert blas_threads() == 2
    for text in ("0", "two", ""):
        monkeypatch.setenv(BLAS_THREADS_VARIABLE, text)
        with pytest.raises(ValueError, match=f"{BLAS_THREADS_VARIABLE} must be a whole number"):
            blas_threads()
    monkeypatch.delenv(BLAS_THREADS_VARIABLE)
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS library that threadpoolctl knows is loaded")
    with threadpool_limits(limits=None):  # the test process's own threads, restored after
        assert limit_blas_threads() == 1
        assert all(info["num_threads"] == 1 for info in threadpool_info()
                   if info["user_api"] == "blas")
