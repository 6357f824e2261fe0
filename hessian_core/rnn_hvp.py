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
Arguments are arrays, as in :mod:`hessian_core.rnn_curvature`: ``weights``, ``recurrent`` and
the ``activations`` of every level (entry k-1 is level k), ``forward`` and ``adjoints``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .activations import Activation
from .backend import device_of, namespace_of
from .results import Adjoints, Forward
from .time_steps import shift_back, shift_forward

__all__ = [
    "Adjoints",
    "directional_derivatives",
    "parameter_tangents",
    "preactivation_hessian",
    "recurrent_hessian",
]

#: Largest number of entries of one tangent array (D * r * T * m) before directions are chunked.
MAX_TANGENT_ENTRIES = 1 << 22


def directional_derivatives(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
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
    given = {
        kind: value
        for kind, value in (("W", dW), ("U", dU), ("b", db), ("Y", dY))
        if value is not None
    }
    tangents = parameter_tangents(
        weights,
        recurrent,
        activations,
        forward,
        adjoints,
        {layer: given},
        {layer: ("Y",) + tuple(outputs)},
        window_start,
    )
    return tangents[layer]


def parameter_tangents(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    directions: dict[int, dict[str, Any]],
    outputs: dict[int, tuple[str, ...]],
    window_start: int = 0,
    residual: bool = True,
    local: list[tuple[Any, Any]] | None = None,
) -> dict[int, dict[str, Any]]:
    """Tangents of the gradients of several levels along D directions at several levels.

    ``weights[k-1]``, ``recurrent[k-1]`` and ``activations[k-1]`` are W^(k), U^(k) and the
    activation of level k.

    ``directions[k]`` holds any of "W" (D, m, n), "U" (D, m, m), "b" (D, m) and "Y"
    (D, r, T, m) of level k (the same D everywhere); ``outputs[k]`` names which of "W", "U",
    "b", "Y" to return for level k. Beyond the one-level sweep of the module docstring, a
    direction dW^(j) at a level j > k reaches level k's adjoints through
    gdot_z^(j-1,s) += dW^(j)T g_y^(j,s), and G_W^(j) gains g_y^(j,s) zdot^(j-1,s)T.

    ``residual=False`` drops every term that carries a first-order adjoint g_z or g_y (the
    f'' term, dW^T g_y, dU^T g_y and g_y zdot^T): what is left is J^T Q J d, the
    Gauss-Newton product, J = dz^(l,.)/dtheta (:mod:`hessian_core.whole`).
    ``window_start`` as in :func:`directional_derivatives` (its direct perturbations enter
    from that step on and the collected gdot_y start there).
    ``local``: for every level k (entry k-1) ``(f'(y^(k)), g_z^(k) o f''(y^(k)))`` or ``None``
    for a factor to skip, as :func:`hessian_core.whole.level_derivatives` gives them (cached
    by a whole Hessian for all its products); computed here when not given.
    """
    Zs, Ys = forward.activations, forward.pre_activations
    xp = namespace_of(Ys[0])
    l = len(weights)
    r, T = Ys[0].shape[0], Ys[0].shape[1]
    first, lowest = min(directions), min(outputs)
    window = None
    if window_start > 0:
        steps = xp.arange(T, device=device_of(Ys[0]))
        window = xp.astype(steps >= window_start, Ys[0].dtype)[:, None]

    if local is None:
        local = [(activations[k - 1].df(xp, Ys[k - 1]), None) for k in range(1, l + 1)]
        if residual:
            local = [
                (slope, adjoints.grad_z[k - 1] * activations[k - 1].d2f(xp, Ys[k - 1]))
                for k, (slope, _) in enumerate(local, start=1)
            ]

    # forward tangents for the levels from the lowest perturbed one up
    ydots, zdots = {}, {}
    for j in range(first, l + 1):
        source = _direct_source(xp, Zs[j - 1], Zs[j], directions.get(j, {}))
        if source is not None and window is not None:
            source = source * window
        if j > first:
            from_below = zdots[j - 1] @ xp.matrix_transpose(weights[j - 1])
            source = from_below if source is None else source + from_below
        D, m = source.shape[0], Ys[j - 1].shape[2]
        source = xp.broadcast_to(source, (D, r, T, m))
        ydots[j], zdots[j] = _tangent_in_time(xp, recurrent[j - 1], local[j - 1][0], source, T)

    # reverse pass of the adjoint tangents, levels l..lowest, times T..1
    result: dict[int, dict[str, Any]] = {}
    gdot_y_above = None
    for j in range(l, lowest - 1, -1):
        fp, weighted_second = local[j - 1]
        if j == l:
            from_above = xp.sum(adjoints.output_hessian * zdots[l][..., None, :], axis=-1)
        else:
            from_above = gdot_y_above @ weights[j]
            dW_above = directions.get(j + 1, {}).get("W")
            if residual and dW_above is not None:  # dW^(j+1)T g_y^(j+1,s)
                from_above = from_above + adjoints.grad_y[j][None, ...] @ dW_above[:, None, :, :]
        curvature = None
        if residual and weighted_second is not None and j in ydots:
            curvature = weighted_second * ydots[j]
        extra = None
        dU = directions.get(j, {}).get("U")
        if residual and dU is not None:  # dU^T g_y^(j,s+1)
            extra = shift_forward(xp, adjoints.grad_y[j - 1])[None, ...] @ dU[:, None, :, :]
        U = recurrent[j - 1]
        steps = []
        carry = None
        for s in range(T - 1, -1, -1):
            gdot_z = from_above[..., s, :]
            if carry is not None:
                gdot_z = gdot_z + carry @ U
            if extra is not None:
                gdot_z = gdot_z + extra[..., s, :]
            carry = gdot_z if fp is None else gdot_z * fp[:, s, :]
            if curvature is not None:
                carry = carry + curvature[..., s, :]
            steps.append(carry)
        gdot_y_above = xp.stack(steps[::-1], axis=-2)  # (D, r, T, m_j)
        if j in outputs:
            result[j] = _collected(
                xp, adjoints, Zs, zdots, j, gdot_y_above, window, outputs[j], residual
            )
    return result


def _direct_source(xp: Any, z_below: Any, z_own: Any, given: dict[str, Any]) -> Any:
    """dW z^(k-1,s) + dU z^(k,s-1) + db + dY_s for the directions ``given`` (None if none)."""
    terms = []
    if "W" in given:
        terms.append(z_below[None, ...] @ xp.matrix_transpose(given["W"])[:, None, :, :])
    if "U" in given:
        terms.append(
            shift_back(xp, z_own)[None, ...] @ xp.matrix_transpose(given["U"])[:, None, :, :]
        )
    if "b" in given:
        terms.append(given["b"][:, None, None, :])
    if "Y" in given:
        terms.append(given["Y"])
    if not terms:
        return None
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _collected(xp, adjoints, Zs, zdots, j, gdot_y, window, wanted, residual):
    """The tangents of level j's gradients named in ``wanted`` (module docstring)."""
    if window is not None:
        gdot_y = gdot_y * window
    grad_y = adjoints.grad_y[j - 1]
    out = {}
    if "Y" in wanted:
        out["Y"] = gdot_y
    if "b" in wanted:
        out["b"] = xp.sum(gdot_y, axis=(1, 2))
    if "W" in wanted:
        out["W"] = xp.tensordot(gdot_y, Zs[j - 1], axes=([1, 2], [0, 1]))
        if residual and j - 1 in zdots:  # g_y^(j,s) zdot^(j-1,s)T
            second = xp.tensordot(grad_y, zdots[j - 1], axes=([0, 1], [1, 2]))  # (m, D, n)
            out["W"] = out["W"] + xp.permute_dims(second, (1, 0, 2))
    if "U" in wanted:
        out["U"] = xp.tensordot(gdot_y, shift_back(xp, Zs[j]), axes=([1, 2], [0, 1]))
        if residual and j in zdots:  # g_y^(j,s) zdot^(j,s-1)T
            zdot_previous = shift_back(xp, zdots[j])
            second = xp.tensordot(grad_y, zdot_previous, axes=([0, 1], [1, 2]))  # (m, D, m)
            out["U"] = out["U"] + xp.permute_dims(second, (1, 0, 2))
    return out


def preactivation_hessian(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
    window_start: int = 0,
) -> Any:
    """M_p[s, i, zeta, j] = d^2E / dy_i^(k,s) dy_j^(k,zeta) for every sample: (r, T, m, T, m).

    Samples do not interact, so one unit perturbation applied to all samples at once gives
    each sample's column: T*m directions in all.
    """
    Y = forward.pre_activations[layer - 1]
    xp = namespace_of(Y)
    r, T, m = Y.shape
    size = T * m
    eye = xp.eye(size, dtype=Y.dtype, device=device_of(Y))
    columns = []
    for chunk in _chunks(size, r * T * m):
        directions = xp.reshape(eye[chunk.start : chunk.stop, :], (len(chunk), 1, T, m))
        directions = xp.broadcast_to(directions, (len(chunk), r, T, m))
        columns.append(
            directional_derivatives(
                weights,
                recurrent,
                activations,
                forward,
                adjoints,
                layer,
                dY=directions,
                window_start=window_start,
                outputs=(),
            )["Y"]
        )
    out = xp.concat(columns, axis=0)  # (T*m, r, T, m): [(zeta, j), p, s, i]
    out = xp.reshape(out, (T, m, r, T, m))
    blocks = xp.permute_dims(out, (2, 3, 4, 0, 1))
    return 0.5 * (blocks + xp.permute_dims(blocks, (0, 3, 4, 1, 2)))


def recurrent_hessian(
    weights: Sequence[Any],
    recurrent: Sequence[Any],
    activations: Sequence[Activation],
    forward: Forward,
    adjoints: Adjoints,
    layer: int,
    window_start: int = 0,
) -> Any:
    """The exact dense Hessian with respect to vec(U^(k)) (row-major), (m*m, m*m)."""
    xp = namespace_of(recurrent[layer - 1])
    m = recurrent[layer - 1].shape[0]
    r, T = forward.pre_activations[0].shape[:2]
    size = m * m
    eye = xp.eye(size, dtype=recurrent[0].dtype, device=device_of(recurrent[0]))
    rows = []
    for chunk in _chunks(size, r * T * m):
        directions = xp.reshape(eye[chunk.start : chunk.stop, :], (len(chunk), m, m))
        rows.append(
            xp.reshape(
                directional_derivatives(
                    weights,
                    recurrent,
                    activations,
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


def _tangent_in_time(xp: Any, U: Any, fp: Any, source: Any, T: int) -> tuple[Any, Any]:
    """ydot, zdot of a level with feedback ``U`` given the non-recurrent part ``source``
    (D, r, T, m) and ``fp`` = f'(y) (r, T, m), or None for the identity."""
    U_t = xp.matrix_transpose(U)
    ys, zs = [], []
    previous = None
    for s in range(T):
        ydot = source[..., s, :]
        if previous is not None:
            ydot = ydot + previous @ U_t
        previous = ydot if fp is None else ydot * fp[:, s, :]
        ys.append(ydot)
        zs.append(previous)
    return xp.stack(ys, axis=-2), xp.stack(zs, axis=-2)


def _chunks(count: int, entries_per_direction: int) -> list[range]:
    step = max(1, MAX_TANGENT_ENTRIES // max(1, entries_per_direction))
    return [range(start, min(count, start + step)) for start in range(0, count, step)]
