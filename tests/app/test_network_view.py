"""Network view: its Bokeh sources hold the weights, the gradient and the Hessian diagonal
that independent computations give (a hand-written forward pass, finite differences of a
hand-written loss, the dense Hessian), for the squared loss and for cross-entropy with
weight decay; the input plane, the feature map, 1-D data, RNNs and wide nets."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from app.configuration.settings import Settings
from app.data.classification import class_targets, feature_map, make_class_points
from app.training.session import TrainingSession
from app.views.network import PALETTE, PIXELS, NetworkView, hessian_diagonal, unit_positions
from tests.support import views as layout


def session_of(**settings):
    chosen = Settings(**settings)
    return TrainingSession(chosen), chosen


def forward_by_hand(weights, biases, X, hidden, output):
    """z^(0..l) with samples in rows, written out without the core."""
    functions = {"relu": lambda y: np.maximum(y, 0.0), "tanh": np.tanh, "identity": lambda y: y}
    z = [X]
    for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
        f = functions[output if k == len(weights) - 1 else hidden]
        z.append(f(z[-1] @ W.T + b))
    return z


def loss_by_hand(weights, biases, X, Z, lam):
    """Mean softmax cross-entropy of a tanh net with identity output, plus lam/2 sum ||W||^2."""
    logits = forward_by_hand(weights, biases, X, "tanh", "identity")[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    decay = 0.5 * lam * sum(float(np.sum(W * W)) for W in weights)
    return -float(np.mean(np.sum(Z * log_p, axis=1))) + decay


def cross_entropy_view(lam=0.05, features=None):
    """A view on a stand-in session: a tanh 2-4-3 cross-entropy net with weight decay on
    three-class blobs (or their features)."""
    from hessian_core import FNN

    data = make_class_points("blobs", 12, 3, 0.1, seed=2)
    X = data.points if features is None else feature_map(data.points, features)
    Z = class_targets(data.labels, 3, "cross_entropy")
    sizes = (X.shape[1], 4, 3)
    net = FNN.random(sizes, activation="tanh", output_activation="identity", seed=5,
                     loss="cross_entropy", weight_decay=lam)
    dataset = SimpleNamespace(X=X, points=data.points, features=features)
    session = SimpleNamespace(net=net, data=dataset, X=X, Z=Z, version=1, layer_sizes=sizes,
                              is_rnn=False, step=3)
    return NetworkView(session, Settings()), session


def split_by_level(values, sizes):
    counts = [sizes[k] * sizes[k + 1] for k in range(len(sizes) - 1)]
    return np.split(np.asarray(values), np.cumsum(counts)[:-1])


def test_edges_hold_the_weights_and_units_the_forward_pass():
    session, settings = session_of(activation="relu", output_activation="identity")
    for _ in range(5):
        session.train_step()
    view = NetworkView(session, settings)
    view.refresh()
    net, sizes = session.net, session.layer_sizes
    edges = view.edges.data
    for k, values in enumerate(split_by_level(edges["value"], sizes), start=1):
        np.testing.assert_array_equal(values, np.asarray(net.weights[k - 1]).ravel())
        np.testing.assert_array_equal(view.arrays[f"W{k}"], net.weights[k - 1])
    np.testing.assert_array_equal(edges["weight"], edges["value"])
    # edge i*n + j of level k runs from unit j of level k-1 to unit i of level k
    heights = unit_positions(sizes)
    first = slice(0, sizes[0] * sizes[1])
    n = sizes[0]
    for e in range(sizes[0] * sizes[1]):
        i, j = divmod(e, n)
        assert edges["y0"][first][e] == heights[0][j] and edges["y1"][first][e] == heights[1][i]
        assert edges["edge"][e] == f"level 1: unit {j + 1} → unit {i + 1}"
    # colour: red half for positive values, blue half for negative; width grows with |w|
    for value, colour in zip(edges["value"], edges["colour"], strict=True):
        index = PALETTE.index(colour)
        assert (index >= 127) if value > 0 else (index <= 128)
    order = np.argsort(np.abs(edges["value"]))
    assert np.all(np.diff(np.asarray(edges["width"])[order]) >= -1e-12)
    # heatmaps: each unit's output over a grid of the plane, scaled by its largest |z|
    data = session.data.X
    low, high = data.min(axis=0) - 0.1, data.max(axis=0) + 0.1
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], PIXELS), np.linspace(low[1], high[1],
                                                                             PIXELS))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    z = forward_by_hand([np.asarray(W) for W in net.weights],
                        [np.asarray(b) for b in net.biases], grid, "relu", "identity")
    images = view.units.data["image"]
    assert len(images) == sum(sizes)
    position = 0
    for level, size in enumerate(sizes):
        for i in range(size):
            expected = z[level][:, i] / (np.max(np.abs(z[level][:, i])) or 1.0)
            np.testing.assert_allclose(images[position], expected.reshape(PIXELS, PIXELS),
                                       rtol=1e-6, atol=1e-7)  # float32 images
            position += 1
    names = [name.translate(str.maketrans("₁₂", "12")) for name in view.units.data["unit"][:2]]
    assert names == ["x1", "x2"]
    np.testing.assert_array_equal(view.units.data["bias_value"][sizes[0]:sizes[0] + sizes[1]],
                                  net.biases[0])


def test_gradient_is_v_z_transpose_plus_decay_and_matches_finite_differences():
    lam = 0.05
    view, session = cross_entropy_view(lam)
    view.settings.network_shows = "G"
    view.refresh()
    net, sizes = session.net, session.layer_sizes
    weights = [np.array(W) for W in net.weights]
    biases = [np.array(b) for b in net.biases]
    gradients = net.gradients(session.X, session.Z)
    shown = split_by_level(view.edges.data["value"], sizes)
    h = 1e-6
    for k, g in enumerate(gradients):
        V, Zf = g.factors()
        np.testing.assert_allclose(shown[k], (V @ Zf.T + lam * weights[k]).ravel(), rtol=1e-12,
                                   atol=1e-15)
        for index in range(weights[k].size):
            plus = [W.copy() for W in weights]
            minus = [W.copy() for W in weights]
            plus[k].flat[index] += h
            minus[k].flat[index] -= h
            difference = (loss_by_hand(plus, biases, session.X, session.Z, lam)
                          - loss_by_hand(minus, biases, session.X, session.Z, lam)) / (2 * h)
            assert shown[k][index] == pytest.approx(difference, rel=1e-6, abs=1e-9)
    hidden = view.units.data["bias_value"][sizes[0]:sizes[0] + sizes[1]]
    np.testing.assert_allclose(hidden, gradients[0].b, rtol=1e-12)
    assert "plus λ_wd·W" in layout.find(view, "network-caption").object and "G_W1" in view.arrays


def test_hessian_diagonal_matches_second_differences_with_cross_entropy_and_decay():
    lam = 0.05
    view, session = cross_entropy_view(lam)
    view.settings.network_shows = "H"
    view.refresh()
    net, sizes = session.net, session.layer_sizes
    weights = [np.array(W) for W in net.weights]
    biases = [np.array(b) for b in net.biases]
    shown = split_by_level(view.edges.data["value"], sizes)
    centre = loss_by_hand(weights, biases, session.X, session.Z, lam)
    h = 1e-4
    for k in range(len(weights)):
        dense = np.asarray(net.hessian(session.X, session.Z, layer=k + 1).dense())
        np.testing.assert_allclose(shown[k], np.diag(dense), rtol=1e-10, atol=1e-14)
        for index in range(weights[k].size):
            plus = [W.copy() for W in weights]
            minus = [W.copy() for W in weights]
            plus[k].flat[index] += h
            minus[k].flat[index] -= h
            second = (loss_by_hand(plus, biases, session.X, session.Z, lam) - 2 * centre
                      + loss_by_hand(minus, biases, session.X, session.Z, lam)) / h ** 2
            assert shown[k][index] == pytest.approx(second, rel=1e-4, abs=1e-6)
    # bias hover: the diagonal of H_b, no decay on biases
    bias_dense = np.asarray(net.hessian(session.X, session.Z, layer=1, wrt="b").dense())
    np.testing.assert_allclose(view.units.data["bias_value"][2:6], np.diag(bias_dense),
                               rtol=1e-10)
    assert view.units.data["bias"][2] == "d²E/db²"
    np.testing.assert_allclose(view.arrays["H_W_diagonal2"], np.diag(
        np.asarray(net.hessian(session.X, session.Z, layer=2).dense())).reshape(3, 4))


@pytest.mark.parametrize("wrt, t", [("W", 3), ("U", 3), ("U", 1)])
def test_hessian_diagonal_from_factors_equals_the_dense_diagonal_for_rnns(wrt, t):
    from hessian_core import RNN

    rng = np.random.default_rng(0)
    rnn = RNN.random((2, 3, 2), activation="tanh", output_activation="identity", seed=1,
                     weight_decay=0.02)
    X = rng.standard_normal((3, 4, 2))
    Z = rng.standard_normal((3, 4, 2))
    for layer in (1, 2):
        hessian = rnn.hessian(X, Z, layer=layer, t=t, wrt=wrt)
        expected = np.diag(np.asarray(hessian.dense())).reshape(hessian.n_outputs, -1)
        np.testing.assert_allclose(hessian_diagonal(hessian), expected, rtol=1e-10,
                                   atol=1e-14)


def test_input_neurons_show_the_features_over_the_plane():
    features = ("x1", "x2", "x1_x2", "sin_x1")
    view, session = cross_entropy_view(features=features)
    view.refresh()
    points = session.data.points
    low, high = points.min(axis=0) - 0.1, points.max(axis=0) + 0.1
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], PIXELS), np.linspace(low[1], high[1],
                                                                             PIXELS))
    x1, x2 = gx.ravel(), gy.ravel()
    columns = [x1, x2, x1 * x2, np.sin(np.pi * x1)]
    for j, column in enumerate(columns):
        expected = (column / np.max(np.abs(column))).reshape(PIXELS, PIXELS)
        np.testing.assert_allclose(view.units.data["image"][j], expected, rtol=1e-6,
                                   atol=1e-7)  # float32 images
    assert view.input_labels.data["text"] == ["x₁", "x₂", "x₁x₂", "sin(πx₁)"]
    assert view.units.data["unit"][:4] == ["x₁", "x₂", "x₁x₂", "sin(πx₁)"]


def test_one_dimensional_data_gives_strips():
    session, settings = session_of(dataset="regression", architecture="1-6-1")
    view = NetworkView(session, settings)
    view.refresh()
    assert all(np.shape(image) == (1, PIXELS) for image in view.units.data["image"])
    assert len(view.edges.data["value"]) == 6 + 6


@pytest.mark.parametrize("quantity", ["W", "G", "H"])
def test_rnn_levels_hold_w_its_gradient_and_hessian_diagonal(quantity):
    session, settings = session_of(model="rnn", levels=1, hidden_width=4, tau=5, time_step=3)
    settings.network_shows = quantity
    view = NetworkView(session, settings)
    view.refresh()
    net, sizes = session.net, session.layer_sizes
    if quantity == "W":
        expected = [np.asarray(W) for W in net.weights]
    elif quantity == "G":
        expected = [np.asarray(g.W) for g in net.gradients(session.X, session.Z,
                                                            **session.loss_keywords())]
    else:
        expected = [np.diag(np.asarray(net.hessian(session.X, session.Z, layer=k, t=3,
                                                   wrt="W").dense()))
                    for k in range(1, net.n_layers + 1)]
    for shown, values in zip(split_by_level(view.edges.data["value"], sizes), expected,
                             strict=True):
        np.testing.assert_allclose(shown, np.ravel(values), rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(view.arrays["U1"], net.recurrent[0])
    # each neuron: a strip of its output over the tau = 5 steps of the chosen sequence
    assert all(np.shape(image) == (1, 5) for image in view.units.data["image"])
    X = view.batch()[0]
    states = np.asarray(net.forward(X[:1]).activations[1])[0]  # (tau, width), sequence 0
    first_unit = np.asarray(view.units.data["image"][sizes[0]], float)[0]
    np.testing.assert_allclose(first_unit, states[:, 0] / np.max(np.abs(states[:, 0])),
                               rtol=1e-5)
    assert "feedback matrices U⁽ᵏ⁾ are not drawn" in layout.find(view, "network-caption").object


def test_wide_levels_say_why_they_are_not_drawn():
    session, settings = session_of(architecture="2-40-1")
    view = NetworkView(session, settings)
    view.refresh()
    assert not layout.shown(view, view.plot)
    assert "at most 32 units" in view.note and "40" in view.note


def test_the_buttons_are_a_url_setting_and_redraw_through_the_dashboard(rendered):
    dashboard = rendered(view="network")
    view, session = dashboard.views["network"], dashboard.session
    assert "network_shows" in dashboard.settings.query_parameters()
    layout.find(view, "network-quantity").value = "G"  # the "gradient" button pressed
    assert dashboard.settings.network_shows == "G" and view.quantity == "G"
    gradients = session.net.gradients(session.X, session.Z)
    expected = np.concatenate([np.asarray(g.W).ravel() for g in gradients])
    np.testing.assert_allclose(view.edges.data["value"], expected, rtol=1e-12)
    dashboard.settings.network_shows = "W"
    assert layout.find(view, "network-quantity").value == "W"
    np.testing.assert_array_equal(view.edges.data["value"],
                                  np.concatenate([np.ravel(W) for W in session.net.weights]))


def test_core_work_runs_on_the_worker_thread():
    from app.views.common import WAITING

    session, settings = session_of()
    settings.network_shows = "H"
    view = NetworkView(session, settings)
    with ThreadPoolExecutor(max_workers=1) as executor:
        view.executor = executor
        steps = list(view.redraw())
    assert steps.count(None) == 2 and all(step in (None, WAITING) for step in steps)
    assert view.worker_seconds > 0
    forward = session.net.forward(session.X)
    adjoints = session.net.adjoints(forward, session.Z)
    first = np.diag(np.asarray(session.net.hessian_from(forward, adjoints, 1).dense()))
    np.testing.assert_allclose(view.edges.data["value"][: first.size], first, rtol=1e-10,
                               atol=1e-15)
