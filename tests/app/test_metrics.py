"""Training/test metrics: each recorded row holds the loss and accuracy that the core and a
direct count give on all training rows and all test rows."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.classification import make_classification_data
from app.views.metrics import MetricsPlot


def net_for(data, seed=0):
    from hessian_core import FNN

    return FNN.random((data.input_width, 6, data.output_width), activation="tanh",
                      output_activation="identity", seed=seed, loss="cross_entropy",
                      weight_decay=0.01)


def test_rows_hold_loss_and_accuracy_of_train_and_test_rows():
    data = make_classification_data("spirals", 80, 3, 0.1, 0, loss="cross_entropy",
                                    test_fraction=0.25)
    metrics = MetricsPlot(data)
    for step, seed in ((0, 0), (5, 1)):
        net = net_for(data, seed)
        metrics.record(step, net)
        row = {name: values[-1] for name, values in metrics.source.data.items()}
        assert row["step"] == step
        assert row["train_loss"] == pytest.approx(net.loss(data.X, data.Z), rel=1e-12)
        assert row["test_loss"] == pytest.approx(net.loss(data.test_X, data.test_Z), rel=1e-12)
        for X, labels, name in ((data.X, data.class_labels, "train_accuracy"),
                                (data.test_X, data.test_labels, "test_accuracy")):
            outputs = np.asarray(net.forward(X).output)
            hits = sum(int(np.argmax(o) == c) for o, c in zip(outputs, labels, strict=True))
            assert row[name] == hits / len(labels)
    assert list(metrics.source.data["step"]) == [0.0, 5.0]
    metrics.record(5, net_for(data, 2))  # the same step again replaces its row
    assert list(metrics.source.data["step"]) == [0.0, 5.0]
    assert metrics.source.data["train_loss"][-1] == pytest.approx(
        net_for(data, 2).loss(data.X, data.Z))
    assert "test: loss" in metrics.summary.text
    assert set(metrics.arrays()) == {f"metrics_{name}" for name in metrics.source.data}


def test_without_test_rows_only_training_is_drawn():
    data = make_classification_data("blobs", 40, 2, 0.1, 0)
    metrics = MetricsPlot(data)
    assert {renderer.glyph.y for renderer in metrics.loss_figure.renderers} == {"train_loss"}
    from hessian_core import FNN

    row = metrics.record(1, FNN.random((2, 4, 1), activation="tanh", seed=0))
    assert np.isnan(row["test_loss"]) and "test" not in metrics.summary.text


def test_the_first_row_shows_and_the_loss_axis_spans_whole_decades():
    """At step 0 there is no line yet: each curve marks its points. The loss axis is fitted
    to whole decades around every loss recorded, so that its ticks are powers of ten (a log
    axis over less than a decade labels 0.3, 0.4, ... 0.9, one over another on a short
    plot)."""
    from bokeh.models import Scatter

    data = make_classification_data("spirals", 80, 3, 0.1, 0, loss="cross_entropy",
                                    test_fraction=0.25)
    metrics = MetricsPlot(data)
    row = metrics.record(0, net_for(data))
    for plot, name in ((metrics.loss_figure, "loss"), (metrics.accuracy_figure, "accuracy")):
        marked = {renderer.glyph.y for renderer in plot.renderers
                  if isinstance(renderer.glyph, Scatter)}
        assert marked == {f"train_{name}", f"test_{name}"}
    low, high = metrics.loss_figure.y_range.start, metrics.loss_figure.y_range.end
    assert low <= min(row["train_loss"], row["test_loss"]) <= max(
        row["train_loss"], row["test_loss"]) <= high
    for end in (low, high):  # a decade, widened by a hair so that its tick is drawn
        assert np.log10(end) == pytest.approx(round(np.log10(end)), abs=1e-3)
    assert np.log10(high / low) >= 2
