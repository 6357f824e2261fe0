"""A session makes its visible view at once and every other view on its first show (the tab
holds it from then on); Play makes none, and a view made while the session plays gets its
worker thread when it is made. A page opened and never used makes one view
(``app/page/composition.py``)."""

from __future__ import annotations

from app.configuration.settings import VIEWS
from app.page.dashboard import Dashboard


def test_only_the_visible_view_is_made_with_the_session():
    dashboard = Dashboard(view="spectrum")
    try:
        assert set(dashboard.views.built) == {"spectrum"}
        assert len(dashboard.views) == len(VIEWS)  # every key is there, to be made on use
        shown = dashboard.main.tabs.objects[VIEWS.index("spectrum")]
        assert shown is dashboard.views.built["spectrum"].__panel__()
        hidden = dashboard.main.tabs.objects[VIEWS.index("rank")]
        assert hidden.objects == []  # an empty column until shown
    finally:
        dashboard.close()


def test_a_view_is_made_and_drawn_on_its_first_show_and_kept():
    dashboard = Dashboard(view="training")
    try:
        dashboard.settings.view = "rank"
        assert set(dashboard.views.built) == {"training", "rank"}
        rank = dashboard.views.built["rank"]
        assert dashboard.main.tabs.objects[VIEWS.index("rank")] is rank.__panel__()
        assert dashboard.main.tabs.active == VIEWS.index("rank")
        assert rank.arrays, "the view shown was not drawn"
        dashboard.settings.view = "training"
        dashboard.settings.view = "rank"
        assert dashboard.views["rank"] is rank  # made once
    finally:
        dashboard.close()


def test_play_makes_no_view_and_a_view_made_while_playing_gets_the_worker_thread():
    dashboard = Dashboard(view="training")
    try:
        dashboard.start_worker()
        assert set(dashboard.views.built) == {"training"}
        worker = dashboard.views["training"].executor
        assert worker is not None
        dashboard.settings.view = "rank"  # shown while playing: made with the worker
        assert dashboard.views.built["rank"].executor is worker
    finally:
        dashboard.close()
    assert all(view.executor is None for view in dashboard.views.built.values())
    later = Dashboard(view="training")
    try:
        later.settings.view = "spectrum"  # made while paused: no worker
        assert later.views.built["spectrum"].executor is None
    finally:
        later.close()
