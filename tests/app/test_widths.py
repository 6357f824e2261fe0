"""The one rule for the network's widths (app/configuration/widths.py): the data decide the first
and last
widths, the architecture text (FNN) or levels x hidden width (RNN) the hidden ones; every
caller (settle, a data set chosen by hand, the model a session builds) goes through it."""

from __future__ import annotations

import pytest

from app.configuration.classification_settings import make_fnn_data
from app.configuration.settings import Settings, settle
from app.configuration.widths import ArchitectureError, data_widths_text, network_widths
from app.data.datasets import make_sequence_dataset
from app.data.upload import parse_csv
from app.page.dashboard import Dashboard

FNN = dict(Settings().values(), model="fnn", architecture="2-8-8-1")
UPLOADED = parse_csv(b"a,b,c,label\n1,2,3,x\n4,5,6,y\n7,8,9,z\n")


@pytest.mark.parametrize("values, sizes", [
    (dict(dataset="xor", classes=2, loss="mse", features="x1,x2"), (2, 8, 8, 1)),
    (dict(dataset="xor", classes=2, loss="cross_entropy", features="x1,x2"), (2, 8, 8, 2)),
    (dict(dataset="blobs", classes=4, loss="mse", features="x1,x2,x1_x2"), (3, 8, 8, 4)),
    (dict(dataset="spirals", classes=3, loss="cross_entropy", features="x1"), (1, 8, 8, 3)),
    (dict(dataset="regression", classes=2, loss="mse", features="x1,x2"), (1, 8, 8, 1)),
    (dict(dataset="upload", architecture="3-5-3"), (3, 5, 3)),  # the file's, kept
    (dict(model="rnn", dataset="blobs", classes=3, loss="mse"), (2, 8, 8, 3)),  # the FNN's
])
def test_the_settings_give_the_fnn_its_widths_without_data(values, sizes):
    assert network_widths({**FNN, **values}, model="fnn") == sizes


@pytest.mark.parametrize("dataset", ["xor", "circles", "spirals", "blobs", "rings",
                                     "regression"])
@pytest.mark.parametrize("classes, loss, features", [
    (2, "mse", "x1,x2"), (3, "cross_entropy", "x1,x2,x1_sq"), (5, "mse", "x2")])
def test_the_widths_the_settings_imply_are_those_of_the_data_they_make(dataset, classes,
                                                                        loss, features):
    settings = Settings(samples=40)
    settings.apply(dict(dataset=dataset, classes=classes, loss=loss, features=features))
    data = make_fnn_data(settings)
    assert network_widths(settings.values()) == network_widths(settings.values(), data)


def test_data_given_decide_the_ends_and_the_text_the_hidden_widths():
    data = make_fnn_data(Settings(), UPLOADED)  # 3 columns, 3 classes
    assert network_widths(dict(FNN, architecture="2-16-4-1"), data) == (3, 16, 4, 3)
    assert network_widths(dict(FNN, architecture="2-1"), data) == (3, 3)


def test_the_rnn_has_levels_of_its_hidden_width_between_its_tasks_widths():
    adding = make_sequence_dataset("adding", 8, 5, 0.0, seed=0)  # 2 inputs, 1 output
    values = dict(FNN, model="rnn", hidden_width=6, levels=3, architecture="not widths")
    assert network_widths(values, adding) == (2, 6, 6, 6, 1)  # the text is not read
    sine = make_sequence_dataset("sine", 8, 5, 0.0, seed=0)
    assert network_widths(dict(values, levels=1), sine) == (1, 6, 1)
    with pytest.raises(ValueError, match="sequence task"):
        network_widths(values)  # the task's widths come with its data


@pytest.mark.parametrize("text", ["", "2", "2-x-1", "2--1", "2-300-1", "-".join("4" * 10)])
def test_an_fnn_text_that_is_no_network_is_refused(text):
    with pytest.raises(ArchitectureError):
        network_widths(dict(FNN, architecture=text))


def test_the_callers_follow_the_rule():
    """settle fits a link's architecture with the reason; a data set chosen by hand fits it
    silently; the session refuses widths typed by hand that do not fit built-in data, and
    fits an upload's."""
    values = dict(FNN, dataset="blobs", classes=3, architecture="2-8-1")
    settled, notes = settle(values, given={"architecture"})
    assert settled["architecture"] == "2-8-3"
    assert data_widths_text("blobs", (2, 8, 3)) in notes["architecture"]
    dashboard = Dashboard()
    dashboard.settings.param.update(dataset="blobs", classes=4)
    assert dashboard.settings.architecture == "2-8-8-4"
    dashboard.settings.architecture = "3-8-4"  # typed by hand
    assert "the first width must be 2 and the last 4, e.g. 2-8-4" in \
        dashboard.messages["architecture"]
    assert dashboard.session.layer_sizes == (2, 8, 8, 4)
    assert dashboard.use_upload(UPLOADED) is None
    assert dashboard.session.layer_sizes == (3, 8, 3)
    assert dashboard.settings.architecture == "3-8-3"
    dashboard.close()
