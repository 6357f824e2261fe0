"""Decision regions: each pixel has the colour of the class the network predicts there (by
an independent forward pass) and an opacity that grows with the winning margin; training and
test points sit in their sources, the test points can be hidden."""

from __future__ import annotations

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.models import Column

from app.data.classification import make_classification_data
from app.views.regions import CLASS_COLOURS, GRID, DecisionRegions, confidence


def rgba(image):
    return np.asarray(image).view(np.uint8).reshape(GRID, GRID, 4)


@pytest.mark.parametrize("classes, loss", [(3, "cross_entropy"), (5, "mse"), (2, "mse")])
def test_pixels_take_the_predicted_class_colour(classes, loss):
    from hessian_core import FNN

    data = make_classification_data("blobs", 60, classes, 0.1, 2, loss=loss,
                                    features="x1,x2,x1_x2", test_fraction=0.25)
    net = FNN.random((3, 7, data.output_width), activation="tanh",
                     output_activation="identity", seed=3, loss=loss)
    regions = DecisionRegions(data)
    arrays = regions.update(net)
    grid = regions.grid
    inputs = np.stack([grid[:, 0], grid[:, 1], grid[:, 0] * grid[:, 1]], axis=1)
    W1, W2 = (np.asarray(W) for W in net.weights)
    b1, b2 = (np.asarray(b) for b in net.biases)
    outputs = np.tanh(inputs @ W1.T + b1) @ W2.T + b2
    np.testing.assert_allclose(arrays["grid_outputs"], outputs, rtol=1e-12, atol=1e-14)
    if outputs.shape[1] == 1:
        winners = (outputs[:, 0] > 0.0).astype(int)
    else:
        winners = np.argmax(outputs, axis=1)
    pixels = rgba(regions.source.data["image"][0]).reshape(-1, 4)
    expected = np.array([[int(CLASS_COLOURS[c][i:i + 2], 16) for i in (1, 3, 5)]
                         for c in winners])
    np.testing.assert_array_equal(pixels[:, :3], expected)
    # opacity is monotone in the winning margin
    margin = confidence(outputs, data.labels)
    order = np.argsort(margin)
    assert np.all(np.diff(pixels[order, 3].astype(int)) >= 0)
    assert pixels[:, 3].min() >= 30
    # the grid spans every point, the sources hold the train and test points
    assert grid[:, 0].min() < min(data.points[:, 0].min(), data.test_points[:, 0].min())
    train = np.argsort(data.class_labels, kind="stable")
    test = np.argsort(data.test_labels, kind="stable")
    np.testing.assert_array_equal(regions.train.data["x1"], data.points[train, 0])
    np.testing.assert_array_equal(regions.test.data["x2"], data.test_points[test, 1])
    assert regions.test.data["colour"] == [CLASS_COLOURS[c] for c in data.test_labels[test]]
    assert regions.train.data["class_name"] == sorted(regions.train.data["class_name"])


def test_confidence_against_its_formula():
    outputs = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [1.0, 0.0, -1.0]])
    p = np.exp(outputs[2]) / np.exp(outputs[2]).sum()
    q = np.exp(10.0) / (np.exp(10.0) + 2.0)
    np.testing.assert_allclose(confidence(outputs, (0.0, 1.0)),
                               [0.0, (q - 1 / 3) / (2 / 3), (p.max() - 1 / 3) / (2 / 3)],
                               rtol=1e-12)
    np.testing.assert_allclose(confidence(np.array([[0.0], [0.5], [-3.0]]), (-1.0, 1.0)),
                               [0.0, 0.5, 1.0])


def test_test_points_toggle_and_planeless_data_is_refused():
    data = make_classification_data("rings", 40, 3, 0.1, 0, test_fraction=0.3)
    regions = DecisionRegions(data)
    Document().add_root(Column(regions.figure))
    assert regions.test_renderer.visible
    regions.show_test(False)
    assert not regions.test_renderer.visible
    regions.show_test(True)
    assert regions.test_renderer.visible
    no_test = DecisionRegions(make_classification_data("rings", 40, 3, 0.1, 0))
    assert not no_test.test_renderer.visible  # nothing to show
    from app.data.upload import parse_csv, upload_dataset

    wide = upload_dataset(parse_csv(b"a,b,c,label\n1,2,3,x\n4,5,6,y\n"))
    with pytest.raises(ValueError, match="decision regions need 2-D points"):
        DecisionRegions(wide)
