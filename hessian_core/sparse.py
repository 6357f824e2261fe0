"""Sparse and truncated back-propagation: meProp top-k, truncated BPTT, selected steps.

meProp (Sun et al. 2017; Wei et al. 2017) keeps, in the backward pass, only the k largest
magnitudes of each back-propagated vector v^(k) = dE/dy^(k) of each sample (and, for RNNs,
each time step) and zeroes the rest; the sparse vector is what propagates further down. In
the matrix form G = V Z^T of Lemma 1 / Corollary 1 this makes V row-sparse.

Truncated BPTT with window K treats the hidden states z^(j,t-K) of every level as constants
for the loss E^(t): only the time steps s = t-K+1..t receive an adjoint, so eq. (55) keeps
its last K terms (and the Hessian its blocks with s, zeta > t-K). For E = sum_t E^(t) each
output time is truncated separately.

Selected steps (in the spirit of sparse attentive backtracking, Ke et al. 2017) keep only
the terms s in a chosen set S of the rank-t sum of eq. (55), G = sum_{s in S} v~^(k,t,s)
z^(k-1,s)T, with the exact adjoints v~. The set is given, or chosen by the rule
``"largest:K"``: the K steps with the largest sum_p ||v~_p^(k,t,s)|| ||z_p^(k-1,s)||.
"""

from __future__ import annotations

import math
from typing import Any

from .backend import namespace_of

__all__ = ["topk_count", "keep_top", "parse_backtrack", "select_steps"]


def topk_count(topk: Any, width: int) -> int | None:
    """Entries kept per vector of length ``width``: a count >= 1, or a fraction in (0, 1)."""
    if topk is None:
        return None
    if isinstance(topk, bool):
        raise ValueError(f"topk must be a count >= 1 or a fraction in (0, 1), got {topk!r}")
    if isinstance(topk, int):
        if topk < 1:
            raise ValueError(f"topk must be a count >= 1 or a fraction in (0, 1), got {topk}")
        return min(topk, width)
    if isinstance(topk, float) and 0.0 < topk < 1.0:
        return max(1, math.ceil(topk * width))
    raise ValueError(f"topk must be a count >= 1 or a fraction in (0, 1), got {topk!r}")


def keep_top(v: Any, count: int | None) -> Any:
    """Zero all but the ``count`` largest magnitudes along the last axis (ties are kept)."""
    if count is None or count >= v.shape[-1]:
        return v
    xp = namespace_of(v)
    magnitude = xp.abs(v)
    threshold = xp.sort(magnitude, axis=-1, descending=True)[..., count - 1 : count]
    return xp.where(magnitude >= threshold, v, xp.zeros_like(v))


def parse_backtrack(backtrack: Any, T: int) -> tuple[str, Any]:
    """``("steps", sorted 1-based steps)`` or ``("largest", K)``; ValueError otherwise."""
    allowed = "a set of time steps in 1..t, or 'largest:K' with K >= 1"
    if isinstance(backtrack, str):
        name, _, count = backtrack.partition(":")
        if name == "largest" and count.isdigit() and int(count) >= 1:
            return "largest", min(int(count), T)
        raise ValueError(f"backtrack must be {allowed}, got {backtrack!r}")
    try:
        steps = sorted({int(s) for s in backtrack})
    except (TypeError, ValueError):
        raise ValueError(f"backtrack must be {allowed}, got {backtrack!r}") from None
    if not steps or steps[0] < 1 or steps[-1] > T:
        raise ValueError(f"backtrack must be {allowed} (t = {T}), got {backtrack!r}")
    return "steps", steps


def select_steps(rule: tuple[str, Any], adjoint: Any, inputs: Any) -> list[int]:
    """0-based time indices kept by ``rule`` for adjoints (r, T, m) and inputs (r, T, n)."""
    kind, value = rule
    if kind == "steps":
        return [s - 1 for s in value]
    xp = namespace_of(adjoint, inputs)
    score = xp.sum(
        xp.linalg.vector_norm(adjoint, axis=-1) * xp.linalg.vector_norm(inputs, axis=-1), axis=0
    )
    order = xp.argsort(score, descending=True, stable=True)
    return sorted(int(i) for i in order[:value])
