"""Eigenvalues of the Kronecker-sum Hessian from small matrices, and the Weyl bounds.

One term (eq. 45-46). For one FNN sample H = C kron (z z^T); since z z^T has the single
nonzero eigenvalue ||z||^2, ``lambda(H) = {0 (multiplicity (n-1) m), ||z||^2 lambda(C)}``.

Sums of terms (Gram reduction). Write H = K M K^T with K = [I kron z_1, ..., I kron z_R]
(R = r*T terms). The nonzero eigenvalues of K M K^T are those of M K^T K, and
K^T K = G kron I with G = Z Z^T the R x R Gram matrix of the inputs. Hence, with F = G^(1/2),
the nonzero spectrum is that of the (m*R) x (m*R) matrix (F kron I) M (F kron I). When
R > n it is cheaper to keep H in the n-dimensional input basis (F = Z^T). Either way the
eigenproblem has size m*q with q = min(R, n), and the remaining m*(n-q) eigenvalues are 0.
For R = 1 this is exactly eq. (46).

Weyl bounds (eq. 101): lambda_q(A) + lambda_1(B) <= lambda_q(A + B) <= lambda_q(A) + lambda_n(B).
Applied term by term with the anchor A = B^(k,t), the s = zeta = t term of one sample, and
B running over the remaining diagonal terms and the symmetric pairs
B^(k,t,s,zeta) = M_{s,zeta} kron z_s z_zeta^T + M_{zeta,s} kron z_zeta z_s^T of eq. (104),
this is eq. (103). The ``"norm"`` form replaces each pair's extreme eigenvalues by the
singular-value bound of eq. (107), |lambda(B^(k,t,s,zeta))| <= 2 sigma_max(M_{s,zeta})
||z_s|| ||z_zeta||, and each diagonal term by the worst mu of its sample, as in eq. (108).

Arguments are arrays, ``blocks`` (r, T, m, T, m) and ``inputs`` (r, T, n) in the index
conventions of :mod:`hessian_core.kron`, or for the term-wise functions a
:class:`KroneckerTerms`: anything that holds those arrays with the dense ``remainder`` outside
(K) and the ``shift`` of the identity (a :class:`~hessian_core.LayerHessian` is one). This
module sits below :mod:`hessian_core.kron` and does not import it.
"""

from __future__ import annotations

from typing import Any, Protocol

from .backend import device_of, namespace_of

__all__ = [
    "KroneckerTerms",
    "assemble",
    "kronecker_eigvalsh",
    "psd_sqrt",
    "term_eigenvalues",
    "weyl_bounds",
]


class KroneckerTerms(Protocol):
    """A Hessian (K) + ``remainder`` + ``shift`` I held by its terms, as the Weyl bounds read it.

    ``blocks`` (r, T, m, T, m) are the M_{p,s,zeta}, ``inputs`` (r, T, n) the z_{p,s},
    ``remainder`` the dense (m*n, m*n) part outside (K) or ``None``, ``shift`` the multiple
    of the identity added to the whole Hessian.
    """

    @property
    def blocks(self) -> Any: ...

    @property
    def inputs(self) -> Any: ...

    @property
    def remainder(self) -> Any: ...

    @property
    def shift(self) -> float: ...


def assemble(blocks: Any, factor: Any) -> Any:
    """``sum_p (F_p kron I) M_p (F_p kron I)^T`` ordered as ``(i, c), (j, d)``.

    ``blocks`` is ``(r, T, m, T, m)``, ``factor`` is ``(r, q, T)``; the result is
    ``(m*q, m*q)``. Cost ``O(r q T^2 m^2 + r q^2 T m^2)``: a batched matrix product, then
    one product contracting samples and time steps together.
    """
    xp = namespace_of(blocks, factor)
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    q = factor.shape[1]
    left = factor @ xp.reshape(blocks, (r, T, m * T * m))  # (r, q, m*T*m): [p, c, (i, zeta, j)]
    left = xp.permute_dims(xp.reshape(left, (r, q, m, T, m)), (2, 1, 4, 0, 3))  # [i, c, j, p, zeta]
    right = xp.reshape(xp.permute_dims(factor, (0, 2, 1)), (r * T, q))  # [(p, zeta), d]
    # one product over the pair (p, zeta): the (m*q)^2 result is written once
    return xp.reshape(xp.reshape(left, (m * q * m, r * T)) @ right, (m * q, m * q))


def psd_sqrt(gram: Any) -> Any:
    """Symmetric square root of a stack of positive semi-definite matrices."""
    xp = namespace_of(gram)
    values, vectors = xp.linalg.eigh(gram)
    roots = xp.sqrt(xp.where(values > 0, values, xp.zeros_like(values)))
    return (vectors * roots[..., None, :]) @ xp.matrix_transpose(vectors)


def reduced_matrix(blocks: Any, inputs: Any) -> Any:
    """The (m*q) x (m*q) matrix whose eigenvalues are the nonzero eigenvalues of (K)."""
    xp = namespace_of(blocks, inputs)
    r, T, n = inputs.shape
    if r * T <= n:
        terms = xp.reshape(inputs, (r * T, n))
        root = psd_sqrt(terms @ xp.matrix_transpose(terms))  # (R, R), columns by term
        factor = xp.permute_dims(xp.reshape(root, (r * T, r, T)), (1, 0, 2))  # (r, R, T)
    else:
        factor = xp.permute_dims(inputs, (0, 2, 1))  # (r, n, T)
    reduced = assemble(blocks, factor)
    return 0.5 * (reduced + xp.matrix_transpose(reduced))


def kronecker_eigvalsh(blocks: Any, inputs: Any) -> Any:
    """Ascending eigenvalues of the Kronecker sum (K) through the Gram reduction."""
    xp = namespace_of(blocks, inputs)
    m, n = blocks.shape[2], inputs.shape[2]
    nonzero = xp.linalg.eigvalsh(reduced_matrix(blocks, inputs))
    zeros = xp.zeros((m * n - nonzero.shape[0],), dtype=nonzero.dtype, device=device_of(nonzero))
    return xp.sort(xp.concat([nonzero, zeros]))


def term_eigenvalues(hessian: KroneckerTerms) -> Any:
    """Eq. (46)/(105) for every diagonal term: ``||z_{p,s}||^2 lambda(M_{p,s,s})``.

    Returns an array (r, T, m), ascending along the last axis; each term also has
    m*(n-1) zero eigenvalues.
    """
    return _term_eigenvalues(hessian.blocks, hessian.inputs)


def _term_eigenvalues(blocks: Any, inputs: Any) -> Any:
    xp = namespace_of(blocks, inputs)
    diagonal = _diagonal_blocks(blocks)  # (r, T, m, m)
    norms = xp.sum(inputs * inputs, axis=-1)  # (r, T)
    return norms[..., None] * xp.linalg.eigvalsh(diagonal)


def weyl_bounds(hessian: KroneckerTerms, form: str = "terms") -> tuple[Any, Any]:
    """Lower and upper Weyl bounds for every eigenvalue of ``hessian`` (ascending order)."""
    if form not in ("terms", "norm"):
        raise ValueError(f"form must be one of 'terms', 'norm', got {form!r}")
    blocks, inputs = hessian.blocks, hessian.inputs
    xp = namespace_of(blocks)
    m, n = int(blocks.shape[2]), int(inputs.shape[2])
    r, T = inputs.shape[0], inputs.shape[1]
    has_zeros = n > 1

    diagonal_eigs = _term_eigenvalues(blocks, inputs)  # (r, T, m)
    low_diag = diagonal_eigs[..., 0]
    high_diag = diagonal_eigs[..., -1]
    if has_zeros:
        low_diag = xp.where(low_diag < 0, low_diag, xp.zeros_like(low_diag))
        high_diag = xp.where(high_diag > 0, high_diag, xp.zeros_like(high_diag))

    # The anchor: the last time step's diagonal term of the sample with the widest spectrum.
    spread = high_diag[:, T - 1] - low_diag[:, T - 1]
    anchor = int(xp.argmax(spread))
    anchor_values = diagonal_eigs[anchor, T - 1, :]
    if has_zeros:
        zeros = xp.zeros((m * (n - 1),), dtype=anchor_values.dtype, device=device_of(anchor_values))
        anchor_values = xp.concat([anchor_values, zeros])
    anchor_values = xp.sort(anchor_values)

    is_anchor = _anchor_mask(xp, r, T, anchor, low_diag)
    others_low = xp.where(is_anchor, xp.zeros_like(low_diag), low_diag)
    others_high = xp.where(is_anchor, xp.zeros_like(high_diag), high_diag)
    if form == "terms":
        lower = xp.sum(others_low)
        upper = xp.sum(others_high)
    else:  # eq. (108): per sample, the count of other diagonal terms times the worst mu
        counts = T - xp.sum(xp.astype(is_anchor, low_diag.dtype), axis=1)
        big = xp.max(xp.abs(diagonal_eigs)) + 1.0
        worst_low = xp.min(xp.where(is_anchor, xp.zeros_like(low_diag) + big, low_diag), axis=1)
        worst_high = xp.max(xp.where(is_anchor, xp.zeros_like(high_diag) - big, high_diag), axis=1)
        valid = counts > 0
        lower = xp.sum(xp.where(valid, counts * worst_low, xp.zeros_like(counts)))
        upper = xp.sum(xp.where(valid, counts * worst_high, xp.zeros_like(counts)))

    if T > 1:
        pair_low, pair_high = _pair_bounds(blocks, inputs, form)
        lower = lower + pair_low
        upper = upper + pair_high

    if hessian.remainder is not None:
        rest = xp.linalg.eigvalsh(
            0.5 * (hessian.remainder + xp.matrix_transpose(hessian.remainder))
        )
        if form == "terms":
            lower, upper = lower + rest[0], upper + rest[-1]
        else:
            radius = xp.max(xp.abs(rest))
            lower, upper = lower - radius, upper + radius
    shift = getattr(hessian, "shift", 0.0)  # weight decay: lam I moves every eigenvalue by lam
    return anchor_values + lower + shift, anchor_values + upper + shift


def _anchor_mask(xp: Any, r: int, T: int, anchor: int, like: Any) -> Any:
    rows = xp.arange(r, device=device_of(like))[:, None]
    cols = xp.arange(T, device=device_of(like))[None, :]
    return (rows == anchor) & (cols == T - 1)


def _pair_bounds(blocks: Any, inputs: Any, form: str) -> tuple[Any, Any]:
    """Summed lower / upper contributions of the symmetric pairs s < zeta (eq. 104, 107)."""
    xp = namespace_of(blocks, inputs)
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    first = [s for s in range(T) for z in range(s + 1, T)]
    second = [z for s in range(T) for z in range(s + 1, T)]
    device = device_of(blocks)
    grid = xp.reshape(xp.permute_dims(blocks, (0, 1, 3, 2, 4)), (r, T * T, m, m))
    forward = xp.take(
        grid,
        xp.asarray([s * T + z for s, z in zip(first, second, strict=True)], device=device),
        axis=1,
    )
    z_first = xp.take(inputs, xp.asarray(first, device=device), axis=1)  # (r, P, n)
    z_second = xp.take(inputs, xp.asarray(second, device=device), axis=1)

    if form == "norm":
        # eq. (107)-(108): each pair |lambda| <= 2 sigma_max(M_{s,zeta}) ||z_s|| ||z_zeta||,
        # and t(t-1) times the largest pair term of each sample
        sigma = xp.linalg.matrix_norm(forward, ord=2)  # (r, P)
        norms = xp.linalg.vector_norm(z_first, axis=-1) * xp.linalg.vector_norm(z_second, axis=-1)
        total = T * (T - 1) * xp.sum(xp.max(sigma * norms, axis=1))
        return -total, total

    # In an orthonormal basis e1, e2 of span{z_s, z_zeta}: z_s = a e1, z_zeta = b e1 + c e2, and
    # the pair term restricted to it is [[ab (M + M^T), ac M], [ac M^T, 0]] with M = M_{s,zeta}.
    a = xp.linalg.vector_norm(z_first, axis=-1)
    safe = xp.where(a > 0, a, xp.ones_like(a))
    b = xp.where(a > 0, xp.sum(z_first * z_second, axis=-1) / safe, xp.zeros_like(a))
    c2 = xp.sum(z_second * z_second, axis=-1) - b * b
    c = xp.sqrt(xp.where(c2 > 0, c2, xp.zeros_like(c2)))
    symmetric = (a * b)[..., None, None] * (forward + xp.matrix_transpose(forward))
    n = inputs.shape[2]
    if n == 1:
        reduced = symmetric  # c = 0: the pair term is the m x m matrix itself
    else:
        coupling = (a * c)[..., None, None] * forward
        top = xp.concat([symmetric, coupling], axis=-1)
        bottom = xp.concat([xp.matrix_transpose(coupling), xp.zeros_like(coupling)], axis=-1)
        reduced = xp.concat([top, bottom], axis=-2)
    eigs = xp.linalg.eigvalsh(reduced)
    low, high = eigs[..., 0], eigs[..., -1]
    zero = xp.zeros_like(low)
    if n > 2:  # the pair term (size mn) has rank <= 2m: the rest of its eigenvalues are zero
        low = xp.where(low < 0, low, zero)
        high = xp.where(high > 0, high, zero)
    return xp.sum(low), xp.sum(high)


def _diagonal_blocks(blocks: Any) -> Any:
    xp = namespace_of(blocks)
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    grid = xp.reshape(xp.permute_dims(blocks, (0, 1, 3, 2, 4)), (r, T * T, m, m))
    index = xp.asarray([s * T + s for s in range(T)], device=device_of(blocks))
    return xp.take(grid, index, axis=1)
