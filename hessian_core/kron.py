"""The per-layer Hessian as a sum of Kronecker products, kept in factored form.

Every layer Hessian in this package has the shape of eq. (7)-(8) of the paper, summed over
the mini-batch (samples p = 1..r) and over the time steps s, zeta = 1..T of each sample::

    H = sum_p sum_{s, zeta} M_{p,s,zeta} kron ( z_{p,s} z_{p,zeta}^T )            (K)

with m x m matrices M_{p,s,zeta} (the paper's C, C~ or the exact pre-activation Hessian)
and input vectors z_{p,s} of length n (z^(k-1,s) for W, z^(k,s-1) for U, the scalar 1 for b).
For an FNN T = 1 and (K) is eq. (28) per sample; for an RNN it is eq. (74)-(76).

Index conventions: ``blocks[p, s, :, zeta, :]`` is M_{p,s,zeta} (0-based p and s, so
``s = 0`` is time step 1) and ``inputs[p, s, :]`` is z_{p,s}. The Hessian is taken with
respect to the row-major vec of the m x n weight matrix (index ``i*n + j`` is w_ij), the
order in which ``M kron (z z^T)`` is the Hessian exactly as written in the paper.

Writing K = [I kron z_{1,1}, ..., I kron z_{r,T}], (K) reads H = K M K^T with M the
block-diagonal (over samples) matrix of all blocks. Assembly of (K) and of its Gram
reduction share one routine, :func:`hessian_core.spectra.assemble`: for any factor F_p
(q x T) it forms::

    S[(i,c), (j,d)] = sum_p sum_{s,zeta} F_p[c,s] M_{p,s,zeta}[i,j] F_p[d,zeta]

which with F_p = Z_p^T (n x T) is H itself, and with F = G^(1/2) (G the Gram matrix of the
inputs) is the small matrix whose eigenvalues are the nonzero eigenvalues of H
(see :mod:`hessian_core.spectra`).

Where the Hessian is not of the form (K) (the exact H_U of an RNN, whose recurrent input
z^(k,s-1) itself depends on U), the part that (K) misses is kept as a dense ``remainder``.

:meth:`LayerHessian.from_parts` is the one place the package builds a layer Hessian (from
``Network.hessian_from``, ``RNN.hessian``, the whole Hessian's diagonal blocks and the errata):
an FNN's (r, m, m) matrices and (r, n) inputs are (K) with T = 1, and weight decay's
lam/2 ||W||^2 (and ||U||^2) is the ``shift`` lam I of H_W and H_U, none on H_b.
The eigenvalues and Weyl bounds are those of :mod:`hessian_core.spectra`, which sits below
this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .backend import device_of, namespace_of
from .lanczos import top_eigenvalues
from .spectra import assemble, kronecker_eigvalsh, weyl_bounds

__all__ = ["LayerHessian", "assemble"]


@dataclass(frozen=True, eq=False)
class LayerHessian:
    """Hessian of the loss with respect to one parameter block of one level.

    Attributes
    ----------
    blocks : array (r, T, m, T, m)
        M_{p,s,zeta}: exact pre-activation Hessian blocks (``formula="exact"``) or the
        paper's C~ (``formula="paper"``), the 1/r of the batch loss included.
    inputs : array (r, T, n)
        The vectors z_{p,s} of the Kronecker factors.
    layer : int
        Level k, 1-based.
    wrt : str
        ``"W"``, ``"U"`` or ``"b"``.
    formula : str
        ``"exact"`` or ``"paper"``.
    time_step : int or None
        Output time t of E^(t) for RNNs (``None``: the sum over output times, or an FNN).
    remainder : array (m*n, m*n) or None
        The part of the Hessian that is not of Kronecker form (exact H_U only).
    shift : float
        A multiple of the identity added to the whole Hessian: the weight decay lam for
        W and U (``weight_decay=``), 0 otherwise. Every eigenvalue moves by exactly ``shift``.
    """

    blocks: Any
    inputs: Any
    layer: int
    wrt: str
    formula: str
    time_step: int | None = None
    remainder: Any = None
    shift: float = 0.0

    @classmethod
    def from_parts(
        cls,
        blocks: Any,
        inputs: Any,
        layer: int,
        wrt: str,
        formula: str,
        *,
        time_step: int | None = None,
        remainder: Any = None,
        weight_decay: float = 0.0,
    ) -> LayerHessian:
        """The layer Hessian of level ``layer`` with respect to ``wrt`` from its terms.

        ``blocks`` (r, T, m, T, m) and ``inputs`` (r, T, n), or for an FNN the matrices
        (r, m, m) and the inputs (r, n) (T = 1). ``weight_decay`` lam becomes the ``shift``
        lam I for "W" and "U" and nothing for "b" (biases are not decayed).
        """
        xp = namespace_of(blocks, inputs)
        if blocks.ndim == 3:
            r, m = blocks.shape[0], blocks.shape[1]
            blocks = xp.reshape(blocks, (r, 1, m, 1, m))
        if inputs.ndim == 2:
            inputs = xp.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1]))
        return cls(
            blocks=blocks,
            inputs=inputs,
            layer=layer,
            wrt=wrt,
            formula=formula,
            time_step=time_step,
            remainder=remainder,
            shift=weight_decay if wrt in ("W", "U") else 0.0,
        )

    @property
    def xp(self) -> Any:
        return namespace_of(self.blocks)

    @property
    def n_outputs(self) -> int:
        """m, the number of rows of the parameter matrix."""
        return int(self.blocks.shape[2])

    @property
    def n_inputs(self) -> int:
        """n, the length of each Kronecker input vector z."""
        return int(self.inputs.shape[2])

    @property
    def shape(self) -> tuple[int, int]:
        size = self.n_outputs * self.n_inputs
        return (size, size)

    @property
    def structured(self) -> bool:
        """True when the Hessian is exactly the Kronecker sum (K) and ``eigvalsh`` avoids
        the dense matrix; False for the exact H_U of an RNN (dense route)."""
        return self.remainder is None

    def kronecker_part(self) -> Any:
        """The dense Kronecker sum (K), without the remainder."""
        factor = self.xp.permute_dims(self.inputs, (0, 2, 1))
        return assemble(self.blocks, factor)

    def dense(self) -> Any:
        """The (m*n) x (m*n) Hessian with respect to the row-major vec of the parameter."""
        dense = self.kronecker_part()
        if self.remainder is not None:
            dense = dense + self.remainder
        if self.shift:
            xp = self.xp
            dense = dense + self.shift * xp.eye(
                dense.shape[0], dtype=dense.dtype, device=device_of(dense)
            )
        return dense

    def eigvalsh(self) -> Any:
        """Ascending eigenvalues of :meth:`dense`, computed without forming it.

        Uses the Gram reduction of :func:`hessian_core.spectra.kronecker_eigvalsh`: one
        (m*q) x (m*q) eigenproblem with q = min(r*T, n). For the exact H_U of an RNN there
        is no Kronecker structure (``structured`` is False) and the dense matrix is used.
        """
        if not self.structured:
            return self.xp.linalg.eigvalsh(_symmetrized(self.xp, self.dense()))
        return kronecker_eigvalsh(self.blocks, self.inputs) + self.shift

    def weyl_bounds(self, form: str = "terms") -> tuple[Any, Any]:
        """Weyl lower and upper bounds on each eigenvalue, shaped like :meth:`eigvalsh`.

        ``form="terms"``: eq. (101)/(103), the anchor term's spectrum plus the extreme
        eigenvalues of every other Kronecker term (symmetric pairs for s != zeta).
        ``form="norm"``: eq. (107)-(108), the off-diagonal pairs bounded through singular
        values and vector norms instead.
        """
        return weyl_bounds(self, form=form)

    def top_eigenvalues(self, k: int = 1, **options: Any) -> Any:
        """The ``k`` largest eigenvalues (ascending), matrix-free through the factors."""
        return top_eigenvalues(self, k, **options)


def _symmetrized(xp: Any, matrix: Any) -> Any:
    return 0.5 * (matrix + xp.matrix_transpose(matrix))
