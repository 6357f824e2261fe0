"""Closed-form exact curvature of the top level of an RNN (a fast path of :mod:`hessian_core.rnn`).

A perturbation of the top level l reaches nothing but level l itself, whose state y^(l,s) is
Markov in time (for one level, that is the whole network), so the exact pre-activation Hessian
M_{s,zeta} = d^2E / dy^(s) dy^(zeta) follows from one backward recursion (0-based or 1-based
alike; g_z = dE/dz from BPTT, w_s = 1 at the output times in the loss):

    Q_s     = w_s I / r + U^T M_{s+1,s+1} U                     (Hessian w.r.t. z^(s))
    M_{s,s} = diag(f'(y^(s))) Q_s diag(f'(y^(s))) + diag(g_z^(s) o f''(y^(s)))
    M_{zeta,s} = M_{zeta,zeta} U~^(zeta-1) ... U~^(s)   (s < zeta),  U~^(h) = U diag(f'(y^(h)))

(the loss depends on a perturbation at time s < zeta only through y^(zeta) when differentiated
by one at time zeta). Compared with the paper's eq. (77), M_{s,s} carries the f'' terms of
every step, not only the last.

The exact Hessian with respect to U adds to the Kronecker sum with inputs z^(s-1) the terms
of the recurrent input's own dependence on U (eq. 75 misses them). With the tangent
coefficients S_s[j, a, b] = d y_j^(s) / d u_ab along the trajectory,

    S_s = U~^(s-1) S_{s-1} + I kron z^(s-1),     K_s[j, a, b] = f'(y_j^(s)) S_s[j, a, b],
    B[(i, j), (a, b)] = sum_p sum_s g_y,i^(s) K_{s-1}[j, a, b],
    H_U = (Kronecker sum) + B + B^T.

Cost O(r T^2 m^3) for M and O(r T m^4) for B, with batched matrix products only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .results import Forward
    from .rnn import RNN
    from .rnn_hvp import Adjoints

__all__ = ["top_level_preactivation_hessian", "top_level_recurrent_remainder"]


def _device(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(x)


def top_level_preactivation_hessian(rnn: RNN, forward: Forward, adjoints: Adjoints) -> Any:
    """M of the top level l for every sample: (r, T, m, T, m)."""
    xp = rnn.xp
    Y = forward.pre_activations[-1]
    r, T, m = Y.shape
    act = rnn.activation_of(rnn.n_layers)
    fp, fpp = act.df(xp, Y), act.d2f(xp, Y)
    U = rnn.recurrent[-1]
    curvature = adjoints.grad_z[-1] * fpp
    eye = xp.eye(m, dtype=Y.dtype, device=_device(Y))
    weights = adjoints.time_weights
    diagonal: list[Any] = [None] * T
    following = None
    for s in range(T - 1, -1, -1):
        Q = eye * (weights[s] / r)
        if following is not None:
            Q = Q + xp.matrix_transpose(U) @ following @ U
        diagonal[s] = fp[:, s, :, None] * Q * fp[:, s, None, :] + curvature[:, s, :, None] * eye
        following = diagonal[s]
    lower: list[list[Any]] = []  # lower[zeta][s] = M_{zeta,s} for s <= zeta
    for zeta in range(T):
        row = [None] * (zeta + 1)
        row[zeta] = current = diagonal[zeta]
        for s in range(zeta - 1, -1, -1):
            current = current @ (U * fp[:, None, s, :])
            row[s] = current
        lower.append(row)
    rows = []
    for s in range(T):
        blocks = [
            xp.matrix_transpose(lower[zeta][s]) if zeta > s else lower[s][zeta] for zeta in range(T)
        ]
        rows.append(xp.stack(blocks, axis=2))  # (r, m, T, m): [p, i, zeta, j]
    return xp.stack(rows, axis=1)


def top_level_recurrent_remainder(
    rnn: RNN, forward: Forward, adjoints: Adjoints, window_start: int = 0
) -> Any:
    """B + B^T: the part of the exact H_U^(l) outside the Kronecker sum."""
    xp = rnn.xp
    Y = forward.pre_activations[-1]
    Z = forward.activations[-1]
    r, T, m = Y.shape
    fp = rnn.activation_of(rnn.n_layers).df(xp, Y)
    U = rnn.recurrent[-1]
    eye = xp.eye(m, dtype=Y.dtype, device=_device(Y))
    g_y = adjoints.grad_y[-1]
    total = xp.zeros((m, m * m * m), dtype=Y.dtype, device=_device(Y))
    S = None  # S_{s-1}: (r, m, m*m)
    for s in range(max(window_start, 0), T - 1):
        # S_s = U~^(s-1) S_{s-1} + I kron z^(s-1); z^(-1) = 0 and nothing enters before the window
        source = None
        if s >= 1:
            source = eye[None, :, :, None] * Z[:, s - 1, None, None, :]  # (r, m, m, m)
            source = xp.reshape(source, (r, m, m * m))
        if S is not None:
            propagated = (U * fp[:, None, s - 1, :]) @ S
            S = propagated if source is None else propagated + source
        else:
            S = source
        if S is None:
            continue
        K = fp[:, s, :, None] * S  # (r, m, m*m)
        contribution = xp.tensordot(g_y[:, s + 1, :], K, axes=([0], [0]))  # (m, m, m*m)
        total = total + xp.reshape(contribution, (m, m * m * m))
    B = xp.reshape(total, (m * m, m * m))
    return B + xp.matrix_transpose(B)
