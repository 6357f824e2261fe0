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
    assert len(metrics.loss_figure.renderers) == 1
    from hessian_core import FNN

    row = metrics.record(1, FNN.random((2, 4, 1), activation="tanh", seed=0))
    assert np.isnan(row["test_loss"]) and "test" not in metrics.summary.text
