"""Fixtures for the app tests: dashboards rendered into a Bokeh document, no browser."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def strict_views(monkeypatch):
    """Views re-raise drawing errors instead of showing them as a note."""
    monkeypatch.setenv("HESSIAN_LAB_STRICT", "1")


@pytest.fixture
def rendered():
    """Build a Dashboard and render it into a Document, so that its figures really draw."""
    import panel as pn
    from bokeh.document import Document

    from app import Dashboard

    made = []

    def make(**settings):
        dashboard = Dashboard(**settings)
        pn.panel(dashboard).get_root(Document())
        made.append(dashboard)
        return dashboard

    yield make
    for dashboard in made:
        dashboard.close()
