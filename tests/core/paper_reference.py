"""The paper's Hessian formulas as printed, written out plainly in NumPy, per sample.

A second, independent reading of Theorem 1 (eq. 28-35) and Theorem 2 (eq. 74-84), used to
check that ``formula="paper"`` evaluates the paper literally. Nothing is imported from
``hessian_core``. Conventions as in ``tests/reference.py`` (samples in rows, W (m, n),
row-major vec, 1-based levels and times); the batch loss 1/(2r) sum_p puts a factor 1/r on
each sample's Hessian.

Reading of Theorem 2 (the one docs/errata.md states): the loss is E^(t) for one output time
t, which depends on no state after time t, so the "time t+1" terms of (82) and (84) are zero;
for t=None the Hessian of E = sum_{t=a..tau} E^(t) is the sum of the per-t Hessians.
"""

from __future__ import annotations

import numpy as np
import reference


def derivatives(name: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f'(y), f''(y) of activation ``name`` (ReLU: both 0 at y <= 0)."""
    s = 0.5 * (1.0 + np.tanh(0.5 * y))
    th = np.tanh(y)
    if name == "relu":
        return (y > 0).astype(float), np.zeros_like(y)
    if name == "sigmoid":
        return s * (1 - s), s * (1 - s) * (1 - 2 * s)
    if name == "tanh":
        return 1 - th**2, -2 * th * (1 - th**2)
    if name == "softplus":
        return s, s * (1 - s)
    if name == "identity":
        return np.ones_like(y), np.zeros_like(y)
    raise ValueError(f"activation must be one of {reference.ACTIVATIONS}, got {name!r}")


def _names(n_layers, activation, output_activation):
    names = [activation] * n_layers
    if output_activation is not None:
        names[-1] = output_activation
    return names


def fnn_paper_hessian(weights, biases, activation, output_activation, X, Z_target,
                      layer: int, wrt: str = "W") -> np.ndarray:
    """Theorem 1: H = (1/r) sum_p (C o F + D) kron z z^T at level ``layer`` (H_b: C o F + D)."""
    names = _names(len(weights), activation, output_activation)
    pre, post = reference.fnn_forward(weights, biases, activation, output_activation, X)
    r, l = X.shape[0], len(weights)
    total = 0.0
    for p in range(r):
        first = [derivatives(names[k], pre[k][p])[0] for k in range(l)]
        second = [derivatives(names[k], pre[k][p])[1] for k in range(l)]
        # (34)-(35): the f''-vectors v^(k)
        v = [None] * l
        v[l - 1] = -(Z_target[p] - post[l][p]) * second[l - 1]
        for k in range(l - 1, 0, -1):  # level k+1 -> level k (0-based k-1 -> k)
            v[k - 1] = (weights[k].T @ v[k]) * second[k - 1]
        # (30), (32), (33)
        F = [np.outer(f, f) for f in first]
        C = np.eye(len(first[l - 1])) * F[l - 1]
        for k in range(l - 1, layer - 1, -1):  # down to the requested level
            C = weights[k].T @ (C * F[k] + np.diag(v[k])) @ weights[k]
        A = C * F[layer - 1] + np.diag(v[layer - 1])
        z = post[layer - 1][p]
        total = total + (np.kron(A, np.outer(z, z)) if wrt == "W" else A)
    return total / r


def _rnn_paper_one_time(weights, recurrent, names, pre, post, Z_target, p, layer, t, wrt):
    """One sample's Hessian of E^(t) by eq. (74)-(84), t+1 terms zero."""
    l = len(weights)
    k0 = layer - 1
    first = [derivatives(names[k], pre[k][p])[0] for k in range(l)]  # each (tau, m_k)
    second = [derivatives(names[k], pre[k][p])[1] for k in range(l)]
    s_t = t - 1
    # (83)-(84) at time t only
    v = [None] * l
    v[l - 1] = -(Z_target[p, s_t] - post[l][p, s_t]) * second[l - 1][s_t]
    for k in range(l - 1, k0, -1):
        v[k - 1] = (weights[k].T @ v[k]) * second[k - 1][s_t]
    # (78)-(82) at time t only
    F = [np.outer(first[k][s_t], first[k][s_t]) for k in range(l)]
    C = np.eye(F[l - 1].shape[0]) * F[l - 1]
    A = C * F[l - 1] + np.diag(v[l - 1])
    for k in range(l - 1, k0, -1):
        C = weights[k].T @ A @ weights[k]
        A = C * F[k - 1] + np.diag(v[k - 1])
    # (77): P_s = U diag(f'(y^(t-1))) ... U diag(f'(y^(s)))
    U = recurrent[k0]
    m = U.shape[0]
    P = {t: np.eye(m)}
    for s in range(t - 1, 0, -1):
        P[s] = P[s + 1] @ (U * first[k0][s - 1][None, :])
    if wrt == "W":
        inputs = {s: post[k0][p, s - 1] for s in range(1, t + 1)}
    elif wrt == "U":
        inputs = {s: (post[k0 + 1][p, s - 2] if s > 1 else np.zeros(m)) for s in range(1, t + 1)}
    else:
        inputs = {s: np.ones(1) for s in range(1, t + 1)}
    n = len(inputs[1])
    H = np.zeros((m * n, m * n))
    for s in range(1, t + 1):
        for zeta in range(1, t + 1):
            block = P[s].T @ A @ P[zeta]
            H += np.kron(block, np.outer(inputs[s], inputs[zeta]))
    return H


def rnn_paper_hessian(weights, recurrent, biases, activation, output_activation, X, Z_target,
                      layer: int, wrt: str = "W", t: int | None = None,
                      outputs_from: int = 1) -> np.ndarray:
    """Theorem 2 as printed: (1/r) sum_p sum_(s,zeta) C~ kron z_s z_zeta^T (H_b: sum C~)."""
    names = _names(len(weights), activation, output_activation)
    pre, post = reference.rnn_forward(weights, recurrent, biases, activation,
                                      output_activation, X)
    r, tau = X.shape[0], X.shape[1]
    times = [t] if t is not None else list(range(outputs_from, tau + 1))
    total = 0.0
    for p in range(r):
        for time in times:
            total = total + _rnn_paper_one_time(weights, recurrent, names, pre, post, Z_target,
                                                p, layer, time, wrt)
    return total / r
