"""Loss, forward pass and gradients (Lemma 1/2, Corollary 1/3) against the FD reference.

Table: activation x depth (1-3 FNN, 1-2 RNN) x batch (1, 3) x level (x output time for RNNs).
Also checks the factors: G == V @ Z.T with width q = r (FNN) or r*t (RNN).
"""

from __future__ import annotations

import numpy as np
import pytest
import reference
from core_cases import (
    ACTIVATION_PAIRS,
    BATCH_SIZES,
    FNN_CASES,
    FNN_SIZES,
    RNN_SIZES,
    RNN_TAU,
    fnn_case,
    fnn_fd_gradient,
    rnn_case,
    rnn_fd_gradient,
)
from core_checks import GRADIENT_RTOL, LOSS_RTOL, ROUNDOFF_RTOL, assert_close, to_numpy

RNN_TIMES = (1, 2, RNN_TAU)
RNN_CASES = [
    pytest.param(activation, output, depth, batch, layer, t,
                 id=f"{activation}-{output or 'same'}-l{depth}-r{batch}-k{layer}-t{t}")
    for activation, output in ACTIVATION_PAIRS
    for depth in RNN_SIZES
    for batch in BATCH_SIZES
    for layer in range(1, depth + 1)
    for t in RNN_TIMES
]


# ------------------------------------------------------------------------------------ FNN


@pytest.mark.parametrize("activation,output_activation", ACTIVATION_PAIRS)
@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_fnn_loss_and_forward(xp, activation, output_activation, batch_size):
    case = fnn_case(FNN_SIZES[3], batch_size, activation, output_activation)
    net, X, Z_target = case.build(xp)
    loss = net.loss(X, Z_target)
    assert isinstance(loss, float), f"loss must be a Python float, got {type(loss)}"
    assert_close(loss, case.loss(), LOSS_RTOL, f"{case}: loss")
    pre, post = reference.fnn_forward(case.weights, case.biases, activation, output_activation,
                                      case.X)
    forward = net.forward(X)
    assert len(forward.pre_activations) == 3 and len(forward.activations) == 4
    for k in range(3):
        assert_close(to_numpy(forward.pre_activations[k], xp), pre[k], LOSS_RTOL, f"{case}: Y{k+1}")
    for k in range(4):
        assert_close(to_numpy(forward.activations[k], xp), post[k], LOSS_RTOL, f"{case}: Z{k}")


@pytest.mark.parametrize("activation,output_activation,depth,batch_size,layer", FNN_CASES)
def test_fnn_gradient_matches_finite_differences(
    xp, activation, output_activation, depth, batch_size, layer
):
    case = fnn_case(FNN_SIZES[depth], batch_size, activation, output_activation)
    net, X, Z_target = case.build(xp)
    g = net.gradient(X, Z_target, layer=layer)
    label = f"{case} layer={layer}"
    G = to_numpy(g.W, xp, "g.W")
    assert_close(G, fnn_fd_gradient(case, layer, "W"), GRADIENT_RTOL, f"{label}: g.W")
    assert_close(to_numpy(g.b, xp, "g.b"), fnn_fd_gradient(case, layer, "b"), GRADIENT_RTOL,
                 f"{label}: g.b")

    V, Z = (to_numpy(a, xp, "factor") for a in g.factors())
    m, n = case.weights[layer - 1].shape
    assert V.shape == (m, batch_size), f"{label}: V has shape {V.shape}, expected {(m, batch_size)}"
    assert Z.shape == (n, batch_size), f"{label}: Z has shape {Z.shape}, expected {(n, batch_size)}"
    assert_close(V @ Z.T, G, ROUNDOFF_RTOL, f"{label}: V @ Z.T == G (Corollary 1)")


@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
def test_fnn_gradients_agree_with_gradient(xp, activation):
    case = fnn_case(FNN_SIZES[3], 3, activation)
    net, X, Z_target = case.build(xp)
    all_levels = net.gradients(X, Z_target)
    assert len(all_levels) == 3
    for layer, g in enumerate(all_levels, start=1):
        one = net.gradient(X, Z_target, layer=layer)
        for name in ("W", "b"):
            assert_close(to_numpy(getattr(g, name), xp), to_numpy(getattr(one, name), xp),
                         ROUNDOFF_RTOL, f"{case}: gradients()[{layer - 1}].{name}")


def test_fnn_single_sample_without_batch_axis(xp):
    """A single sample may be given without the leading r axis (CONTRACT)."""
    case = fnn_case(FNN_SIZES[2], 1, "tanh")
    net, X, Z_target = case.build(xp)
    x, z = xp.asarray(case.X[0]), xp.asarray(case.Z_target[0])
    assert_close(net.loss(x, z), net.loss(X, Z_target), ROUNDOFF_RTOL, "loss of one sample")
    for layer in (1, 2):
        assert_close(to_numpy(net.gradient(x, z, layer=layer).W, xp),
                     to_numpy(net.gradient(X, Z_target, layer=layer).W, xp),
                     ROUNDOFF_RTOL, f"g.W of one sample, layer {layer}")
        assert_close(to_numpy(net.hessian(x, z, layer=layer).dense(), xp),
                     to_numpy(net.hessian(X, Z_target, layer=layer).dense(), xp),
                     ROUNDOFF_RTOL, f"H_W of one sample, layer {layer}")


# ------------------------------------------------------------------------------------ RNN


@pytest.mark.parametrize("activation,output_activation", ACTIVATION_PAIRS)
@pytest.mark.parametrize("t", [1, RNN_TAU, None])
def test_rnn_loss_and_forward(xp, activation, output_activation, t):
    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, activation, output_activation)
    net, X, Z_target = case.build(xp)
    if t is None:
        for a in (1, 2):
            loss = net.loss(X, Z_target, t=None, outputs_from=a)
            assert isinstance(loss, float), f"loss must be a Python float, got {type(loss)}"
            assert_close(loss, case.loss(None, a), LOSS_RTOL, f"{case}: loss, outputs_from={a}")
    else:
        assert_close(net.loss(X, Z_target, t=t), case.loss(t), LOSS_RTOL, f"{case}: E^({t})")
    pre, post = reference.rnn_forward(case.weights, case.recurrent, case.biases, activation,
                                      output_activation, case.X)
    forward = net.forward(X)
    for k in range(2):
        assert_close(to_numpy(forward.pre_activations[k], xp), pre[k], LOSS_RTOL,
                     f"{case}: Y{k + 1} (r, tau, m)")
    for k in range(3):
        assert_close(to_numpy(forward.activations[k], xp), post[k], LOSS_RTOL,
                     f"{case}: Z{k} (r, tau, m)")


@pytest.mark.parametrize("activation,output_activation,depth,batch_size,layer,t", RNN_CASES)
def test_rnn_gradient_matches_finite_differences(
    xp, activation, output_activation, depth, batch_size, layer, t
):
    case = rnn_case(RNN_SIZES[depth], batch_size, RNN_TAU, activation, output_activation)
    net, X, Z_target = case.build(xp)
    g = net.gradient(X, Z_target, layer=layer, t=t)
    label = f"{case} layer={layer} t={t}"
    gradients = {}
    for name in ("W", "U", "b"):
        gradients[name] = to_numpy(getattr(g, name), xp, f"g.{name}")
        assert_close(gradients[name], rnn_fd_gradient(case, layer, name, t), GRADIENT_RTOL,
                     f"{label}: g.{name}")

    m, n = case.weights[layer - 1].shape
    width = batch_size * t
    for name, rows in (("W", n), ("U", m)):
        V, Z = (to_numpy(a, xp, "factor") for a in g.factors(name))
        assert V.shape == (m, width), f"{label}: V({name}) shape {V.shape}, expected {(m, width)}"
        assert Z.shape == (rows, width), (
            f"{label}: Z({name}) shape {Z.shape}, expected {(rows, width)} (q = r*t)"
        )
        assert_close(V @ Z.T, gradients[name], ROUNDOFF_RTOL,
                     f"{label}: V @ Z.T == G_{name} (Corollary 3)")


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
@pytest.mark.parametrize("outputs_from", [1, 2])
def test_rnn_gradient_of_the_summed_loss(xp, activation, outputs_from):
    """t=None: derivatives of E = sum_{t=a..tau} E^(t)."""
    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, activation)
    net, X, Z_target = case.build(xp)
    every_level = net.gradients(X, Z_target, t=None, outputs_from=outputs_from)
    assert len(every_level) == 2
    for layer in (1, 2):
        g = net.gradient(X, Z_target, layer=layer, t=None, outputs_from=outputs_from)
        label = f"{case} layer={layer} t=None a={outputs_from}"
        for name in ("W", "U", "b"):
            expected = rnn_fd_gradient(case, layer, name, None, outputs_from)
            assert_close(to_numpy(getattr(g, name), xp), expected, GRADIENT_RTOL,
                         f"{label}: g.{name}")
            assert_close(to_numpy(getattr(every_level[layer - 1], name), xp), expected,
                         GRADIENT_RTOL, f"{label}: gradients()[{layer - 1}].{name}")
        for name in ("W", "U"):
            V, Z = (to_numpy(a, xp) for a in g.factors(name))
            assert_close(V @ Z.T, to_numpy(getattr(g, name), xp), ROUNDOFF_RTOL,
                         f"{label}: V @ Z.T == G_{name}")


def test_rnn_gradient_of_sum_is_sum_of_gradients(xp):
    case = rnn_case(RNN_SIZES[1], 3, RNN_TAU, "sigmoid")
    net, X, Z_target = case.build(xp)
    total = to_numpy(net.gradient(X, Z_target, layer=1, t=None).W, xp)
    parts = sum(to_numpy(net.gradient(X, Z_target, layer=1, t=t).W, xp)
                for t in range(1, RNN_TAU + 1))
    assert_close(total, parts, ROUNDOFF_RTOL, "dE/dW == sum_t dE^(t)/dW")
    assert np.linalg.norm(parts) > 0


def test_rnn_single_sequence_without_batch_axis(xp):
    """One sequence may be given as X (tau, N), Z_target (tau, M)."""
    case = rnn_case(RNN_SIZES[2], 1, RNN_TAU, "tanh")
    net, X, Z_target = case.build(xp)
    x, z = xp.asarray(case.X[0]), xp.asarray(case.Z_target[0])
    for t in (2, None):
        assert_close(net.loss(x, z, t=t), net.loss(X, Z_target, t=t), ROUNDOFF_RTOL,
                     f"loss of one sequence, t={t}")
        for layer in (1, 2):
            one = net.gradient(x, z, layer=layer, t=t)
            batch = net.gradient(X, Z_target, layer=layer, t=t)
            for name in ("W", "U", "b"):
                assert_close(to_numpy(getattr(one, name), xp),
                             to_numpy(getattr(batch, name), xp), ROUNDOFF_RTOL,
                             f"g.{name} of one sequence, layer {layer}, t={t}")
            assert_close(to_numpy(net.hessian(x, z, layer=layer, t=t, wrt="U").dense(), xp),
                         to_numpy(net.hessian(X, Z_target, layer=layer, t=t, wrt="U").dense(),
                                  xp),
                         ROUNDOFF_RTOL, f"H_U of one sequence, layer {layer}, t={t}")


def test_relu_derivatives_at_exactly_zero_are_zero(xp):
    """CONTRACT: ReLU derivatives at exactly 0 are taken as 0 (W = 0, b = 0 puts every y at 0)."""
    from hessian_core import FNN, RNN

    X = xp.asarray(np.ones((2, 3)))
    Z_target = xp.asarray(np.ones((2, 2)))
    net = FNN([xp.zeros((2, 3), dtype=X.dtype)], [xp.zeros((2,), dtype=X.dtype)],
              activation="relu")
    g = net.gradient(X, Z_target, layer=1)
    assert_close(to_numpy(g.W, xp), np.zeros((2, 3)), ROUNDOFF_RTOL, "FNN g.W at y = 0")
    assert_close(to_numpy(g.b, xp), np.zeros(2), ROUNDOFF_RTOL, "FNN g.b at y = 0")
    for formula in ("exact", "paper"):
        H = to_numpy(net.hessian(X, Z_target, layer=1, formula=formula).dense(), xp)
        assert_close(H, np.zeros((6, 6)), ROUNDOFF_RTOL, f"FNN H_W ({formula}) at y = 0")

    rnn = RNN([xp.zeros((2, 3), dtype=X.dtype)], [xp.zeros((2, 2), dtype=X.dtype)],
              [xp.zeros((2,), dtype=X.dtype)], activation="relu")
    X3 = xp.asarray(np.ones((2, 3, 3)))
    Z3 = xp.asarray(np.ones((2, 3, 2)))
    g = rnn.gradient(X3, Z3, layer=1, t=None)
    for name in ("W", "U", "b"):
        value = to_numpy(getattr(g, name), xp)
        assert_close(value, np.zeros_like(value), ROUNDOFF_RTOL, f"RNN g.{name} at y = 0")
    for wrt in ("W", "U", "b"):
        H = to_numpy(rnn.hessian(X3, Z3, layer=1, t=None, wrt=wrt).dense(), xp)
        assert_close(H, np.zeros_like(H), ROUNDOFF_RTOL, f"RNN H_{wrt} at y = 0")
