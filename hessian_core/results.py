"""Plain, frozen result objects: forward states and gradients with their factors.

Gradients are kept with their rank-revealing factors (Lemma 1, Corollary 1; Lemma 2,
Corollary 3): ``G = V @ Z.T`` where each column pair (v, z) is one sample (FNN, q = r) or
one (sample, time step) pair (RNN, q = r*t). Columns are ordered sample-major: column
``p*t + (s-1)`` holds sample p at time step s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Adjoints", "Forward", "Gradient"]


@dataclass(frozen=True, eq=False)
class Forward:
    """Forward propagation, eq. (10)-(11) and (47)-(48).

    ``pre_activations[k-1]`` is y^(k) and ``activations[k]`` is z^(k), with
    ``activations[0]`` the input x. FNN arrays are (r, m_k); RNN arrays are (r, tau, m_k).
    """

    pre_activations: list[Any]
    activations: list[Any]

    @property
    def output(self) -> Any:
        return self.activations[-1]


@dataclass(frozen=True, eq=False)
class Gradient:
    """Gradient of the loss with respect to the parameters of one level k.

    ``W`` (m, n), ``b`` (m,), and for RNNs ``U`` (m, m). The factors satisfy
    ``W == V @ Z.T`` (see :meth:`factors`), plus ``weight_decay * W^(k)`` (and ``U^(k)``)
    where the network has weight decay: that term is not in the factors.
    """

    W: Any
    b: Any
    layer: int
    V: Any
    Z: Any
    U: Any = None
    Z_recurrent: Any = None

    def factors(self, wrt: str = "W") -> tuple[Any, Any]:
        """``(V, Z)`` with ``G == V @ Z.T``: V (m, q), Z (n, q) for W, Z (m, q) for U."""
        if wrt == "W":
            return self.V, self.Z
        if wrt == "U" and self.U is not None:
            return self.V, self.Z_recurrent
        allowed = "'W', 'U'" if self.U is not None else "'W'"
        raise ValueError(f"wrt must be one of {allowed}, got {wrt!r}")

    @property
    def rank_bound(self) -> int:
        """The rank the paper proves: the factor width q (r for FNNs, r*t for RNNs)."""
        return int(self.V.shape[1])


@dataclass(frozen=True, eq=False)
class Adjoints:
    """First-order adjoints of the back-propagation, eq. (14)-(15) and (59)-(60), (67)-(68).

    ``grad_z[k-1]`` is dE/dz^(k) and ``grad_y[k-1]`` is dE/dy^(k) = dE/dz^(k) o f'(y^(k)) of
    level k: (r, m_k) for FNNs, (r, T, m_k) for RNNs. ``output_gradient`` is the loss's own
    dE/dz^(l) (before any path through time) and ``output_hessian`` its Hessian
    d^2E/dz^(l)dz^(l) per sample, the seed of the Hessian recursions: (r, M) and (r, M, M)
    for FNNs, (r, T, M) and (r, T, M, M) for RNNs, the batch's 1/r included.
    ``time_weights`` (RNNs, (T,)) is 1 at the output times in the loss and 0 elsewhere, and
    ``output_times`` lists those times (1-based); both ``None`` for FNNs.
    """

    grad_z: list[Any]
    grad_y: list[Any]
    output_gradient: Any = None
    output_hessian: Any = None
    time_weights: Any = None
    output_times: tuple[int, ...] | None = None
