"""Exact second derivatives of an RNN loss by forward-over-reverse differentiation.

The exact RNN Hessians are not all Kronecker sums with the paper's C~ (docs/errata.md), so
they are computed here from first principles, for any activation and depth, as directional
derivatives of the BPTT gradient (a second-order adjoint, Pearlmutter's R-operator).

Forward tangent along a direction of level k (dW, dU, db, or additive perturbations dY of
the pre-activations y^(k,s)), with dot meaning the directional derivative:

    ydot^(k,s) = dW z^(k-1,s) + dU z^(k,s-1) + db + dY_s + U^(k) zdot^(k,s-1)
    ydot^(j,s) = W^(j) zdot^(j-1,s) + U^(j) zdot^(j,s-1)           (j > k)
    zdot^(j,s) = f'(y^(j,s)) o ydot^(j,s)

Reverse pass of the tangents of the adjoints g_z = dE/dz, g_y = dE/dy (eq. 59-60, 67-68):

    gdot_z^(l,s)  = (w_s / r) L_s zdot^(l,s)   (w_s = 1 for the output times in the loss, L_s the
                                              loss's Hessian in z^(l,s): I for "mse")
    gdot_z^(j,s) += W^(j+1)T gdot_y^(j+1,s) + U^(j)T gdot_y^(j,s+1) [+ dU^T g_y^(k,s+1) if j = k]
    gdot_y^(j,s)  = gdot_z^(j,s) o f'(y^(j,s)) + g_z^(j,s) o f''(y^(j,s)) o ydot^(j,s)

Hessian-vector products (the tangents of G_W, G_U, G_b and of dE/dy^(k,s)):

    H_W d = sum_{p,s} gdot_y^(k,s) z^(k-1,s)T
    H_U d = sum_{p,s} gdot_y^(k,s) z^(k,s-1)T + g_y^(k,s) zdot^(k,s-1)T
    H_b d = sum_{p,s} gdot_y^(k,s),          M d = gdot_y^(k,.)

Many directions are pushed through at once along a leading axis D (chunked to bound memory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import device_of
from .results import Adjoints
from .time_steps import shift_back, shift_forward

if TYPE_CHECKING:
    from .rnn import RNN

__all__ = ["Adjoints", "directional_derivatives", "preactivation_hessian", "recurrent_hessian"]

#: Largest number of entries of one tangent array (D * r * T * m) before directions are chunked.
MAX_TANGENT_ENTRIES = 1 << 22


def directional_derivatives(
    rnn: RNN,
    forward: Any,
    adjoints: Adjoints,
    layer: int,
    dW: Any = None,
    dU: Any = None,
    db: Any = None,
    dY: Any = None,
    window_start: int = 0,
    outputs: tuple[str, ...] = ("W", "U", "b"),
) -> dict[str, Any]:
    """Tangents of the level-``layer`` gradients along D directions (see module docstring).

    Direction arrays: dW (D, m, n), dU (D, m, m), db (D, m), dY (D, r, T, m). Returns a dict
    with "Y" (D, r, T, m) and those of "W" (D, m, n), "U" (D, m, m), "b" (D, m) named in
    ``outputs``. ``window_start``
    (0-based) holds every state before that time step constant (truncated BPTT): no
    perturbation enters before it and no derivative is collected there.
    """
    xp = rnn.xp
    k, l = layer, rnn.n_layers
    Zs, Ys = forward.activations, forward.pre_activations
    T = Ys[0].shape[1]

    # forward tangents for levels k..l
    z_below, z_own = Zs[k - 1], Zs[k]
    source = 0.0
    if dW is not None:
        source = source + z_below[None, ...] @ xp.matrix_transpose(dW)[:, None, :, :]
    if dU is not None:
        source = source + shift_back(xp, z_own)[None, ...] @ xp.matrix_transpose(dU)[:, None, :, :]
    if db is not None:
        source = source + db[:, None, None, :]
    if dY is not None:
        source = source + dY
    window = None
    if window_start > 0:
        steps = xp.arange(T, device=device_of(Ys[k - 1]))
        window = xp.astype(steps >= window_start, Ys[k - 1].dtype)[:, None]
        source = source * window
    ydots, zdots = {}, {}
    ydots[k], zdots[k] = _tangent_in_time(rnn, k, Ys[k - 1], source, T)
    for j in range(k + 1, l + 1):
        ydots[j], zdots[j] = _tangent_in_time(
            rnn, j, Ys[j - 1], zdots[j - 1] @ xp.matrix_transpose(rnn.weights[j - 1]), T
        )

    # reverse pass of the adjoint tangents, levels l..k, times T..1
    gdot_y_above = None
    for j in range(l, k - 1, -1):
        act, Y = rnn.activation_of(j), Ys[j - 1]
        fp, fpp = act.df(xp, Y), act.d2f(xp, Y)
        from_above = (
            xp.sum(adjoints.output_hessian * zdots[l][..., None, :], axis=-1)
            if j == l
            else gdot_y_above @ rnn.weights[j]
        )
        U = rnn.recurrent[j - 1]
        curvature = adjoints.grad_z[j - 1] * fpp * ydots[j]
        extra = None
        if j == k and dU is not None:
            extra = shift_forward(xp, adjoints.grad_y[k - 1])[None, ...] @ dU[:, None, :, :]
        steps = []
        carry = None
        for s in range(T - 1, -1, -1):
            gdot_z = from_above[..., s, :]
            if carry is not None:
                gdot_z = gdot_z + carry @ U
            if extra is not None:
                gdot_z = gdot_z + extra[..., s, :]
            carry = gdot_z * fp[:, s, :] + curvature[..., s, :]
            steps.append(carry)
        gdot_y_above = xp.stack(steps[::-1], axis=-2)  # (D, r, T, m_j)

    gdot_y = gdot_y_above if window is None else gdot_y_above * window
    result = {"Y": gdot_y}
    if "b" in outputs:
        result["b"] = xp.sum(gdot_y, axis=(1, 2))
    if "W" in outputs:
        result["W"] = xp.tensordot(gdot_y, z_below, axes=([1, 2], [0, 1]))
    if "U" in outputs:
        recurrent = xp.tensordot(gdot_y, shift_back(xp, z_own), axes=([1, 2], [0, 1]))
        zdot_prev = shift_back(xp, zdots[k])
        second = xp.tensordot(adjoints.grad_y[k - 1], zdot_prev, axes=([0, 1], [1, 2]))
        result["U"] = recurrent + xp.permute_dims(second, (1, 0, 2))  # second: (m, D, m)
    return result


def preactivation_hessian(
    rnn: RNN, forward: Any, adjoints: Adjoints, layer: int, window_start: int = 0
) -> Any:
    """M_p[s, i, zeta, j] = d^2E / dy_i^(k,s) dy_j^(k,zeta) for every sample: (r, T, m, T, m).

    Samples do not interact, so one unit perturbation applied to all samples at once gives
    each sample's column: T*m directions in all.
    """
    xp = rnn.xp
    Y = forward.pre_activations[layer - 1]
    r, T, m = Y.shape
    size = T * m
    eye = xp.eye(size, dtype=Y.dtype, device=device_of(Y))
    columns = []
    for chunk in _chunks(size, r * T * m):
        directions = xp.reshape(eye[chunk.start : chunk.stop, :], (len(chunk), 1, T, m))
        directions = xp.broadcast_to(directions, (len(chunk), r, T, m))
        columns.append(
            directional_derivatives(
                rnn, forward, adjoints, layer, dY=directions, window_start=window_start, outputs=()
            )["Y"]
        )
    out = xp.concat(columns, axis=0)  # (T*m, r, T, m): [(zeta, j), p, s, i]
    out = xp.reshape(out, (T, m, r, T, m))
    blocks = xp.permute_dims(out, (2, 3, 4, 0, 1))
    return 0.5 * (blocks + xp.permute_dims(blocks, (0, 3, 4, 1, 2)))


def recurrent_hessian(
    rnn: RNN, forward: Any, adjoints: Adjoints, layer: int, window_start: int = 0
) -> Any:
    """The exact dense Hessian with respect to vec(U^(k)) (row-major), (m*m, m*m)."""
    xp = rnn.xp
    m = rnn.recurrent[layer - 1].shape[0]
    r, T = forward.pre_activations[0].shape[:2]
    size = m * m
    eye = xp.eye(size, dtype=rnn.recurrent[0].dtype, device=device_of(rnn.recurrent[0]))
    rows = []
    for chunk in _chunks(size, r * T * m):
        directions = xp.reshape(eye[chunk.start : chunk.stop, :], (len(chunk), m, m))
        rows.append(
            xp.reshape(
                directional_derivatives(
                    rnn,
                    forward,
                    adjoints,
                    layer,
                    dU=directions,
                    window_start=window_start,
                    outputs=("U",),
                )["U"],
                (len(chunk), size),
            )
        )
    dense = xp.concat(rows, axis=0)
    return 0.5 * (dense + xp.matrix_transpose(dense))


def _tangent_in_time(rnn: RNN, j: int, Y: Any, source: Any, T: int) -> tuple[Any, Any]:
    """ydot, zdot of level j given the non-recurrent part ``source`` (D, r, T, m)."""
    xp = rnn.xp
    fp = rnn.activation_of(j).df(xp, Y)
    U_t = xp.matrix_transpose(rnn.recurrent[j - 1])
    ys, zs = [], []
    previous = None
    for s in range(T):
        ydot = source[..., s, :]
        if previous is not None:
            ydot = ydot + previous @ U_t
        previous = ydot * fp[:, s, :]
        ys.append(ydot)
        zs.append(previous)
    return xp.stack(ys, axis=-2), xp.stack(zs, axis=-2)


def _chunks(count: int, entries_per_direction: int) -> list[range]:
    step = max(1, MAX_TANGENT_ENTRIES // max(1, entries_per_direction))
    return [range(start, min(count, start + step)) for start in range(0, count, step)]
