"""Exact RNN curvature by recursions over time steps (the fast path of :mod:`hessian_core.rnn`).

Pre-activation Hessian of any level k. The state x_s = (z^(k,s), ..., z^(l,s)) of levels
k..l is Markov in time: a perturbation delta_s of y^(k,s) reaches the loss only through
x_s, x_{s+1}, ... One time step is an FNN from (a, delta) = (x_{s-1}, delta_s) to x_s
through levels k..l with the side inputs U^(j) z^(j,s-1). Because the network is linear maps
and component-wise f, and the loss is quadratic, the Hessian of the loss from time s on,
as a function of (a, delta), is (J_j = d y^(j,s) / d(a, delta), J = d x_s / d(a, delta),
g_z = dE/dz from BPTT, w_s = 1 at the output times in the loss)

    H_s = J^T Omega_s J + sum_j J_j^T diag(g_z^(j,s) o f''(y^(j,s))) J_j,
    Omega_{s-1} = H_s[a, a] + (w_{s-1} / r) L_{s-1} on the z^(l) block,   Omega_T = (w_T / r) L_T,

with L_s the loss's Hessian with respect to z^(l,s) (I for "mse", diag(p) - p p^T per sample
for "cross_entropy"; :mod:`hessian_core.losses`),

and M_{s,s} = H_s[delta, delta], N_s = H_s[delta, a], M_{zeta,s} = N_zeta d x_{zeta-1}/d delta_s
for s < zeta, a product of the step Jacobians. For the top level (k = l) this is

    M_{s,s} = diag(f'(y^(s))) (w_s I / r + U^T M_{s+1,s+1} U) diag(f'(y^(s)))
              + diag(g_z^(s) o f''(y^(s))),
    M_{zeta,s} = M_{zeta,zeta} U~^(zeta-1) ... U~^(s),   U~^(h) = U diag(f'(y^(h))),

which is eq. (77) with the f'' terms of every step, not only the last.

Recurrent weights. The exact H_U^(k) adds to the Kronecker sum with inputs
z^(k,s-1) the terms of the recurrent input's own dependence on U (eq. 75 misses them). With
the tangent coefficients S_s[j, a, b] = d y_j^(k,s) / d u_ab along level k's trajectory
(U^(k) moves no other level's state that feeds level k), with U~ and f' of level k,

    S_s = U~^(s-1) S_{s-1} + I kron z^(s-1),     K_s[j, a, b] = f'(y_j^(s)) S_s[j, a, b],
    B[(i, j), (a, b)] = sum_p sum_s g_y,i^(s) K_{s-1}[j, a, b],
    H_U = (Kronecker sum) + B + B^T.

Cost O(r T^2 m_k X^2) for M (X = m_k + ... + m_l) and O(r T m^4) for B, in batched matrix
products. The general forward-over-reverse engine (:mod:`hessian_core.rnn_hvp`) computes
the same quantities by a different route and serves as the second derivation in the tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import device_of

if TYPE_CHECKING:
    from .results import Adjoints, Forward
    from .rnn import RNN

__all__ = ["preactivation_hessian_by_steps", "recurrent_remainder"]


def preactivation_hessian_by_steps(
    rnn: RNN, forward: Forward, adjoints: Adjoints, layer: int
) -> Any:
    """M of any level k for every sample, (r, T, m_k, T, m_k), by a recursion over time steps.

    The state x_s = (z^(k,s), ..., z^(l,s)) of the levels k..l is Markov in time. One time
    step maps (a, delta) = (x_{s-1}, delta_s) to x_s through levels k..l (an FNN with the side
    inputs U^(j) z^(j,s-1)); with J_j = d y^(j,s) / d(a, delta) and J = d x_s / d(a, delta),
    the Hessian of the loss from time s on, as a function of (a, delta), is

        H_s = J^T Omega_s J + sum_j J_j^T diag(g_z^(j,s) o f''(y^(j,s))) J_j,

    where Omega_s is the Hessian with respect to x_s (Omega_{s-1} = H_s[a, a] plus the output
    term w_{s-1} I / r on the z^(l) block). Its blocks give M_{s,s} = H_s[delta, delta] and
    N_s = H_s[delta, a]; for s < zeta, M_{zeta,s} = N_zeta (d x_{zeta-1} / d delta_s), a
    product of the step Jacobians. For the top level this is the recursion of the module
    docstring.
    """
    xp = rnn.xp
    l, k = rnn.n_layers, layer
    levels = list(range(k, l + 1))
    widths = [rnn.weights[j - 1].shape[0] for j in levels]
    X = sum(widths)
    m = widths[0]
    Y0 = forward.pre_activations[k - 1]
    r, T = Y0.shape[0], Y0.shape[1]
    dtype, device = Y0.dtype, device_of(Y0)

    def zeros(*shape):
        return xp.zeros(shape, dtype=dtype, device=device)

    # U^(j) placed at the columns of level j's previous state in the input (a, delta)
    offsets = [sum(widths[:i]) for i in range(len(levels))]
    side = [
        xp.concat([zeros(w, o), rnn.recurrent[j - 1], zeros(w, X - o - w + m)], axis=1)
        for j, w, o in zip(levels, widths, offsets, strict=True)
    ]
    side[0] = side[0] + xp.concat([zeros(m, X), xp.eye(m, dtype=dtype, device=device)], axis=1)
    M_out = widths[-1]
    output_hessian = adjoints.output_hessian  # (r, T, M, M): w_s / r times the loss Hessian

    def output_term(s: int) -> Any:
        """The loss's own Hessian at time s on the z^(l) block of the state, (r, X, X)."""
        H = output_hessian[:, s, :, :]
        left = xp.concat([zeros(r, X - M_out, M_out), H], axis=1)  # (r, X, M)
        return xp.concat([zeros(r, X, X - M_out), left], axis=2)

    fps = [rnn.activation_of(j).df(xp, forward.pre_activations[j - 1]) for j in levels]
    curvatures = [
        adjoints.grad_z[j - 1] * rnn.activation_of(j).d2f(xp, forward.pre_activations[j - 1])
        for j in levels
    ]
    diagonal: list[Any] = [None] * T
    cross: list[Any] = [None] * T  # N_s
    state_jacobian: list[Any] = [None] * T  # d x_s / d x_{s-1}
    kick: list[Any] = [None] * T  # d x_s / d delta_s
    omega = output_term(T - 1)
    for s in range(T - 1, -1, -1):
        J_y = side[0]
        outputs, hessian = [], None
        for i, j in enumerate(levels):
            if i > 0:
                J_y = rnn.weights[j - 1] @ (fps[i - 1][:, s, :, None] * J_y) + side[i]
            J_y = xp.broadcast_to(J_y, (r,) + tuple(J_y.shape[-2:]))
            term = xp.matrix_transpose(J_y) @ (curvatures[i][:, s, :, None] * J_y)
            hessian = term if hessian is None else hessian + term
            outputs.append(fps[i][:, s, :, None] * J_y)
        J = xp.concat(outputs, axis=1)  # (r, X, X + m)
        hessian = hessian + xp.matrix_transpose(J) @ omega @ J
        diagonal[s] = 0.5 * (hessian[:, X:, X:] + xp.matrix_transpose(hessian[:, X:, X:]))
        cross[s] = hessian[:, X:, :X]
        state_jacobian[s], kick[s] = J[:, :, :X], J[:, :, X:]
        if s > 0:
            omega = hessian[:, :X, :X] + output_term(s - 1)
    return _blocks_from_steps(xp, diagonal, cross, state_jacobian, kick)


def _blocks_from_steps(xp: Any, diagonal, cross, state_jacobian, kick) -> Any:
    """Assemble M (r, T, m, T, m) from M_{s,s}, N_s and the step Jacobians."""
    T = len(diagonal)
    lower: list[list[Any]] = []  # lower[zeta][s] = M_{zeta,s} for s <= zeta
    for zeta in range(T):
        row = [None] * (zeta + 1)
        row[zeta] = diagonal[zeta]
        current = cross[zeta]
        for s in range(zeta - 1, -1, -1):
            row[s] = current @ kick[s]
            current = current @ state_jacobian[s]
        lower.append(row)
    rows = []
    for s in range(T):
        blocks = [
            xp.matrix_transpose(lower[zeta][s]) if zeta > s else lower[s][zeta] for zeta in range(T)
        ]
        rows.append(xp.stack(blocks, axis=2))
    return xp.stack(rows, axis=1)


def recurrent_remainder(
    rnn: RNN, forward: Forward, adjoints: Adjoints, layer: int, window_start: int = 0
) -> Any:
    """B + B^T: the part of the exact H_U^(k) outside the Kronecker sum, any level k.

    U^(k) moves only level k's own trajectory (the levels above do not feed back), so the
    tangent recursion of S uses level k alone; g_y^(k,s) is the full BPTT adjoint.
    """
    xp = rnn.xp
    Y = forward.pre_activations[layer - 1]
    Z = forward.activations[layer]
    r, T, m = Y.shape
    fp = rnn.activation_of(layer).df(xp, Y)
    U = rnn.recurrent[layer - 1]
    eye = xp.eye(m, dtype=Y.dtype, device=device_of(Y))
    g_y = adjoints.grad_y[layer - 1]
    total = xp.zeros((m, m * m * m), dtype=Y.dtype, device=device_of(Y))
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
