"""Classification settings: URL-checkable values, the widths they imply with the changes
they force, and a sidebar card whose widgets and settings are one value both ways."""

from __future__ import annotations

import param
import pytest

from app.configuration.classification_settings import ClassificationSettings, classification_widths
from app.controls.classification_controls import ClassificationControls


class Stand(ClassificationSettings):
    """The classification settings with the data set choice they depend on."""

    dataset = param.Selector(default="xor", objects=["xor", "blobs", "rings", "regression"])


def test_values_are_checked():
    s = Stand()
    s.features = "x1, x2,sin_x1"
    for name, value in (("features", "x3"), ("features", ""), ("classes", 6),
                        ("loss", "hinge"), ("weight_decay", -0.1), ("test_fraction", 0.95)):
        with pytest.raises(ValueError):
            setattr(s, name, value)


@pytest.mark.parametrize("values, widths, changes", [
    (dict(dataset="blobs", classes=4, loss="mse", features="x1,x2"), (2, 4), {}),
    (dict(dataset="blobs", classes=2, loss="mse", features="x1,x2"), (2, 1), {}),
    (dict(dataset="rings", classes=2, loss="cross_entropy", features="x1,x2"), (2, 2), {}),
    (dict(dataset="rings", classes=3, loss="mse", features="x2_sq,x1_sq,x1"), (3, 3),
     {"features": "x1,x1_sq,x2_sq"}),
    (dict(dataset="xor", classes=4, loss="cross_entropy", features="x1,x2,x1_x2"), (3, 2),
     {"classes": 2}),
    (dict(dataset="regression", classes=3, loss="cross_entropy", features="x1"), (1, 1),
     {"loss": "mse"}),
])
def test_widths_and_forced_changes(values, widths, changes):
    N, M, forced = classification_widths(values)
    assert (N, M) == widths
    assert {name: value for name, (value, _) in forced.items()} == changes
    assert all(reason for _, reason in forced.values())


def test_controls_and_settings_are_one_value():
    s = Stand(dataset="blobs")
    controls = ClassificationControls(s)
    controls.loss.value = "cross_entropy"
    assert s.loss == "cross_entropy"
    controls.features.value = ["x1_x2", "x1"]
    assert s.features == "x1,x1_x2"
    s.features = "sin_x2,x2"
    assert controls.features.value == ["x2", "sin_x2"]
    controls.features.value = []  # at least one feature stays chosen
    assert controls.features.value == ["x2", "sin_x2"] and s.features in ("sin_x2,x2", "x2,sin_x2")
    controls.weight_decay.value = 0.01
    assert s.weight_decay == 0.01
    s.weight_decay = 0.0009
    assert controls.weight_decay.value == 0.001
    controls.test_fraction.value = 0.25
    assert s.test_fraction == 0.25
    controls.show_test.value = False
    assert s.show_test is False
    controls.classes.value = 4
    assert s.classes == 4
    assert controls.features.visible
    s.dataset = "regression"
    assert not controls.features.visible and not controls.classes.visible
    assert controls.loss.visible and controls.weight_decay.visible


class DataStand(Stand):
    """The settings make_fnn_data reads."""

    samples = param.Integer(default=60)
    noise = param.Number(default=0.1)
    seed = param.Integer(default=1)
    output_activation = param.String(default="identity")


def test_make_fnn_data_follows_the_settings():
    import numpy as np

    from app.configuration.classification_settings import make_fnn_data
    from app.data.classification import make_classification_data
    from app.data.datasets import make_fnn_dataset
    from app.data.upload import parse_csv

    s = DataStand(dataset="rings", classes=3, loss="cross_entropy", features="x1,x1_x2",
                  test_fraction=0.2)
    data = make_fnn_data(s)
    expected = make_classification_data("rings", 60, 3, 0.1, 1, loss="cross_entropy",
                                        features="x1,x1_x2", test_fraction=0.2)
    np.testing.assert_array_equal(data.X, expected.X)
    np.testing.assert_array_equal(data.test_Z, expected.test_Z)
    s.dataset = "regression"
    np.testing.assert_array_equal(make_fnn_data(s).X,
                                  make_fnn_dataset("regression", 60, 0.1, 1).X)
    uploaded = parse_csv(b"a,b,c,label\n1,2,3,x\n4,5,6,y\n7,8,9,z\n")
    data = make_fnn_data(s, uploaded)
    assert (data.input_width, data.output_width) == (3, 3)


def test_classification_panel_draws_regions_metrics_and_the_test_toggle():
    from types import SimpleNamespace

    import numpy as np

    from app.configuration.classification_settings import make_fnn_data
    from app.views.classify import ClassificationPanel, is_classification
    from hessian_core import FNN

    s = DataStand(dataset="blobs", classes=3, loss="cross_entropy", test_fraction=0.3)
    data = make_fnn_data(s)
    net = FNN.random((2, 5, 3), activation="tanh", output_activation="identity", seed=0,
                     loss="cross_entropy")
    session = SimpleNamespace(data=data, net=net, step=7)
    assert is_classification(data)
    panel = ClassificationPanel(session, s)
    arrays = panel.update()
    assert panel.metrics.source.data["step"][-1] == 7
    assert panel.metrics.source.data["test_loss"][-1] == net.loss(data.test_X, data.test_Z)
    np.testing.assert_array_equal(arrays["grid_classes"],
                                  np.argmax(arrays["grid_outputs"], axis=1))
    assert panel.regions.test_renderer.visible
    s.show_test = False
    panel.update()
    assert not panel.regions.test_renderer.visible
    s.show_test = True
    panel.update()
    assert panel.regions.test_renderer.visible
    assert "18 held-out test points" in panel.caption.object
    # while training runs the metrics are recorded at most every METRICS_INTERVAL_S
    session.running, session.step = True, 8
    panel.update()
    session.step = 9
    panel.update()
    assert list(panel.metrics.source.data["step"]) == [7]  # within the interval
    session.running, session.step = False, 10  # paused: every redraw records
    panel.update()
    assert list(panel.metrics.source.data["step"]) == [7, 10]


def test_rnn_keeps_only_weight_decay():
    from app.controls.upload_panel import UploadPanel

    class Kind(Stand):
        model = param.Selector(default="fnn", objects=["fnn", "rnn"])

    s = Kind(dataset="blobs")
    controls = ClassificationControls(s, UploadPanel(lambda data: None))
    assert controls.loss.visible and controls.upload.__panel__().visible
    s.model = "rnn"
    assert not controls.loss.visible and not controls.features.visible
    assert not controls.upload.__panel__().visible and controls.weight_decay.visible


def test_settings_changed_together_reach_every_widget():
    s = Stand(dataset="blobs")
    controls = ClassificationControls(s)
    s.param.update(features="x1_sq", weight_decay=0.1, dataset="regression")
    assert controls.features.value == ["x1_sq"] and controls.weight_decay.value == 0.1
    assert not controls.features.visible
