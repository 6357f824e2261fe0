"""The classification settings through the whole dashboard: each control changes the model
it should (and only that), weight decay acts without a restart, and an upload replaces the
data or, when it cannot be used, leaves the running model training."""

from __future__ import annotations

import numpy as np
import pytest
from bokeh.models import Image

from app.data.upload import parse_csv
from tests.support.views import figure_titled, figure_titles, find, glyph_data

REGIONS = "decision regions and data"  # the titles of the training view's plane figures
BOUNDARY = "decision boundary and data"


def held_out_points(view):
    """The renderer of the held-out test points (hollow triangles) in the regions figure."""
    plot = figure_titled(view, REGIONS)
    found, = (r for r in plot.renderers if getattr(r.glyph, "marker", None) == "triangle")
    return found


def test_loss_classes_and_features_rebuild_with_their_widths(rendered):
    dashboard = rendered(dataset="blobs")
    s, session = dashboard.settings, dashboard.session
    assert session.layer_sizes == (2, 8, 8, 1) and session.net.loss_name == "mse"
    dashboard.sidebar.classification.loss.value = "cross_entropy"
    assert session.net.loss_name == "cross_entropy" and session.layer_sizes == (2, 8, 8, 2)
    dashboard.sidebar.classification.classes.value = 4
    assert session.layer_sizes == (2, 8, 8, 4) and s.architecture == "2-8-8-4"
    np.testing.assert_array_equal(session.data.Z.sum(axis=1), 1.0)  # one-hot rows
    dashboard.sidebar.classification.features.value = ["x1", "x2", "x1_x2"]
    assert session.layer_sizes == (3, 8, 8, 4) and s.features == "x1,x2,x1_x2"
    s.dataset = "xor"  # two classes only: classes follows, with the widths
    assert s.classes == 2 and session.layer_sizes == (3, 8, 8, 2) and not dashboard.messages
    assert dashboard.step()
    view = dashboard.views["training"]
    assert "accuracy" in find(view, "metrics-summary").text


def test_test_split_and_toggle(rendered):
    dashboard = rendered(dataset="spirals", classes=3, loss="cross_entropy")
    s, session = dashboard.settings, dashboard.session
    assert session.data.test_size == 0
    s.test_fraction = 0.25
    labels = np.concatenate([session.data.class_labels, session.data.test_labels])
    held_out = sum(min(round(0.25 * count), count - 1) for count in np.bincount(labels))
    assert session.data.test_size == held_out and session.data.size == 200 - held_out
    view = dashboard.views["training"]
    assert held_out_points(view).visible
    s.show_test = False
    assert not held_out_points(view).visible
    assert "test: loss" in find(view, "metrics-summary").text


def test_weight_decay_acts_without_a_restart(rendered):
    dashboard = rendered(view="spectrum", scope="sample")
    session = dashboard.session
    for _ in range(3):
        dashboard.step()
    weights = [np.array(W) for W in session.net.weights]
    version = session.version
    dashboard.settings.weight_decay = 0.01
    assert session.version == version and session.step == 3
    assert session.net.weight_decay == 0.01
    for W, kept in zip(session.net.weights, weights, strict=True):
        np.testing.assert_array_equal(W, kept)
    X, Z = session.X, session.Z
    g = session.net.gradients(X, Z)[0]
    V, Zf = g.factors()
    np.testing.assert_allclose(g.W, V @ Zf.T + 0.01 * weights[0], atol=1e-14)
    assert "Weight decay λ_wd = 0.01" in find(dashboard.views["spectrum"], "spectrum-counts").object
    assert dashboard.step() and session.net.weight_decay == 0.01


def test_upload_replaces_the_data_and_a_bad_one_changes_nothing(rendered):
    dashboard = rendered()
    session, panel = dashboard.session, dashboard.sidebar.upload
    rows = "\n".join(f"{i % 5},{(2 * i) % 7},{i % 3},{'xyz'[i % 3]}" for i in range(30))
    assert panel.receive(f"a,b,c,label\n{rows}\n".encode(), "mine.csv")
    assert session.layer_sizes == (3, 8, 8, 3) and session.data.name == "mine.csv"
    dashboard.step()
    weights = [np.array(W) for W in session.net.weights]
    step = session.step
    assert not panel.receive(b"a,b,label\n1,,x\n2,3,y\n", "bad.csv")
    assert session.step == step and session.data.name == "mine.csv"
    for W, kept in zip(session.net.weights, weights, strict=True):
        np.testing.assert_array_equal(W, kept)
    assert dashboard.use_upload(parse_csv(b"a,b,label\n1,2,x\n3,4,y\n")) is None  # 2 rows do
    assert session.layer_sizes == (2, 8, 8, 1) and session.batch_size == 2
    dashboard.settings.dataset = "circles"  # a data set chosen replaces the upload
    assert session.uploaded is None and session.layer_sizes == (2, 8, 8, 1)
    assert not panel.in_use


@pytest.mark.parametrize("values", [dict(loss="cross_entropy", dataset="regression"),
                                    dict(classes=4, dataset="circles")])
def test_links_that_do_not_fit_are_adjusted_with_a_reason(rendered, values):
    dashboard = rendered(**values)
    assert dashboard.messages, "the adjusted value is reported"
    assert dashboard.step()


def test_the_one_output_boundary_builds_and_redraws_no_regions_figure(rendered, monkeypatch):
    # two classes on the plane, no test points (the default xor): the training view draws the
    # network's output as an image; the decision regions by class are neither built nor
    # redrawn, and the downloads hold the arrays behind the image only
    from app.views import classify

    built = []  # the decision regions built (app.views.regions.DecisionRegions)

    def regions(*args, **options):
        built.append(made(*args, **options))
        return built[-1]

    made = classify.DecisionRegions
    monkeypatch.setattr(classify, "DecisionRegions", regions)
    dashboard = rendered()
    view = dashboard.views["training"]
    assert dashboard.settings.dataset == "xor" and BOUNDARY in figure_titles(view)
    assert REGIONS not in figure_titles(view) and not built
    assert dashboard.step()
    view.refresh()
    grid = view.arrays["grid_points"]
    image = glyph_data(figure_titled(view, BOUNDARY), Image)
    outputs = dashboard.session.net.forward(grid).output[:, 0]  # the image is of the grid
    np.testing.assert_array_equal(image.data["image"][0],
                                  np.asarray(outputs).reshape(64, 64).astype(np.float32))
    assert view.arrays["grid_prediction"].shape == (64, 64) == (len(np.unique(grid[:, 0])),
                                                                len(np.unique(grid[:, 1])))
    assert "grid_classes" not in view.arrays and "grid_outputs" not in view.arrays
    assert "metrics_train_loss" in view.arrays
    # three classes: the regions, with the classes behind them
    dashboard = rendered(dataset="blobs", classes=3, loss="cross_entropy")
    view = dashboard.views["training"]
    titles = figure_titles(view)
    assert REGIONS in titles and BOUNDARY not in titles and len(built) == 1
    assert "grid_classes" in view.arrays
