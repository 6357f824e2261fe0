"""The loss at the last level, its gradient and its Hessian with respect to z^(l).

Per sample p, with z = z_p^(l) (z^(l,t) for RNNs, one output time t) and target z* = z*_p:

    "mse" (the paper, eq. 3/12):  l(z) = 1/2 ||z* - z||^2,
                                  dl/dz = z - z*,              d^2l/dz dz = I;
    "cross_entropy":              l(z) = -sum_i z*_i log p_i,  p = softmax(z),
                                  dl/dz = s p - z*,            d^2l/dz dz = s (diag(p) - p p^T),

with s = sum_i z*_i (1 for targets that are class probabilities, which the networks require).
The batch loss is E = 1/r sum_p l(z_p) (per output time t for RNNs); the Hessian of l seeds the
backward Hessian recursions (:mod:`hessian_core.recursion`, :mod:`hessian_core.rnn_curvature`).
Since diag(p) - p p^T annihilates the all-ones vector, each sample's cross-entropy Hessian has
rank <= M - 1.

Weight decay ``lam`` adds lam/2 sum_k ||W^(k)||_F^2 (and ||U^(k)||_F^2 for RNNs) to E, once for
whatever loss is asked (E^(t) or the sum over t); biases are not decayed. It adds lam * W to
G_W, lam * I to H_W and H_U, nothing to H_b.

Functions work on arrays with any leading axes: ``output`` and ``target`` are (..., M).
"""

from __future__ import annotations

import math
from typing import Any

from .backend import device_of, namespace_of

__all__ = [
    "LOSSES",
    "check_targets",
    "loss_gradient",
    "loss_hessian",
    "require_loss",
    "require_weight_decay",
    "sample_losses",
    "softmax",
]

#: Accepted values of ``loss=``.
LOSSES: tuple[str, ...] = ("mse", "cross_entropy")

#: How far a cross-entropy target row may be from a probability vector (sum 1, entries >= 0).
PROBABILITY_TOLERANCE = 1e-6


def require_loss(loss: Any) -> str:
    """``loss`` if it is one of :data:`LOSSES`, else ``ValueError`` naming the allowed values."""
    if not isinstance(loss, str) or loss not in LOSSES:
        choices = ", ".join(repr(name) for name in LOSSES)
        raise ValueError(f"loss must be one of {choices}, got {loss!r}")
    return loss


def require_weight_decay(value: Any) -> float:
    """``value`` as a finite float >= 0, else ``ValueError`` naming ``weight_decay``."""
    if isinstance(value, bool):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {value!r}")
    return number


def check_targets(Z_target: Any, loss: str, name: str = "Z_target") -> None:
    """For "cross_entropy": every target row must be class probabilities (entries >= 0,
    summing to 1), ``ValueError`` naming ``name`` otherwise; "mse" takes any finite target."""
    if loss != "cross_entropy":
        return
    xp = namespace_of(Z_target)
    if bool(xp.any(Z_target < -PROBABILITY_TOLERANCE)):
        raise ValueError(
            f"{name} must hold class probabilities for loss='cross_entropy' (entries >= 0, "
            "each row summing to 1; one-hot rows for labels): found a negative entry"
        )
    sums = xp.sum(Z_target, axis=-1)
    worst = float(xp.max(xp.abs(sums - 1.0)))
    if worst > PROBABILITY_TOLERANCE:
        raise ValueError(
            f"{name} must hold class probabilities for loss='cross_entropy' (entries >= 0, "
            f"each row summing to 1; one-hot rows for labels): a row sums to 1 {worst:+.3g} "
            "away"
        )


def softmax(xp: Any, Y: Any) -> Any:
    """softmax over the last axis, shifted by the row maximum (no overflow)."""
    shifted = Y - xp.max(Y, axis=-1, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=-1, keepdims=True)


def sample_losses(output: Any, target: Any, loss: str, xp: Any = None) -> Any:
    """l(z_p) for every sample (and time step): shape ``output.shape[:-1]``. ``xp``, the
    arrays' namespace if the caller knows it, saves looking it up (a cost at small sizes)."""
    xp = namespace_of(output, target) if xp is None else xp
    if loss == "mse":
        residual = output - target
        return 0.5 * xp.sum(residual * residual, axis=-1)
    shifted = output - xp.max(output, axis=-1, keepdims=True)
    log_p = shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
    return -xp.sum(target * log_p, axis=-1)


def loss_gradient(output: Any, target: Any, loss: str, xp: Any = None) -> Any:
    """dl/dz for every sample, shaped like ``output`` (no 1/r); ``xp`` as in
    :func:`sample_losses`."""
    if loss == "mse":
        return output - target
    xp = namespace_of(output, target) if xp is None else xp
    mass = xp.sum(target, axis=-1, keepdims=True)
    return mass * softmax(xp, output) - target


def loss_hessian(output: Any, target: Any, loss: str) -> Any:
    """d^2l/dz dz for every sample: (..., M, M) (no 1/r)."""
    xp = namespace_of(output, target)
    M = output.shape[-1]
    eye = xp.eye(M, dtype=output.dtype, device=device_of(output))
    if loss == "mse":
        return xp.broadcast_to(eye, tuple(output.shape) + (M,))
    p = softmax(xp, output)
    mass = xp.sum(target, axis=-1)[..., None, None]
    return mass * (p[..., :, None] * eye - p[..., :, None] * p[..., None, :])
