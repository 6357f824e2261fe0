"""The finite-difference reference checked against closed forms (no hessian_core involved).

If these fail, every other core test is meaningless; they run first in file order.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference
from core_checks import GRADIENT_RTOL, HESSIAN_RTOL, LOSS_RTOL, assert_close


def _derivatives(name: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f'(y), f''(y) written out by hand for the closed forms."""
    s = 1.0 / (1.0 + np.exp(-y))
    th = np.tanh(y)
    first = {
        "relu": (y > 0).astype(float),
        "sigmoid": s * (1 - s),
        "tanh": 1 - th**2,
        "softplus": s,
        "identity": np.ones_like(y),
    }[name]
    second = {
        "relu": np.zeros_like(y),
        "sigmoid": s * (1 - s) * (1 - 2 * s),
        "tanh": -2 * th * (1 - th**2),
        "softplus": s * (1 - s),
        "identity": np.zeros_like(y),
    }[name]
    return first, second


def _one_level(seed: int, m: int, n: int, r: int, activation: str):
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        W = rng.normal(size=(m, n)) * 1.5 / np.sqrt(n)
        b = rng.normal(size=m)
        X = 1.5 * rng.normal(size=(r, n))
        Z_target = rng.normal(size=(r, m))
        if activation != "relu" or np.min(np.abs(X @ W.T + b)) > 0.05:
            return W, b, X, Z_target
    raise RuntimeError("no draw away from the ReLU kinks")


@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_one_level_fnn_closed_form(activation, batch_size):
    """E = 1/(2r) sum ||f(W x + b) - z*||^2 has
    G_W = (1/r) sum (f - z*) o f'  x^T  and
    H_W = (1/r) sum diag(f'^2 + (f - z*) o f'') kron x x^T (row-major vec), H_b likewise."""
    W, b, X, Z_target = _one_level(11 + batch_size, 4, 5, batch_size, activation)
    Y = X @ W.T + b
    Z = reference.activate(activation, Y)
    first, second = _derivatives(activation, Y)
    residual = Z - Z_target
    G = (residual * first).T @ X / batch_size
    curvature = [np.diag(first[p] ** 2 + residual[p] * second[p]) for p in range(batch_size)]
    H_W = sum(np.kron(curvature[p], np.outer(X[p], X[p])) for p in range(batch_size)) / batch_size
    H_b = sum(curvature) / batch_size

    loss = reference.fnn_loss([W], [b], activation, None, X, Z_target)
    assert_close(loss, 0.5 * np.sum(residual**2) / batch_size, LOSS_RTOL, "loss")
    loss_fn, theta = reference.fnn_block_loss([W], [b], activation, None, X, Z_target, 1, "W")
    assert_close(reference.fd_gradient(loss_fn, theta), G.reshape(-1), GRADIENT_RTOL, "FD G_W")
    assert_close(reference.fd_hessian(loss_fn, theta), H_W, HESSIAN_RTOL, "FD H_W")
    loss_fn, theta = reference.fnn_block_loss([W], [b], activation, None, X, Z_target, 1, "b")
    assert_close(reference.fd_hessian(loss_fn, theta), H_b, HESSIAN_RTOL, "FD H_b")


def test_two_level_identity_fnn_closed_form():
    """Linear net: H_W^(1) = (1/r) sum (W2^T W2) kron x x^T."""
    rng = np.random.default_rng(3)
    W1, W2 = rng.normal(size=(3, 4)), rng.normal(size=(2, 3))
    b1, b2 = rng.normal(size=3), rng.normal(size=2)
    X, Z_target = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    expected = sum(np.kron(W2.T @ W2, np.outer(x, x)) for x in X) / 5
    loss_fn, theta = reference.fnn_block_loss(
        [W1, W2], [b1, b2], "identity", None, X, Z_target, 1, "W"
    )
    assert_close(reference.fd_hessian(loss_fn, theta), expected, HESSIAN_RTOL, "FD H_W^(1)")


@pytest.mark.parametrize("t", [1, 2, 3])
def test_one_level_identity_rnn_closed_form(t):
    """Linear RNN: y^(t) = sum_s U^(t-s) (W x^(s) + b), so with J = sum_s U^(t-s) kron x^(s)T
    the Hessian of E^(t) w.r.t. vec(W) is (1/r) sum_p J_p^T J_p."""
    rng = np.random.default_rng(5 + t)
    m, n, r, tau = 3, 2, 2, 3
    W, U, b = rng.normal(size=(m, n)), 0.7 * rng.normal(size=(m, m)), rng.normal(size=m)
    X, Z_target = rng.normal(size=(r, tau, n)), rng.normal(size=(r, tau, m))
    expected = np.zeros((m * n, m * n))
    for p in range(r):
        J = sum(
            np.kron(np.linalg.matrix_power(U, t - s), X[p, s - 1][None, :]) for s in range(1, t + 1)
        )
        expected += J.T @ J / r
    loss_fn, theta = reference.rnn_block_loss(
        [W], [U], [b], "identity", None, X, Z_target, 1, "W", t
    )
    assert_close(reference.fd_hessian(loss_fn, theta), expected, HESSIAN_RTOL, "FD H_W (RNN)")


def test_fd_on_an_analytic_function():
    """f = exp(a.theta) + theta^T A theta / 2: grad = a e + A theta, H = a a^T e + A."""
    rng = np.random.default_rng(0)
    a = 0.3 * rng.normal(size=6)
    A = rng.normal(size=(6, 6))
    A = A + A.T
    theta = rng.normal(size=6)

    def f(x):
        return float(np.exp(a @ x) + 0.5 * x @ A @ x)

    e = np.exp(a @ theta)
    assert_close(reference.fd_gradient(f, theta), a * e + A @ theta, GRADIENT_RTOL, "gradient")
    H = reference.fd_hessian(f, theta)
    assert_close(H, np.outer(a, a) * e + A, HESSIAN_RTOL, "Hessian")
    assert np.array_equal(H, H.T), "the FD Hessian must be exactly symmetric"


def test_rnn_without_feedback_is_an_fnn_per_time_step():
    rng = np.random.default_rng(9)
    weights = [rng.normal(size=(3, 2)), rng.normal(size=(2, 3))]
    biases = [rng.normal(size=3), rng.normal(size=2)]
    recurrent = [np.zeros((3, 3)), np.zeros((2, 2))]
    X = rng.normal(size=(4, 3, 2))
    Z_target = rng.normal(size=(4, 3, 2))
    pre, post = reference.rnn_forward(weights, recurrent, biases, "tanh", "sigmoid", X)
    for s in range(3):
        fnn_pre, fnn_post = reference.fnn_forward(weights, biases, "tanh", "sigmoid", X[:, s])
        for k in range(2):
            assert_close(pre[k][:, s], fnn_pre[k], LOSS_RTOL, f"Y^({k + 1},{s + 1})")
            assert_close(post[k + 1][:, s], fnn_post[k + 1], LOSS_RTOL, f"Z^({k + 1},{s + 1})")
    total = reference.rnn_loss(weights, recurrent, biases, "tanh", "sigmoid", X, Z_target, None, 2)
    parts = [
        reference.rnn_loss(weights, recurrent, biases, "tanh", "sigmoid", X, Z_target, t)
        for t in (2, 3)
    ]
    assert_close(total, sum(parts), LOSS_RTOL, "E = sum_{t=a..tau} E^(t)")


def test_kink_guard_refuses_a_step_across_a_relu_kink():
    W = np.array([[1.0, -1.0]])
    b = np.array([0.0])
    X = np.array([[1.0, 1.0 - 1e-12]])  # y = 1e-12: every usable step crosses 0
    loss_fn, theta = reference.fnn_block_loss([W], [b], "relu", None, X, np.zeros((1, 1)), 1)
    with pytest.raises(reference.KinkCrossed, match="kink"):
        reference.fd_hessian(loss_fn, theta)


def test_reference_rejects_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        reference.activate("gelu", np.zeros(2))
