"""Theorem 1's backward recursion for the pre-activation Hessians: one implementation, switched.

At one time step (all of an FNN; one output time t of an RNN, eq. 78-84 without the t+1
terms), for every sample, levels k = l, l-1, ..., with F^(k) = f'(y^(k)) f'(y^(k))^T:

    A^(k)   = C^(k) o F^(k) + diag(d^(k) o f''(y^(k)))                  (28), (31) / (78)
    C^(k-1) = W^(k)T A^(k) W^(k)                                         (33) / (82)
    d^(k-1) = W^(k)T (d^(k) o f'(y^(k)))         exact: d^(k) = dE/dz^(k), the BPTT adjoint
    d^(k-1) = W^(k)T (d^(k) o f''(y^(k)))        paper, eq. (34)-(35): v^(k) = d^(k) o f''(y^(k))
    d^(l)   = dE/dz^(l)                          both (v^(l) = -(z* - z^(l)) o f''(y^(l)) / r)

and the seed C^(l), the Hessian of E with respect to z^(l), read through F^(l) once:

    C^(l) = Q^(l)          exact: the loss Hessian, I / r for "mse", (diag(p) - p p^T) / r per
                           sample for "cross_entropy" (:mod:`hessian_core.losses`)
    C^(l) = I o F^(l) / r  paper, eq. (32): F^(l) is then applied twice at the output.

``curvature="none"`` drops diag(d^(k) o f''(y^(k))) at every level: A^(k) is then the
Gauss-Newton part J^T C^(l) J of M^(k), J = dz^(l)/dy^(k) (:mod:`hessian_core.whole`).

With both switches "exact", A^(k) is the exact Hessian M^(k) of E with respect to an additive
perturbation of y^(k) (:mod:`hessian_core.fnn`); with both "paper" it is Theorem 1 as printed.
The two errata of Theorem 1 are the two switches: ``seed`` (eq. 32) and ``curvature`` (eq. 35,
which carries f'' down where the chain rule carries f'). For ReLU and identity f'' = 0 and
f' is 0/1, so both switches give the same A^(k) (Corollary 2). docs/errata.md measures each.

Shapes: ``pre_activations[k-1]`` is y^(k) (r, m_k); ``output_gradient`` is dE/dz^(l) (r, M)
and ``output_hessian`` is Q^(l) (r, M, M), the batch's 1/r included; the result is (r, m, m).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .activations import Activation
from .backend import diagonal_matrices, namespace_of, require_choice

__all__ = ["CURVATURE_TERMS", "TERMS", "all_preactivation_matrices", "preactivation_matrices"]

#: Accepted values of the switches ``seed=`` and ``curvature=``.
TERMS: tuple[str, ...] = ("exact", "paper")
#: ``curvature=`` also takes "none": D^(k) dropped at every level, which leaves the
#: Gauss-Newton part M_GN^(k) = J^T Q^(l) J of M^(k) (J = dz^(l)/dy^(k); :mod:`hessian_core.whole`).
CURVATURE_TERMS: tuple[str, ...] = TERMS + ("none",)


def preactivation_matrices(
    weights: Sequence[Any],
    activations: Sequence[Activation],
    pre_activations: Sequence[Any],
    output_gradient: Any,
    output_hessian: Any,
    layer: int,
    seed: str = "exact",
    curvature: str = "exact",
) -> Any:
    """A^(k) of level ``layer`` for every sample, (r, m_k, m_k), by the recursion above.

    ``weights[k-1]`` is W^(k) and ``activations[k-1]`` the activation of level k (1-based
    ``layer``). ``output_hessian`` is used only with ``seed="exact"`` (may be ``None`` else).
    """
    for k, A in _recursion(
        weights, activations, pre_activations, output_gradient, output_hessian, layer, seed,
        curvature,
    ):
        if k == layer:
            return A
    raise ValueError(f"layer must be an integer in 1..{len(weights)}, got {layer!r}")


def all_preactivation_matrices(
    weights: Sequence[Any],
    activations: Sequence[Activation],
    pre_activations: Sequence[Any],
    output_gradient: Any,
    output_hessian: Any,
    seed: str = "exact",
    curvature: str = "exact",
) -> list[Any]:
    """A^(k) of every level from one pass of the recursion: entry k-1 is level k."""
    found = dict(
        _recursion(
            weights, activations, pre_activations, output_gradient, output_hessian, 1, seed,
            curvature,
        )
    )
    return [found[k] for k in range(1, len(weights) + 1)]


def _recursion(
    weights, activations, pre_activations, output_gradient, output_hessian, last, seed, curvature
):
    """(k, A^(k)) for k = l, l-1, ..., ``last``."""
    require_choice(seed, "seed", TERMS)
    require_choice(curvature, "curvature", CURVATURE_TERMS)
    xp = namespace_of(output_gradient)
    d = output_gradient
    C = None
    for k in range(len(weights), last - 1, -1):
        act, Y = activations[k - 1], pre_activations[k - 1]
        fp, fpp = act.df(xp, Y), act.d2f(xp, Y)
        if C is None:  # the seed at the output level: exact Q^(l), or eq. (32)
            C = output_hessian if seed == "exact" else diagonal_matrices(fp * fp) / Y.shape[0]
        A = C * (fp[:, :, None] * fp[:, None, :])
        if curvature != "none":
            A = A + diagonal_matrices(d * fpp)
        yield k, A
        if k == last:
            return
        W = weights[k - 1]
        C = xp.matrix_transpose(W) @ A @ W
        d = (d * (fpp if curvature == "paper" else fp)) @ W  # eq. (35) carries f'', exact f'
