"""Classification settings: URL-checkable values, the widths they imply with the changes
they force, and a sidebar card whose widgets and settings are one value both ways."""

from __future__ import annotations

import param
import pytest

from app.classification_controls import ClassificationControls
from app.classification_settings import ClassificationSettings, classification_widths


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
