"""Multi-class data, targets, accuracy, the train/test split and the input features, each
checked against an independent computation (loops, closed forms, the core's own checks)."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.classification import (
    CLASS_DATASETS,
    FEATURES,
    accuracy,
    check_features,
    class_targets,
    feature_map,
    labels_of_targets,
    make_class_points,
    one_hot,
    predicted_classes,
    split_indices,
)


@pytest.mark.parametrize("name", CLASS_DATASETS)
@pytest.mark.parametrize("classes", [2, 3, 5])
def test_data_sets_are_seeded_balanced_and_in_range(name, classes):
    data = make_class_points(name, 101, classes, 0.1, seed=7)
    again = make_class_points(name, 101, classes, 0.1, seed=7)
    other = make_class_points(name, 101, classes, 0.1, seed=8)
    assert data.points.shape == (101, 2) and data.labels.shape == (101,)
    np.testing.assert_array_equal(data.points, again.points)
    np.testing.assert_array_equal(data.labels, again.labels)
    assert not np.array_equal(data.points, other.points)
    counts = np.bincount(data.labels, minlength=classes)
    assert counts.size == classes and counts.max() - counts.min() <= 1
    assert np.all(np.abs(data.points) < 1.6)


def test_blobs_cluster_around_their_stated_centres():
    K = 4
    data = make_class_points("blobs", 4000, K, 0.0, seed=1)
    for c in range(K):
        angle = 2 * np.pi * c / K + np.pi / 4
        centre = 0.6 * np.array([np.cos(angle), np.sin(angle)])
        chosen = data.points[data.labels == c]
        np.testing.assert_allclose(chosen.mean(axis=0), centre, atol=0.03)
        np.testing.assert_allclose(chosen.std(axis=0), 0.2, atol=0.02)


def test_spiral_arms_follow_radius_and_angle():
    K = 3
    data = make_class_points("spirals", 300, K, 0.0, seed=2)
    x, y = data.points.T
    radius = np.hypot(x, y)
    turn = (radius - 0.1) / 0.9
    assert np.all((turn >= -1e-12) & (turn <= 1 + 1e-12))
    expected = 3 * np.pi * turn + 2 * np.pi * data.labels / K
    difference = np.angle(np.exp(1j * (np.arctan2(y, x) - expected)))
    np.testing.assert_allclose(difference, 0.0, atol=1e-9)


def test_rings_lie_in_their_annuli():
    K = 5
    data = make_class_points("rings", 500, K, 0.0, seed=3)
    radius = np.hypot(*data.points.T) * (K - 0.4)
    assert np.all(radius >= data.labels - 1e-12)
    assert np.all(radius <= data.labels + 0.6 + 1e-12)


def test_data_set_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown data set 'moons'.*blobs, spirals, rings"):
        make_class_points("moons", 10, 3, 0.0, seed=0)
    with pytest.raises(ValueError, match="classes must be from 2 to 5, got 6"):
        make_class_points("blobs", 10, 6, 0.0, seed=0)
    with pytest.raises(ValueError, match="classes must be a whole number"):
        make_class_points("blobs", 10, 2.5, 0.0, seed=0)
    with pytest.raises(ValueError, match="samples must be at least 1"):
        make_class_points("blobs", 0, 3, 0.0, seed=0)


def test_one_hot_and_targets():
    labels = np.array([0, 2, 1, 2])
    expected = np.eye(3)[labels]
    np.testing.assert_array_equal(one_hot(labels, 3), expected)
    np.testing.assert_array_equal(class_targets(labels, 3, "cross_entropy"), expected)
    np.testing.assert_array_equal(class_targets(labels, 3, "mse", "sigmoid"), expected)
    np.testing.assert_array_equal(class_targets(labels, 3, "mse", "tanh"), 2 * expected - 1)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        one_hot(labels, 2)
    with pytest.raises(ValueError, match="loss must be one of"):
        class_targets(labels, 3, "hinge")
    np.testing.assert_array_equal(labels_of_targets(expected), labels)
    np.testing.assert_array_equal(labels_of_targets(np.array([[1.0], [-1.0]])), [1, 0])


def test_cross_entropy_targets_train_the_core():
    from hessian_core import FNN
    from hessian_core.losses import check_targets

    data = make_class_points("blobs", 30, 3, 0.1, seed=0)
    targets = class_targets(data.labels, 3, "cross_entropy")
    check_targets(targets, "cross_entropy")  # class probabilities: accepted
    net = FNN.random((2, 5, 3), activation="tanh", output_activation="identity", seed=0,
                     loss="cross_entropy")
    logits = np.asarray(net.forward(data.points).output)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(30), data.labels])
    assert net.loss(data.points, targets) == pytest.approx(expected, rel=1e-12)


def test_predicted_classes_and_accuracy_against_loops():
    rng = np.random.default_rng(0)
    outputs = rng.standard_normal((50, 4))
    labels = rng.integers(0, 4, 50)
    by_loop = [max(range(4), key=lambda i, row=row: row[i]) for row in outputs]
    np.testing.assert_array_equal(predicted_classes(outputs), by_loop)
    hits = sum(int(p == c) for p, c in zip(by_loop, labels, strict=True))
    assert accuracy(outputs, labels) == hits / 50
    # softmax is monotone: probabilities give the same accuracy as logits
    probabilities = np.exp(outputs) / np.exp(outputs).sum(axis=1, keepdims=True)
    assert accuracy(probabilities, labels) == accuracy(outputs, labels)
    # one output: threshold at the middle of the label values
    single = np.array([[0.6], [0.4], [0.51]])
    assert predicted_classes(single, (0.0, 1.0)).tolist() == [1, 0, 1]
    assert accuracy(single, np.array([1, 1, 1]), (0.0, 1.0)) == pytest.approx(2 / 3)
    assert np.isnan(accuracy(np.zeros((0, 3)), np.zeros(0)))
    with pytest.raises(ValueError, match=r"outputs must be \(n, M\)"):
        predicted_classes(np.zeros(3))


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.5, 0.9])
def test_split_is_stratified_disjoint_and_seeded(fraction):
    labels = make_class_points("blobs", 103, 3, 0.1, seed=4).labels
    train, test = split_indices(labels, fraction, seed=11)
    again = split_indices(labels, fraction, seed=11)
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(test, again[1])
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(103))
    for cls in range(3):
        count = int(np.sum(labels == cls))
        in_test = int(np.sum(labels[test] == cls))
        assert in_test == min(round(fraction * count), count - 1)
        assert np.sum(labels[train] == cls) >= 1
    if 0 < fraction:
        other = split_indices(labels, fraction, seed=12)[1]
        assert not np.array_equal(test, other)


def test_split_fraction_is_checked():
    with pytest.raises(ValueError, match="test_fraction must be from 0 to 0.9, got 0.95"):
        split_indices(np.zeros(10), 0.95, seed=0)
    with pytest.raises(ValueError, match="test_fraction"):
        split_indices(np.zeros(10), -0.1, seed=0)


def test_feature_map_columns():
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, (20, 2))
    everything = feature_map(points, FEATURES)
    assert everything.shape == (20, 7)
    for p, (x1, x2) in enumerate(points):
        expected = [x1, x2, x1 ** 2, x2 ** 2, x1 * x2, np.sin(np.pi * x1), np.sin(np.pi * x2)]
        np.testing.assert_allclose(everything[p], expected, rtol=1e-14)
    # a subset keeps FEATURES order whatever order it is given in; N = number chosen
    chosen = feature_map(points, ("sin_x2", "x1"))
    np.testing.assert_array_equal(chosen, everything[:, [0, 6]])
    np.testing.assert_array_equal(feature_map(points), points)
    np.testing.assert_array_equal(feature_map(points, "x1_x2, x2"), everything[:, [1, 4]])


def test_features_are_checked():
    assert check_features(["x2", "x1", "x2"]) == ("x1", "x2")
    with pytest.raises(ValueError, match="features: unknown feature 'x3'; choose from x1, x2"):
        check_features("x1,x3")
    with pytest.raises(ValueError, match="features: choose at least one"):
        check_features("")
    with pytest.raises(ValueError, match=r"points must be \(n, 2\)"):
        feature_map(np.zeros((3, 3)))


# --- the data sets the training session uses -------------------------------------------------
def test_two_classes_of_known_sets_are_the_old_data():
    from app.data.classification import make_classification_data
    from app.data.datasets import make_fnn_dataset

    for name in ("xor", "circles", "spirals", "blobs"):
        for activation in ("identity", "sigmoid"):
            old = make_fnn_dataset(name, 60, 0.2, 3, activation)
            new = make_classification_data(name, 60, 2, 0.2, 3, output_activation=activation)
            np.testing.assert_array_equal(new.X, old.X)
            np.testing.assert_array_equal(new.Z, old.Z)
            assert new.labels == old.labels and new.output_width == 1 and new.test_size == 0
            np.testing.assert_array_equal(new.class_labels, old.Z[:, 0] == old.labels[1])


def test_many_classes_cross_entropy_features_and_split():
    from app.data.classification import make_classification_data

    data = make_classification_data("rings", 90, 3, 0.1, 4, loss="cross_entropy",
                                     features=("x1_sq", "x2_sq", "x1"), test_fraction=0.2)
    made = make_class_points("rings", 90, 3, 0.1, 4)
    train, test = split_indices(made.labels, 0.2, 4)
    np.testing.assert_array_equal(data.points, made.points[train])
    np.testing.assert_array_equal(data.test_points, made.points[test])
    np.testing.assert_array_equal(data.X, feature_map(made.points[train], ("x1", "x1_sq",
                                                                             "x2_sq")))
    np.testing.assert_array_equal(data.test_X, feature_map(made.points[test], "x1,x1_sq,x2_sq"))
    np.testing.assert_array_equal(data.Z, np.eye(3)[made.labels[train]])
    np.testing.assert_array_equal(data.test_Z, np.eye(3)[made.labels[test]])
    np.testing.assert_array_equal(data.test_labels, made.labels[test])
    assert data.features == ("x1", "x1_sq", "x2_sq") and data.input_width == 3
    assert data.output_width == 3 and data.test_size == 18 and data.size == 72
    assert data.labels == (0.0, 1.0) and data.class_names == ("0", "1", "2")
    mse = make_classification_data("blobs", 30, 4, 0.1, 0)
    assert mse.output_width == 4 and set(np.unique(mse.Z)) == {-1.0, 1.0}
    two = make_classification_data("xor", 30, 2, 0.1, 0, loss="cross_entropy")
    np.testing.assert_array_equal(two.Z, np.eye(2)[two.class_labels])
    with pytest.raises(ValueError, match="the xor data has 2 classes, not 3"):
        make_classification_data("xor", 30, 3, 0.1, 0)


def test_evaluate_gives_loss_and_accuracy_of_the_rows():
    from app.data.classification import evaluate, make_classification_data
    from hessian_core import FNN

    data = make_classification_data("blobs", 40, 3, 0.1, 1, loss="cross_entropy",
                                     test_fraction=0.5)
    net = FNN.random((2, 6, 3), activation="tanh", output_activation="identity", seed=1,
                     loss="cross_entropy")
    loss, hits = evaluate(net, data.test_X, data.test_Z, data.test_labels, data.labels)
    assert loss == pytest.approx(net.loss(data.test_X, data.test_Z))
    outputs = np.asarray(net.forward(data.test_X).output)
    assert hits == np.mean(np.argmax(outputs, axis=1) == data.test_labels)
    assert all(np.isnan(evaluate(net, data.test_X[:0], data.test_Z[:0], [], data.labels)))
