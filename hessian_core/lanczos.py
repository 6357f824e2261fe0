"""A few extreme eigenvalues of a layer Hessian, matrix-free through its Kronecker factors.

The layer Hessian (:mod:`hessian_core.kron`, eq. (28) and (74)-(76) of the paper) is::

    H = sum_p sum_{s, zeta} M_{p,s,zeta} kron ( z_{p,s} z_{p,zeta}^T )              (K)

In the row-major vec of the contract (``x = X.reshape(-1)``, X of shape (m, n)),
``(A kron B) vec(X) = vec(A X B^T)``, so with B = z_s z_zeta^T::

    H vec(X) = vec( sum_p sum_{s,zeta} M_{p,s,zeta} (X z_{p,zeta}) z_{p,s}^T )          (P)

computed as Y_p = X Z_p^T (m x T), then W_p[:, s] = sum_zeta M_{p,s,zeta} Y_p[:, zeta], then
sum_p W_p Z_p: ``O(r T m n + r T^2 m^2)`` per product and never an (m*n) x (m*n) matrix.

Smaller still (Gram reduction, as in :mod:`hessian_core.spectra`): with K = [I kron z_{p,s}]
and R = r*T terms, H = K M K^T and K^T K is "multiply by the R x R Gram matrix G". For
R < n the nonzero eigenvalues of H are those of the (m*R)-dimensional operator
``A = S M S`` with S = "multiply by F = G^(1/2)"; in (R, m) layout (row (p, s))::

    A(Y) = F ( M (F Y) )            cost O(R^2 m + r T^2 m^2) per product        (R)

and the other m*(n-R) eigenvalues of H are exactly 0. :func:`top_eigenvalues` runs on (R)
when R < n, on (P) otherwise, and plain eigvalsh of the reduced matrix when it is small.

The method is Lanczos with full reorthogonalization (two Gram-Schmidt passes per step):
the Krylov basis Q_j, the tridiagonal T_j = Q_j^T A Q_j, and the Ritz values theta of T_j.
A Ritz value is accepted when its residual ``|beta_j s_j|`` (s_j the last entry of its
eigenvector of T_j) is at most ``tol`` times the largest |theta|; each accepted Ritz value
then lies within that residual of an eigenvalue of H (and usually within residual^2 / gap).
When the Krylov space becomes invariant (beta <= min(tol, 1e-8) x scale; H has few distinct
eigenvalues when m*q is small), the basis goes on with a fresh vector orthogonal to it, in
which further copies of repeated eigenvalues appear. Where rounding keeps the space from
becoming invariant, a repeated eigenvalue can be reported fewer times than it occurs, as
with any single-vector Lanczos method (ARPACK's included).

Everything runs in the namespace of the factors (array API: NumPy, CuPy, array-api-strict,
...); starting vectors come from a deterministic hash of the index, not from a host RNG.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from .backend import device_of, namespace_of

__all__ = ["top_eigenvalues", "hessian_vector_product", "lanczos", "start_vector"]

#: Accepted values of ``which=``.
WHICH: tuple[str, ...] = ("LA", "SA", "LM")

#: Below this reduced size the eigenvalues come from one dense eigvalsh of the small matrix.
DIRECT_SIZE = 128

#: The Krylov space counts as invariant when beta is at most ``min(tol, INVARIANT_TOL)`` times
#: the largest |alpha| or beta so far (and ``1e-12`` times it at the least). Capped so that a
#: loose ``tol`` (1e-2, 1e-1) does not take every small beta for an invariant space: that
#: would restart at every step and never test convergence.
INVARIANT_TOL = 1e-8


def hessian_vector_product(hessian: Any, vector: Any) -> Any:
    """``H @ vector`` through the factors by (P), plus ``remainder @ vector`` if any.

    ``vector`` has length m*n (row-major vec of an m x n matrix) or shape (m*n, k) for k
    vectors at once; the result has the same shape.
    """
    blocks, inputs = hessian.blocks, hessian.inputs
    xp = namespace_of(blocks, inputs, vector)
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    n = inputs.shape[2]
    columns = vector if vector.ndim == 2 else xp.reshape(vector, (m * n, 1))
    k = columns.shape[1]
    X = xp.reshape(xp.permute_dims(columns, (1, 0)), (k * m, n))
    terms = xp.reshape(inputs, (r * T, n))
    Y = xp.reshape(X @ xp.permute_dims(terms, (1, 0)), (k, m, r, T))  # [c, i, p, zeta]
    Y = xp.reshape(xp.permute_dims(Y, (2, 3, 1, 0)), (r, T * m, k))  # [p, (zeta, j), c]
    W = xp.reshape(blocks, (r, T * m, T * m)) @ Y  # [p, (s, i), c]
    W = xp.reshape(xp.permute_dims(xp.reshape(W, (r * T, m, k)), (2, 1, 0)), (k * m, r * T))
    out = xp.permute_dims(xp.reshape(W @ terms, (k, m * n)), (1, 0))
    if hessian.remainder is not None:
        out = out + hessian.remainder @ columns
    shift = float(getattr(hessian, "shift", 0.0))
    if shift:  # weight decay: H + lam I
        out = out + shift * columns
    return out if vector.ndim == 2 else xp.reshape(out, (m * n,))


def top_eigenvalues(
    hessian: Any,
    k: int = 1,
    which: str = "LA",
    tol: float = 1e-10,
    maxiter: int | None = None,
) -> Any:
    """The ``k`` extreme eigenvalues of ``hessian`` (a LayerHessian), ascending.

    ``which="LA"``: the k largest (algebraic), ``"SA"``: the k smallest, ``"LM"``: the k of
    largest magnitude; in every case the result is sorted ascending, so for ``"LA"`` the
    largest eigenvalue is the last entry. ``tol`` is the Lanczos residual tolerance relative
    to the largest Ritz magnitude (see the module docstring); ``maxiter`` caps the Krylov
    dimension (default ``max(300, 20 k)``). Exact (dense eigvalsh of the reduced matrix)
    when the reduced size m*q is at most ``DIRECT_SIZE`` or k is not below it.

    >>> import numpy as np
    >>> from hessian_core.kron import LayerHessian
    >>> rng = np.random.default_rng(0)
    >>> C = rng.standard_normal((3, 3)); C = C + C.T
    >>> z = rng.standard_normal(4)
    >>> h = LayerHessian(C[None, None, :, None, :], z[None, None, :], 1, "W", "exact")
    >>> dense = np.kron(C, np.outer(z, z))
    >>> bool(np.allclose(top_eigenvalues(h, 2), np.linalg.eigvalsh(dense)[-2:]))
    True
    """
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    blocks, inputs = hessian.blocks, hessian.inputs
    xp = namespace_of(blocks, inputs)
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    n = inputs.shape[2]
    size = m * n
    if not 1 <= k <= size:
        raise ValueError(f"k must be between 1 and m*n = {size}, got {k}")
    terms = r * T
    structured = hessian.remainder is None
    reduced = structured and terms < n
    dim = m * terms if reduced else size
    if dim <= DIRECT_SIZE or k >= dim:
        return _select(xp, hessian.eigvalsh(), k, which)

    shift = float(getattr(hessian, "shift", 0.0))  # weight decay lam: H + lam I
    wanted = min(k, dim - 1)
    if reduced and shift and which == "LM" and 2 * wanted >= dim:
        return _select(xp, hessian.eigvalsh(), k, which)
    if reduced:  # the reduced operator has the nonzero eigenvalues of H without the shift
        operator = _reduced_operator(xp, blocks, inputs)
    else:  # hessian_vector_product includes the shift
        operator = _full_operator(xp, hessian)
    if reduced and shift and which == "LM":  # |lambda + lam| largest: among both ends of H
        values = xp.concat(
            [
                lanczos(operator, dim, wanted, end, tol=tol, maxiter=maxiter, like=blocks)
                for end in ("LA", "SA")
            ]
        )
    else:
        values = lanczos(operator, dim, wanted, which, tol=tol, maxiter=maxiter, like=blocks)
    if reduced:  # the other m*(n-R) eigenvalues of H are zero (lam with the shift)
        zeros = xp.zeros((min(k, size - dim),), dtype=values.dtype, device=device_of(values))
        values = xp.concat([values, zeros]) + shift
    return _select(xp, values, k, which)


def lanczos(
    operator: Callable[[Any], Any],
    dim: int,
    k: int,
    which: str = "LA",
    tol: float = 1e-10,
    maxiter: int | None = None,
    like: Any = None,
    start: Any = None,
) -> Any:
    """Ascending ``k`` extreme eigenvalues of a symmetric operator on vectors of length
    ``dim`` (``operator(v)`` for v of shape (dim,)), by Lanczos with full reorthogonalization.

    ``like`` gives the namespace, dtype and device of the vectors; ``start`` is the first
    Krylov vector (any nonzero length; default: the deterministic hash of the index). One
    product per step; the reorthogonalization is two matrix products with the basis, and the
    tridiagonal eigenproblem is solved only at the steps that test convergence.

    After the Krylov space has once become invariant, convergence also requires the extreme
    Ritz value (in the ``which`` direction) of the new block, so that a repeated wanted
    eigenvalue is not accepted before the new block has had the chance to show its second
    copy.
    """
    xp = namespace_of(like)
    dtype, device = like.dtype, device_of(like)
    maxiter = min(dim, maxiter if maxiter is not None else max(300, 20 * k))
    # the basis grows by doubling from a few rows: a large empty one costs page faults
    basis = xp.zeros((min(maxiter, 16), dim), dtype=dtype, device=device)
    finished: list[float] = []  # exact eigenvalues of the blocks that became invariant
    alphas: list[float] = []  # the current block's tridiagonal T
    betas: list[float] = []
    q = start_vector(xp, dim, 0, dtype, device) if start is None else start
    norm = float(xp.linalg.vector_norm(q))
    if not norm > 0.0:  # a zero (or non-finite) start: the hashed vector
        q = start_vector(xp, dim, 0, dtype, device)
        norm = float(xp.linalg.vector_norm(q))
    q = q / norm
    scale = 0.0
    theta: list[float] = []
    residuals: list[float] = []
    converged = False
    for j in range(maxiter):
        if j == basis.shape[0]:
            grown = xp.zeros((min(2 * j, maxiter), dim), dtype=dtype, device=device)
            grown[:j, :] = basis
            basis = grown
        basis[j, :] = q
        w = operator(q)
        alpha = float(xp.vecdot(q, w))
        alphas.append(alpha)
        current = basis[: j + 1, :]
        for _ in range(2):  # full reorthogonalization, twice is enough
            w = w - (current @ w) @ current
        beta = float(xp.linalg.vector_norm(w))
        scale = max(scale, abs(alpha), beta)
        # invariant subspace (to round-off, or to within a tight tol): its Ritz values are
        # eigenvalues
        breakdown = beta <= min(max(tol, 1e-12), INVARIANT_TOL) * scale or j + 1 == dim
        if breakdown:
            finished += _ritz(xp, alphas, betas, dtype, device)[0]
            theta, residuals = sorted(finished), [0.0] * len(finished)
            if j + 1 == dim:
                converged = True
                break
            w = start_vector(xp, dim, j + 1, dtype, device)  # go on with a fresh direction
            for _ in range(2):
                w = w - (current @ w) @ current
            q = w / xp.linalg.vector_norm(w)
            alphas, betas = [], []
            continue
        if _check_now(j, k):
            block, last = _ritz(xp, alphas, betas, dtype, device)
            theta = finished + block
            residuals = [0.0] * len(finished) + [beta * abs(value) for value in last]
            check = _wanted(theta, k, which)
            if finished:  # the new block's own extreme Ritz value(s) must have converged
                offset = len(finished)
                check += {"LA": [offset + len(block) - 1], "SA": [offset]}.get(
                    which, [offset, offset + len(block) - 1]
                )
            largest = max(abs(value) for value in theta)
            if len(_wanted(theta, k, which)) == k and all(
                residuals[i] <= tol * max(largest, 1e-300) for i in check
            ):
                converged = True
                break
        betas.append(beta)
        q = w / beta
    if not converged:
        block, last = _ritz(xp, alphas, betas, dtype, device) if alphas else ([], [])
        theta = finished + block
        residuals = [0.0] * len(finished) + [beta * abs(value) for value in last]
        worst = max(residuals[i] for i in _wanted(theta, k, which))
        warnings.warn(
            f"Lanczos stopped after {maxiter} steps with a residual of {worst:.3g}, above "
            f"tol={tol:g} times the largest Ritz value; the eigenvalues may be inaccurate",
            RuntimeWarning,
            stacklevel=2,
        )
    values = sorted(theta[i] for i in _wanted(theta, k, which))
    return xp.asarray(values, dtype=dtype, device=device)


def _check_now(j: int, k: int) -> bool:
    """Whether to test convergence after step j: every step up to 10, then every ~10%."""
    steps = j + 1
    return steps >= k and (steps <= 10 or steps % max(2, steps // 10) == 0)


def _ritz(xp: Any, alphas: list[float], betas: list[float], dtype: Any, device: Any):
    """Eigenvalues of T_j (ascending, Python floats) and the last row of its eigenvectors."""
    size = len(alphas)
    rows = [[0.0] * size for _ in range(size)]  # T_j from the host's floats, one transfer
    for i, alpha in enumerate(alphas):
        rows[i][i] = alpha
        if i + 1 < size:
            rows[i][i + 1] = rows[i + 1][i] = betas[i]
    values, vectors = xp.linalg.eigh(xp.asarray(rows, dtype=dtype, device=device))
    return [float(v) for v in values], [float(v) for v in vectors[size - 1, :]]


def _wanted(theta: list[float], k: int, which: str) -> list[int]:
    order = range(len(theta))
    if which == "LA":
        chosen = sorted(order, key=lambda i: -theta[i])
    elif which == "SA":
        chosen = sorted(order, key=lambda i: theta[i])
    else:
        chosen = sorted(order, key=lambda i: -abs(theta[i]))
    return chosen[:k]


def _select(xp: Any, values: Any, k: int, which: str) -> Any:
    """The k wanted entries of ``values``, ascending."""
    values = xp.sort(values)
    if which == "LA":
        return values[values.shape[0] - k :]
    if which == "SA":
        return values[:k]
    order = xp.argsort(xp.abs(values), descending=True, stable=True)[:k]
    return xp.sort(xp.take(values, order))


def start_vector(xp: Any, dim: int, seed: int, dtype: Any, device: Any) -> Any:
    """Deterministic pseudo-random vector in [-0.5, 0.5): frac(sin(i) * 43758.5453) - 0.5."""
    index = xp.arange(dim, dtype=dtype, device=device) + (1.0 + 7919.0 * seed)
    hashed = xp.sin(index * 12.9898 + 78.233 * (seed + 1)) * 43758.5453
    return hashed - xp.floor(hashed) - 0.5


def _full_operator(xp: Any, hessian: Any) -> Callable[[Any], Any]:
    """(P): products with H itself through the factors (plus the dense remainder if any)."""
    return lambda vector: hessian_vector_product(hessian, vector)


def _reduced_operator(xp: Any, blocks: Any, inputs: Any) -> Callable[[Any], Any]:
    """(R): products with S M S on vectors of length m*R laid out as (R, m)."""
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    n = inputs.shape[2]
    terms = xp.reshape(inputs, (r * T, n))
    gram = terms @ xp.permute_dims(terms, (1, 0))
    values, vectors = xp.linalg.eigh(gram)
    roots = xp.sqrt(xp.where(values > 0, values, xp.zeros_like(values)))
    root = (vectors * roots[None, :]) @ xp.permute_dims(vectors, (1, 0))  # F = G^(1/2)
    matrices = xp.reshape(blocks, (r, T * m, T * m))

    def apply(vector: Any) -> Any:
        Y = root @ xp.reshape(vector, (r * T, m))  # rows (p, zeta)
        W = matrices @ xp.reshape(Y, (r, T * m, 1))  # rows (p, s, i)
        return xp.reshape(root @ xp.reshape(W, (r * T, m)), (r * T * m,))

    return apply
