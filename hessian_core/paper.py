"""The paper's RNN Hessian formulas evaluated literally (``formula="paper"``).

FNN, Theorem 1 (eq. 28-35), lives in :mod:`hessian_core.recursion`: one recursion whose seed
(eq. 32) and D term (eq. 34-35) switch between the printed and the exact form. For ReLU the
two agree (Corollary 2, eq. 43-44). The RNN formulas below use it at each output time.

RNN, Theorem 2 (eq. 74-84), for the loss E^(t) of one output time t:

    C~^(k,t,s,zeta) = P_s^T A^(k,t) P_zeta,   P_s = prod_{h=s}^{t-1} U^(k) diag(f'(y^(k,h)))
                      (the factor with h = t-1 on the left; P_t = I)                   (77)
    A^(k,t) = C^(k,t) o F^(k,t) + D^(k,t),   C^(l,t) = I o F^(l,t)                     (78)-(81)
    C^(k-1,t) = W^(k)T A^(k,t) W^(k) + U^(k-1)T A^(k-1,t+1) U^(k-1)                    (82)
    v^(l,t) = -(z*_t - z^(l,t)) o f''(y^(l,t)),
    v^(k-1,t) = (W^(k)T v^(k,t) + U^(k-1)T v^(k-1,t+1)) o f''(y^(k-1,t))                (83)-(84)

E^(t) does not depend on any state after time t, so for E^(t) the quantities at time t+1
in (82) and (84) are zero (the paper's "terms for time step t+1 > tau" rule, applied to the
loss at hand). H_W, H_U and H_b then follow eq. (74)-(76). For ``t=None`` the paper's
Hessian of E = sum_{t=a..tau} E^(t) is the sum of the per-t Hessians.

Arguments are arrays, as in :mod:`hessian_core.recursion`: ``weights[k-1]`` = W^(k),
``recurrent[k-1]`` = U^(k), ``activations[k-1]`` the activation of level k, and the
``Forward``/``Adjoints`` of :mod:`hessian_core.results`. :mod:`hessian_core.rnn` calls this
module (``formula="paper"``); nothing here calls back into the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .activations import Activation
from .backend import device_of, namespace_of
from .recursion import preactivation_matrices
from .results import Adjoints, Forward

__all__ = ["rnn_paper_blocks", "rnn_paper_time_matrices", "rnn_paper_gradient"]


def rnn_paper_time_matrices(
    weights: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
    t: int,
    seed: str = "paper",
    curvature: str = "paper",
) -> Any:
    """A^(k,t) of eq. (78) for the loss E^(t): (r, m, m), Theorem 1's recursion at time t.

    ``weights[k-1]`` is W^(k) and ``activations[k-1]`` the activation of level k. The seed and
    D switches are those of :func:`hessian_core.recursion.preactivation_matrices`.
    """
    return preactivation_matrices(
        weights,
        activations,
        [Y[:, t - 1, :] for Y in forward.pre_activations],
        adjoints.output_gradient[:, t - 1, :],
        adjoints.output_hessian[:, t - 1, :, :],
        layer,
        seed=seed,
        curvature=curvature,
    )


def propagators(U: Any, activation: Activation, Y: Any, t: int) -> Any:
    """P_s = U diag(f'(y^(t-1))) ... U diag(f'(y^(s))) for s = 1..t: (r, t, m, m).

    ``U`` is U^(k) (m, m), ``activation`` that of level k and ``Y`` its pre-activations
    y^(k,s) (r, T, m).
    """
    xp = namespace_of(Y, U)
    r, m = Y.shape[0], Y.shape[2]
    fp = activation.df(xp, Y)
    eye = xp.eye(m, dtype=Y.dtype, device=device_of(Y))
    P = xp.broadcast_to(eye, (r, m, m))
    stack = [P]
    for h in range(t - 2, -1, -1):  # 0-based h = t-2 .. 0, i.e. time steps t-1 .. 1
        P = P @ (U * fp[:, None, h, :])  # append U diag(f'(y^(h))) on the right
        stack.append(P)
    return xp.stack(stack[::-1], axis=1)


def blocks_from_propagators(A: Any, P: Any, T: int) -> Any:
    """C~_{s,zeta} = P_s^T A P_zeta as blocks (r, T, m, T, m); times after t are zero."""

    xp = namespace_of(A, P)
    r, t, m = P.shape[0], P.shape[1], P.shape[2]
    AP = A[:, None, :, :] @ P  # (r, t, m, m): [p, zeta, g, j]
    left = xp.reshape(xp.matrix_transpose(P), (r, t * m, m))  # [(s, i), g]
    right = xp.reshape(xp.permute_dims(AP, (0, 2, 1, 3)), (r, m, t * m))  # [g, (zeta, j)]
    blocks = xp.reshape(left @ right, (r, t, m, t, m))
    if t < T:
        full = xp.zeros((r, T, m, T, m), dtype=blocks.dtype, device=device_of(blocks))
        return _embed(xp, full, blocks, t)
    return blocks


def _embed(xp: Any, full: Any, blocks: Any, t: int) -> Any:

    r, T, m = full.shape[0], full.shape[1], full.shape[2]
    pad_time = xp.zeros((r, T - t, m, t, m), dtype=blocks.dtype, device=device_of(blocks))
    upper = xp.concat([blocks, pad_time], axis=1)  # (r, T, m, t, m)
    pad = xp.zeros((r, T, m, T - t, m), dtype=blocks.dtype, device=device_of(blocks))
    return xp.concat([upper, pad], axis=3)


def rnn_paper_blocks(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
    seed: str = "paper",
    curvature: str = "paper",
) -> Any:
    """Theorem 2: the blocks C~^(k,t,s,zeta) of eq. (77), summed over the output times of
    ``adjoints`` (one time t, or t = a..tau). ``recurrent[k-1]`` is U^(k)."""
    T = forward.output.shape[1]
    U, activation = recurrent[layer - 1], activations[layer - 1]
    Y = forward.pre_activations[layer - 1]
    total = None
    for time in adjoints.output_times:
        A = rnn_paper_time_matrices(
            weights, activations, forward, adjoints, layer, time, seed, curvature
        )
        blocks = blocks_from_propagators(A, propagators(U, activation, Y, time), T)
        total = blocks if total is None else total + blocks
    return total


def rnn_paper_gradient(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
    t: int,
) -> Any:
    """Lemma 2 as printed for E^(t): G_W^(k,t) = sum_s v~^(k,t,s) z^(k-1,s)T, eq. (55)-(60).

    v^(l,t) = (z^(l,t) - z*_t) o f'(y^(l,t)) / r, v^(k-1,t) = (W^(k)T v^(k,t)) o f'(y^(k-1,t))
    (the t+1 terms vanish for E^(t)), and v~^(k,t,s) = P_s^T v^(k,t) with P_s of eq. (58).
    """
    v = adjoints.output_gradient[:, t - 1, :]
    xp = namespace_of(v)
    for k in range(len(weights), layer - 1, -1):
        v = v * activations[k - 1].df(xp, forward.pre_activations[k - 1][:, t - 1, :])
        if k > layer:
            v = v @ weights[k - 1]
    P = propagators(
        recurrent[layer - 1], activations[layer - 1], forward.pre_activations[layer - 1], t
    )  # (r, t, m, m)
    v_tilde = xp.sum(xp.matrix_transpose(P) * v[:, None, None, :], axis=-1)  # (r, t, m)
    below = forward.activations[layer - 1][:, :t, :]
    return xp.tensordot(v_tilde, below, axes=([0, 1], [0, 1]))
