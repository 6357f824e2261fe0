"""Singular values and numerical rank of gradients (Lemma 1-2, Corollary 1 and 3).

The paper proves rank(G_W) <= 1 for one FNN sample, <= r for a batch of r samples, <= t
for one RNN sample at output time t and <= r*t for a batch. Numerically a matrix has rank
equal to the number of singular values above a tolerance. The tolerance here is the one
of ``numpy.linalg.matrix_rank``: ``rtol * sigma_max`` with ``rtol = max(m, n) * eps``
(eps of the array's dtype), so float64 round-off never counts as rank.
"""

from __future__ import annotations

from typing import Any

from .backend import namespace_of

__all__ = ["singular_values", "numerical_rank", "default_rtol"]


def singular_values(G: Any) -> Any:
    """Singular values of ``G`` in descending order."""
    xp = namespace_of(G)
    return xp.linalg.svdvals(G)


def default_rtol(G: Any) -> float:
    """``max(m, n) * eps``: the relative tolerance used by :func:`numerical_rank`."""
    xp = namespace_of(G)
    return max(G.shape[-2], G.shape[-1]) * float(xp.finfo(G.dtype).eps)


def numerical_rank(G: Any, rtol: float | None = None) -> int:
    """Number of singular values of ``G`` above ``rtol * sigma_max`` (see module doc)."""
    xp = namespace_of(G)
    sigma = singular_values(G)
    if sigma.shape[0] == 0:
        return 0
    rtol = default_rtol(G) if rtol is None else float(rtol)
    top = sigma[0]
    if float(top) == 0.0:
        return 0
    return int(xp.sum(xp.astype(sigma > rtol * top, xp.int64)))
