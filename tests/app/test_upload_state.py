"""After a CSV upload the controls, the plots and the address show what runs; a link that
asks for an upload it cannot bring back says so and offers the upload again."""

from __future__ import annotations

import panel as pn
from bokeh.document import Document
from bokeh.models import PlainText
from panel.io.location import Location

from app import Dashboard
from app.configuration.settings import UPLOAD_LOST, query_values
from tests.support.views import figure_titled, figure_titles

ROWS = "\n".join(f"{i % 5},{(2 * i) % 7},{'xyz'[i % 3]}" for i in range(30))
FILE = f"height,<b>weight</b>,label\n{ROWS}\n".encode()


def served(search: str = "") -> tuple[Dashboard, Location]:
    """A dashboard opened by a link and tied to the page's address, as the served app does
    (``Dashboard(sync_url=True)``: the link's values applied, then the address written)."""
    dashboard = Dashboard(**query_values(search))
    location = Location()
    dashboard.sync_location(location)
    pn.panel(dashboard).get_root(Document())
    return dashboard, location


def upload(dashboard: Dashboard, content: bytes = FILE, name: str = "mine.csv") -> None:
    panel = dashboard.sidebar.upload
    assert panel.receive(content, name), panel.message  # what a file chosen comes to


def axis_labels(figure) -> tuple:
    return figure.xaxis[0].axis_label, figure.yaxis[0].axis_label


def test_the_controls_and_the_address_show_the_uploaded_file_and_its_model():
    dashboard, location = served()
    try:
        upload(dashboard)
        s, side = dashboard.settings, dashboard.sidebar
        assert dashboard.session.layer_sizes == (2, 8, 8, 3)
        select = side.widgets["dataset"]
        assert select.value == "upload"
        assert select.options["uploaded: mine.csv"] == "upload"
        assert side.architecture_input.value == "2-8-8-3" == s.architecture
        classes = side.classification.classes
        assert classes.value == 3 and classes.visible and classes.disabled
        assert "dataset=upload" in location.search and "classes=3" in location.search
        assert "architecture=2-8-8-3" in location.search
        # the model that runs is the file's, and the settings describe it
        assert dashboard.session.data.name == "mine.csv"
        assert dashboard.step()
        assert dashboard.session.layer_sizes == (2, 8, 8, 3)
    finally:
        dashboard.close()


def test_plots_and_network_inputs_use_the_column_names_as_text():
    dashboard, _ = served()
    try:
        upload(dashboard)
        view = dashboard.views["training"]
        view.refresh()
        regions = figure_titled(view, "decision regions and data")
        labels = axis_labels(regions)
        assert all(isinstance(label, PlainText) for label in labels)
        assert [label.text for label in labels] == ["height", "<b>weight</b>"]
        assert dashboard.views["network"].input_names() == ["height", "<b>weight</b>"]
        # the default two-class file: the boundary plot of the one output
        upload(dashboard, f"p,q,label\n{ROWS.replace('z', 'x')}\n".encode(), "two.csv")
        view = dashboard.views["training"]
        view.refresh()
        assert "decision boundary and data" in figure_titles(view)
        assert "decision regions and data" not in figure_titles(view)
        boundary = figure_titled(view, "decision boundary and data")
        assert [label.text for label in axis_labels(boundary)] == ["p", "q"]
    finally:
        dashboard.close()


def test_back_to_the_built_in_data_shows_it_again():
    dashboard, location = served("?dataset=circles")
    try:
        upload(dashboard)
        dashboard.sidebar.upload.clear()
        s = dashboard.settings
        assert s.dataset == "circles" and dashboard.session.uploaded is None
        assert dashboard.session.layer_sizes == (2, 8, 8, 1) and s.classes == 2
        assert "dataset=circles" in location.search
        assert "upload" not in dashboard.sidebar.widgets["dataset"].options.values()
        upload(dashboard)
        dashboard.sidebar.widgets["dataset"].value = "spirals"  # a data set chosen instead
        assert dashboard.session.uploaded is None and not dashboard.sidebar.upload.in_use
        assert "dataset=spirals" in location.search
    finally:
        dashboard.close()


def test_a_link_to_an_upload_says_it_cannot_bring_the_file_back_and_offers_it():
    dashboard, location = served("?dataset=upload&architecture=2-8-8-3&classes=3&seed=4")
    try:
        assert dashboard.messages["dataset"] == UPLOAD_LOST
        banner = dashboard.sidebar.url_message
        assert banner.visible and "upload" in banner.object
        card = dashboard.sidebar.classification.card
        assert not card.collapsed and dashboard.sidebar.upload.__panel__().visible
        assert dashboard.settings.dataset == "xor" and dashboard.session.uploaded is None
        assert "dataset=xor" in location.search and dashboard.settings.seed == 4
        assert dashboard.step()
    finally:
        dashboard.close()
