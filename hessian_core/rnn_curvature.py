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

Arguments are arrays: ``weights[k-1]`` = W^(k), ``recurrent[k-1]`` = U^(k), ``activations[k-1]``
the activation of level k, and the ``Forward``/``Adjoints`` of :mod:`hessian_core.results`
(the Kronecker inputs come from :func:`hessian_core.time_steps.kronecker_inputs`), so
:mod:`hessian_core.rnn` and :mod:`hessian_core.whole` call this module and it calls neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .activations import Activation
from .backend import device_of, namespace_of
from .results import Adjoints, Forward
from .time_steps import kronecker_inputs, shift_forward

__all__ = ["cross_block", "preactivation_hessian_by_steps", "recurrent_remainder"]


def preactivation_hessian_by_steps(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
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
    xp = namespace_of(forward.pre_activations[layer - 1])
    l, k = len(weights), layer
    levels = list(range(k, l + 1))
    widths = [weights[j - 1].shape[0] for j in levels]
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
        xp.concat([zeros(w, o), recurrent[j - 1], zeros(w, X - o - w + m)], axis=1)
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

    fps = [activations[j - 1].df(xp, forward.pre_activations[j - 1]) for j in levels]
    curvatures = [
        adjoints.grad_z[j - 1] * activations[j - 1].d2f(xp, forward.pre_activations[j - 1])
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
                J_y = weights[j - 1] @ (fps[i - 1][:, s, :, None] * J_y) + side[i]
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
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
    window_start: int = 0,
) -> Any:
    """B + B^T: the part of the exact H_U^(k) outside the Kronecker sum, any level k.

    U^(k) moves only level k's own trajectory (the levels above do not feed back), so the
    tangent recursion of S uses level k alone; g_y^(k,s) is the full BPTT adjoint.
    """
    Y = forward.pre_activations[layer - 1]
    xp = namespace_of(Y)
    Z = forward.activations[layer]
    r, T, m = Y.shape
    fp = activations[layer - 1].df(xp, Y)
    U = recurrent[layer - 1]
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


def cross_block(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    rows: tuple[int, str],
    columns: tuple[int, str],
) -> Any:
    """d^2E / d theta_rows d theta_columns of the data term, a dense (|rows|, |columns|)
    matrix in the row-major vecs, by (R1)-(R3) of :mod:`hessian_core.whole`: rows (j, alpha)
    and columns (k, beta) name a level and "W", "U" or "b", with j >= k.

    Column sensitivities by a forward recursion over levels k..j and time steps,
    Sz^(i,s) = F'^(i,s) (Delta^(i)_s + U^(i) Sz^(i,s-1)), arrays (r, T, m_i, |columns|);
    the pre-activation Hessian M^(j) is :func:`preactivation_hessian_by_steps`.
    """
    (j, row_kind), (k, column_kind) = rows, columns
    Ys = forward.pre_activations
    xp = namespace_of(Ys[0])
    r, T, m_k = Ys[k - 1].shape
    dtype, device = Ys[0].dtype, device_of(Ys[0])
    eye = xp.eye(m_k, dtype=dtype, device=device)
    if column_kind == "b":  # Delta^(k)_s = I, or I kron u^(k,s)T
        delta = xp.broadcast_to(eye, (r, T, m_k, m_k))
    else:
        inputs = kronecker_inputs(forward, k, column_kind)
        n = inputs.shape[2]
        delta = xp.reshape(
            eye[None, None, :, :, None] * inputs[:, :, None, None, :], (r, T, m_k, m_k * n)
        )
    states = {}  # Sz^(i) = d z^(i,s) / d theta_columns
    for i in range(k, j + 1):
        if i > k:  # Delta^(i)_s = W^(i) Sz^(i-1,s)
            delta = weights[i - 1] @ states[i - 1]
        if i < j or row_kind == "U":
            fp = activations[i - 1].df(xp, Ys[i - 1])
            states[i] = _state_tangents(xp, fp, recurrent[i - 1], delta)
    M = preactivation_hessian_by_steps(weights, recurrent, activations, forward, adjoints, j)
    m_j, size = M.shape[2], delta.shape[3]
    change = xp.reshape(M, (r, T * m_j, T * m_j)) @ xp.reshape(delta, (r, T * m_j, size))
    change = xp.reshape(change, (r, T, m_j, size))  # (R1): sum_zeta M_{s,zeta} Delta_zeta
    if column_kind == "U" and j == k:  # (R3): U^(k) also moves level k's own dynamics
        change = change + _recurrent_adjoint_tangents(
            xp, recurrent[k - 1], activations[k - 1], forward, adjoints, k
        )
    inputs = kronecker_inputs(forward, j, row_kind)  # u_alpha^(j,s) (r, T, n_alpha)
    block = xp.permute_dims(xp.tensordot(change, inputs, axes=([0, 1], [0, 1])), (0, 2, 1))
    moved = None  # d u_alpha^(j,s) / d theta_columns (R2)
    if row_kind == "W" and j > k:
        moved = states[j - 1]
    elif row_kind == "U":
        previous = states[j]
        moved = xp.concat([xp.zeros_like(previous[:, :1, ...]), previous[:, :-1, ...]], axis=1)
    if moved is not None:
        block = block + xp.tensordot(adjoints.grad_y[j - 1], moved, axes=([0, 1], [0, 1]))
    return xp.reshape(block, (m_j * inputs.shape[2], size))


def _state_tangents(xp: Any, fp: Any, U: Any, delta: Any) -> Any:
    """Sz^(s) = f'(y^(s)) o (Delta_s + U Sz^(s-1)), Sz^(0) = 0, for s = 1..T: (r, T, m, P)."""
    states, previous = [], None
    for s in range(delta.shape[1]):
        source = delta[:, s, ...] if previous is None else delta[:, s, ...] + U @ previous
        previous = fp[:, s, :, None] * source
        states.append(previous)
    return xp.stack(states, axis=1)


def _recurrent_adjoint_tangents(
    xp: Any, U: Any, activation: Activation, forward: Forward, adjoints: Adjoints, k: int
) -> Any:
    """R_s = F'^(k,s) (E_s + U^(k)T R_{s+1}), R_{T+1} = 0, with E_s[i, (c1, c2)] =
    g_y,c1^(k,s+1) delta_{i,c2} (dU^T g_y^(k,s+1) for a unit dU): (r, T, m, m*m)."""
    Y = forward.pre_activations[k - 1]
    r, T, m = Y.shape
    fp = activation.df(xp, Y)
    eye = xp.eye(m, dtype=Y.dtype, device=device_of(Y))
    following = shift_forward(xp, adjoints.grad_y[k - 1])  # g_y^(k,s+1)
    sources = xp.reshape(following[:, :, None, :, None] * eye[:, None, :], (r, T, m, m * m))
    U_t = xp.matrix_transpose(U)
    steps, carry = [], None
    for s in range(T - 1, -1, -1):
        source = sources[:, s, ...] if carry is None else sources[:, s, ...] + U_t @ carry
        carry = fp[:, s, :, None] * source
        steps.append(carry)
    return xp.stack(steps[::-1], axis=1)
