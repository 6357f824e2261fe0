"""The whole Hessian: every level at once, cross-level blocks included (beyond the paper).

Parameters in one vector theta (``net.parameter_vector()``): for k = 1..l, vec(W^(k))
(row-major), [vec(U^(k)) for RNNs], b^(k). H = d^2E / dtheta dtheta is (P, P) in that order;
its diagonal blocks are the paper's layer Hessians (Theorem 1 / 2, corrected, ``net.hessian``).

Notation (FNN, one sample; sums over the batch p and the 1/r of E are implied, as in
:mod:`hessian_core.fnn`): y^(k) = W^(k) z^(k-1) + b^(k), z^(k) = f(y^(k)); the adjoints
a^(k) = dE/dz^(k), v^(k) = dE/dy^(k) = a^(k) o f'(y^(k)) (Lemma 1); M^(k) = d^2E/dy^(k)dy^(k),
the corrected Theorem 1 recursion M^(k) = Q^(k) o F^(k) + D^(k), D^(k) = diag(a^(k) o f''(y^(k))),
Q^(k-1) = W^(k)T M^(k) W^(k), Q^(l) the loss Hessian (:mod:`hessian_core.recursion`). Between
levels k < j, with F'^(i) = diag(f'(y^(i))), the backward Jacobians

    J^(j,k) = dy^(j)/dy^(k) = W^(j) F'^(j-1) W^(j-1) ... F'^(k+1) W^(k+1) F'^(k),  J^(k,k) = I,
    K^(j,k) = dz^(j-1)/dy^(k) = F'^(j-1) J^(j-1,k)                       (n_j x m_k).

Cross-level blocks (k < j). The gradient of level j is G_W^(j) = v^(j) z^(j-1)T, G_b^(j) = v^(j)
(Corollary 1). A parameter of level k moves y^(k) by dy^(k) = dW^(k) z^(k-1) + db^(k); with the
upper parameters fixed, v^(j) is a function of y^(j) alone, so it moves by M^(j) J^(j,k) dy^(k),
and the input z^(j-1) moves by K^(j,k) dy^(k). With (A kron B) vec(X) = vec(A X B^T):

  H_{W^(j),W^(k)} = (M^(j) J^(j,k)) kron (z^(j-1) z^(k-1)T) + v^(j) kron K^(j,k) kron z^(k-1)T (X1)
  H_{W^(j),b^(k)} = (M^(j) J^(j,k)) kron z^(j-1)            + v^(j) kron K^(j,k)               (X2)
  H_{b^(j),W^(k)} = (M^(j) J^(j,k)) kron z^(k-1)T                                              (X3)
  H_{b^(j),b^(k)} =  M^(j) J^(j,k)                                                             (X4)

and on one level (k = j: J = I, no second term) eq. (28)-(29): H_{W,W} = M kron z z^T + lam I,
H_{W,b} = M kron z^(k-1), H_{b,b} = M. Blocks with k > j are the transposes. So level k couples
to level j through two terms: the curvature M^(j) of the upper level (which carries f'' of
levels j..l through its D^(i), the residual term of Theorem 1) times the product J^(j,k) of the
backward Jacobians between the levels; and, for W^(j) only, the first-order adjoint v^(j) times
the forward Jacobian K^(j,k) of the upper level's input (the residual of the cross block: it
holds no f'', since z^(j-1) is differentiated once). So f'' of a level i enters exactly the
blocks whose upper level j is at or below i (through D^(i) in M^(j)), never those with k < i < j.

Gauss-Newton part. With J_theta = dz^(l)/dtheta, GGN = J_theta^T Q^(l) J_theta (+ lam I on W, U):
positive semidefinite, as Q^(l) is (I/r, or (diag(p) - p p^T)/r). It is the same recursion with
D^(i) dropped at every level (``curvature="none"``:
M_GN^(k) = (F'^(l) J^(l,k))^T Q^(l) F'^(l) J^(l,k)) and without the adjoint terms
v^(j) kron K^(j,k): (X1)-(X4) with M_GN in place of M.
H - GGN is the residual: the D^(i) (f'' times the adjoint) and the v^(j) K^(j,k) terms.

Hessian-vector products (Pearlmutter's R-operator), H d for d = (dW^(k), db^(k))_k, one forward
and one backward sweep of second order, O(cost of a gradient) per direction. Forward tangents:

    ydot^(k) = W^(k) zdot^(k-1) + dW^(k) z^(k-1) + db^(k),   zdot^(k) = f'(y^(k)) o ydot^(k),
    zdot^(0) = 0;

reverse pass of the adjoint tangents:

    adot^(l) = Q^(l) zdot^(l),
    vdot^(k) = adot^(k) o f'(y^(k)) + a^(k) o f''(y^(k)) o ydot^(k),
    adot^(k-1) = W^(k)T vdot^(k) + dW^(k)T v^(k),
    (H d)_W^(k) = vdot^(k) z^(k-1)T + v^(k) zdot^(k-1)T + lam dW^(k),   (H d)_b^(k) = vdot^(k).

The GGN product drops the three terms with a first-order adjoint (a^(k) o f'' o ydot,
dW^T v, v zdot^T). f'(y^(k)) and a^(k) o f''(y^(k)) do not depend on d: a WholeHessian computes
them once (:func:`level_derivatives`) for all its products, which are then batched matrix
products and element-wise multiplications only.
RNNs: the same sweep through time, for all levels at once
(:func:`hessian_core.rnn_hvp.parameter_tangents`, which adds dU^T g_y^(s+1) and
g_y^(s) zdot^(s-1)T for U).

RNN blocks (eq. 47-48: y^(j,s) = W^(j) z^(j-1,s) + U^(j) z^(j,s-1) + b^(j)). The gradient of
level j is G_alpha^(j) = sum_s g_y^(j,s) u_alpha^(j,s)T with u_W = z^(j-1,s), u_U = z^(j,s-1),
u_b = 1 (Lemma 2), and M^(j)_{s,zeta} = d^2E / dy^(j,s) dy^(j,zeta) (additive perturbations,
:mod:`hessian_core.rnn_curvature`). A column array theta_c (level k <= j, "W", "U" or "b")
moves the level-i pre-activations, beyond level i's own recurrence, by Delta^(i)_s dtheta_c and
the states by Sz^(i,s) dtheta_c:

    Delta^(k)_s = I kron u_beta^(k,s)T,     Delta^(i)_s = W^(i) Sz^(i-1,s)   (k < i <= j),
    Sz^(i,s) = F'^(i,s) (Delta^(i)_s + U^(i) Sz^(i,s-1)),   Sz^(i,0) = 0.

With the upper parameters fixed g_y^(j,.) moves by sum_zeta M^(j)_{s,zeta} Delta^(j)_zeta, and if
theta_c is U^(k) of the same level (j = k) also by R_s, the adjoint of the extra source
dU^T g_y^(k,s+1): R_s = F'^(k,s) (E_s + U^(k)T R_{s+1}), E_s = dU^T g_y^(k,s+1). So

    H_{alpha^(j), theta_c} = sum_p sum_s (sum_zeta M^(j)_{s,zeta} Delta^(j)_zeta + R_s)
                                          kron u_alpha^(j,s)                          (R1, R3)
                           + sum_p sum_s g_y^(j,s) kron d u_alpha^(j,s)/d theta_c,      (R2)

d u_W^(j,s) = Sz^(j-1,s) (j > k), d u_U^(j,s) = Sz^(j,s-1), d u_b = 0. For j = k, alpha = beta
this is eq. (74)-(76) with M, plus for U the remainder B + B^T ((R2) and (R3)); for T = 1 and
U = 0 it is (X1)-(X4). An RNN's diagonal blocks are ``rnn.hessian_from``, its other blocks
(R1)-(R3) (:func:`hessian_core.rnn_curvature.cross_block`); the blocks of its Gauss-Newton
part come from the sweep with unit directions in the columns' array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .activations import derivatives, first_derivative
from .backend import (
    as_float_array,
    device_of,
    namespace_of,
    require_choice,
    require_int_in_range,
    require_shape,
)
from .kron import LayerHessian
from .lanczos import lanczos, start_vector
from .recursion import all_preactivation_matrices
from .results import Adjoints, Forward
from .rnn_curvature import cross_block
from .rnn_hvp import parameter_tangents

__all__ = [
    "CrossBlock", "DenseBlock", "WholeHessian", "DENSE_LIMIT", "fnn_parameter_tangents",
    "level_derivatives", "SHARPNESS_TOL",
]

#: Largest P for which :meth:`WholeHessian.eigvalsh` forms the dense matrix (P matvecs and
#: one P x P eigvalsh; 3000 is 72 MB in float64).
DENSE_LIMIT = 3000

#: Default residual tolerance of :meth:`WholeHessian.top_eigenvalues` (relative to the largest
#: Ritz value); see its docstring for what it guarantees.
SHARPNESS_TOL = 1e-5

#: Weight of the unit hashed vector beside the unit gradient in the default Lanczos start.
START_MIX = 0.3

#: Largest number of entries of one tangent array (D * r * T * m) before directions are chunked.
MAX_TANGENT_ENTRIES = 1 << 22


@dataclass(frozen=True, eq=False)
class CrossBlock:
    """One block of an FNN's whole Hessian between two parameter arrays, in matrix form:

        sum_p coupling_p kron (u_p w_p^T) + adjoint_p kron tangent_p kron w_p^T     (X1)-(X4)

    for the lower-triangular orientation (rows at level j >= columns' level k): coupling
    M^(j) J^(j,k) (r, m_j, m_k), u the rows' inputs (z^(j-1), or 1 for b) (r, n_u), w the
    columns' inputs (r, n_w), adjoint v^(j) (r, m_j) and tangent K^(j,k) (r, n_j, m_k) or None.
    ``transposed`` gives the upper-triangular block the caller asked for.
    """

    coupling: Any
    row_inputs: Any
    column_inputs: Any
    adjoint: Any
    tangent: Any
    rows: tuple[int, str]
    columns: tuple[int, str]
    transposed: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        m_j, m_k = int(self.coupling.shape[1]), int(self.coupling.shape[2])
        shape = (m_j * int(self.row_inputs.shape[1]), m_k * int(self.column_inputs.shape[1]))
        return shape[::-1] if self.transposed else shape

    def dense(self) -> Any:
        """The block as a matrix: rows in the row-major vec of ``rows``' array, columns in
        that of ``columns``' array."""
        xp = self.xp
        A, u, w = self.coupling, self.row_inputs, self.column_inputs
        outer = u[:, :, None] * w[:, None, :]  # (r, n_u, n_w)
        first = xp.permute_dims(xp.tensordot(A, outer, axes=([0], [0])), (0, 2, 1, 3))
        if self.adjoint is not None:  # v^(j) kron K^(j,k) kron w^T
            product = self.adjoint[:, :, None, None] * self.tangent[:, None, :, :]
            first = first + xp.tensordot(product, w, axes=([0], [0]))
        size = (first.shape[0] * first.shape[1], first.shape[2] * first.shape[3])
        matrix = xp.reshape(first, size)
        return xp.matrix_transpose(matrix) if self.transposed else matrix

    @property
    def xp(self) -> Any:
        return namespace_of(self.coupling)


@dataclass(frozen=True, eq=False)
class DenseBlock:
    """One block of a whole Hessian as a plain matrix: an RNN block between two arrays, by
    (R1)-(R3) (:func:`hessian_core.rnn_curvature.cross_block`), or a block of an RNN's
    Gauss-Newton part, from the sweep with unit directions in the columns' array."""

    matrix: Any
    rows: tuple[int, str]
    columns: tuple[int, str]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    def dense(self) -> Any:
        return self.matrix


@dataclass(frozen=True, eq=False)
class WholeHessian:
    """The Hessian of E with respect to every parameter (``part="hessian"``), or its
    Gauss-Newton part (``part="gauss_newton"``), in ``network.parameter_vector()`` order.

    Built by ``net.whole_hessian(X, Z_target)``; holds the forward pass and the adjoints, so
    each product costs one second-order sweep and nothing is recomputed.

    >>> import numpy as np
    >>> from hessian_core import FNN
    >>> net = FNN.random((2, 3, 1), activation="tanh", seed=0)
    >>> X, Zt = np.ones((4, 2)), np.zeros((4, 1))
    >>> H = net.whole_hessian(X, Zt)
    >>> H.shape                            # P = 2*3 + 3 + 3*1 + 1
    (13, 13)
    >>> bool(np.allclose(H.dense()[:6, :6], net.hessian(X, Zt, layer=1).dense()))
    True
    """

    network: Any
    forward: Forward
    adjoints: Adjoints
    part: str = "hessian"

    # -- layout --------------------------------------------------------------------------
    @property
    def xp(self) -> Any:
        return self.network.xp

    @cached_property
    def layout(self) -> list[tuple[int, str, tuple[int, ...], int]]:
        """(level, kind, shape, offset) of every parameter array in theta."""
        entries, offset = [], 0
        for k, kind, shape in self.network.parameter_layout():
            entries.append((k, kind, shape, offset))
            offset += math.prod(shape)
        return entries

    @property
    def size(self) -> int:
        """P, the number of parameters."""
        k, kind, shape, offset = self.layout[-1]
        return offset + math.prod(shape)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.size, self.size)

    @property
    def recurrent(self) -> bool:
        return "U" in self.network.parameter_kinds

    @property
    def residual(self) -> bool:
        """Whether the terms with first-order adjoints are kept (False: Gauss-Newton)."""
        return self.part == "hessian"

    def gauss_newton(self) -> WholeHessian:
        """The Gauss-Newton part J^T (d^2E/dz dz) J (+ lam I on W and U) as the same kind of
        object; positive semidefinite for both losses."""
        return WholeHessian(self.network, self.forward, self.adjoints, part="gauss_newton")

    # -- products ------------------------------------------------------------------------
    def matvec(self, v: Any) -> Any:
        """H @ v without forming H: one second-order sweep (see the module docstring).

        ``v`` is (P,), or (P, D) for D vectors at once; the result has the same shape."""
        xp = self.xp
        P = self.size
        v = as_float_array(v, "v", xp, self.network.weights[0])
        if v.ndim == 1:
            require_shape(v, "v", (P,), "a vector in parameter_vector() order")
            return xp.reshape(self._product(xp.reshape(v, (P, 1))), (P,))
        require_shape(v, "v", (P, None), "columns in parameter_vector() order")
        return self._product(v)

    def _product(self, columns: Any) -> Any:
        xp = self.xp
        directions = {}
        for k, kind, shape, offset in self.layout:
            piece = xp.matrix_transpose(columns[offset : offset + math.prod(shape), :])
            directions.setdefault(k, {})[kind] = xp.reshape(piece, (columns.shape[1],) + shape)
        tangents = self._tangents(directions, {k: self.network.parameter_kinds for k in directions})
        pieces = []
        for k, kind, shape, _ in self.layout:
            tangent = xp.reshape(tangents[k][kind], (columns.shape[1], math.prod(shape)))
            pieces.append(xp.matrix_transpose(tangent))
        return xp.concat(pieces, axis=0) + self._decay[:, None] * columns

    @cached_property
    def _decay(self) -> Any:
        """lam at the entries of W^(k) and U^(k), 0 at those of b^(k): weight decay's lam I."""
        xp = self.xp
        like = self.network.weights[0]
        lam = self.network.weight_decay
        return xp.concat(
            [
                xp.full((math.prod(shape),), lam if kind != "b" else 0.0, dtype=like.dtype,
                        device=device_of(like))
                for _, kind, shape, _ in self.layout
            ]
        )

    @cached_property
    def _local(self) -> list[tuple[Any, Any]]:
        """f'(y^(k)) and a^(k) o f''(y^(k)) of every level, computed once for every product
        (:func:`level_derivatives`)."""
        return level_derivatives(self.network, self.forward, self.adjoints, self.residual)

    def _tangents(self, directions: dict, outputs: dict) -> dict:
        if self.recurrent:
            net = self.network
            return parameter_tangents(
                net.weights, net.recurrent, net.level_activations(), self.forward,
                self.adjoints, directions, outputs, residual=self.residual, local=self._local,
            )
        return fnn_parameter_tangents(
            self.network, self.forward, self.adjoints, directions, self.residual, self._local
        )

    def _chunks(self, count: int) -> list[range]:
        Y = self.forward.pre_activations[0]
        per_direction = math.prod(Y.shape[:-1]) * max(self.network.layer_sizes)
        step = max(1, MAX_TANGENT_ENTRIES // max(1, per_direction))
        return [range(start, min(count, start + step)) for start in range(0, count, step)]

    # -- matrices and spectra ------------------------------------------------------------------
    def dense(self) -> Any:
        """The P x P matrix, column by column from :meth:`matvec` (chunked), symmetrized."""
        xp = self.xp
        P = self.size
        like = self.network.weights[0]
        eye = xp.eye(P, dtype=like.dtype, device=device_of(like))
        columns = [self._product(eye[:, chunk.start : chunk.stop]) for chunk in self._chunks(P)]
        dense = xp.concat(columns, axis=1)
        return 0.5 * (dense + xp.matrix_transpose(dense))

    def eigvalsh(self) -> Any:
        """All P eigenvalues, ascending, from :meth:`dense`; P must be at most
        :data:`DENSE_LIMIT` (above it, :meth:`top_eigenvalues`)."""
        if self.size > DENSE_LIMIT:
            raise ValueError(
                f"eigvalsh() forms the dense P x P matrix, for P <= DENSE_LIMIT = {DENSE_LIMIT}; "
                f"this network has P = {self.size} parameters: use top_eigenvalues(n)"
            )
        return self.xp.linalg.eigvalsh(self.dense())

    def top_eigenvalues(
        self,
        n: int = 1,
        tol: float | None = None,
        maxiter: int | None = None,
        start: Any = "gradient",
    ) -> Any:
        """The ``n`` largest (algebraic) eigenvalues, ascending (the last is the largest: the
        sharpness), by Lanczos with full reorthogonalization on :meth:`matvec`
        (:func:`hessian_core.lanczos.lanczos`).

        Accuracy: a Ritz value is accepted when its residual ||H q - theta q|| is at most
        ``tol`` times the largest |Ritz value|, so each returned value lies within
        ``tol * ||H||`` of an eigenvalue of H (a bound), and in practice within
        residual^2 / gap (gap: to the next eigenvalue). The default ``tol=None`` is
        :data:`SHARPNESS_TOL` = 1e-5: a relative error bound of 1e-5, where PyHessian's default
        stops at a relative change of 1e-3 between power steps, which bounds nothing (its
        error is a few 1e-3 on the networks of ``benchmarks/bench_whole_hessian.py``, ours
        about 1e-11 there, from 7 to 8 products); ``tol=1e-3`` saves one or two products
        (observed error ~1e-7), ``tol=1e-10`` gives round-off. When the Krylov space reaches
        P (small networks) the values are exact to round-off. As with any single-vector
        Lanczos method, an eigenvalue whose eigenvector the start misses, or a repeated one,
        may be reported fewer times than it occurs. ``maxiter`` caps the number of products
        (default max(300, 20 n)).

        ``start``: the first Krylov vector. ``"gradient"`` (default): the unit gradient of E
        plus :data:`START_MIX` times a unit hashed vector, so that every direction is
        present; the gradient lies mostly in the top eigenspace (Gur-Ari et al. 2018), which
        saves products (two of eight on the 2-256-256-1 network). ``"hash"``: the hashed
        vector alone; or a (P,) array."""
        n = require_int_in_range(n, "n", 1, self.size)
        tol = SHARPNESS_TOL if tol is None else tol
        like = self.network.weights[0]
        xp = self.xp
        if isinstance(start, str):
            require_choice(start, "start", ("gradient", "hash"))
            start = self._gradient_start() if start == "gradient" else None
        else:
            start = as_float_array(start, "start", xp, like)
            require_shape(start, "start", (self.size,), "a vector in parameter_vector() order")
        return lanczos(
            self.matvec, self.size, n, "LA", tol=tol, maxiter=maxiter, like=like, start=start
        )

    def _gradient_start(self) -> Any:
        """g / ||g|| + START_MIX h / ||h||: the gradient of E (from the forward pass and the
        adjoints H holds) and the hashed vector h of :func:`~hessian_core.lanczos.lanczos`;
        h alone where g vanishes."""
        xp = self.xp
        net = self.network
        pieces = []
        for k in range(1, net.n_layers + 1):
            gradient = net.gradient_from(self.forward, self.adjoints, k)
            for kind in net.parameter_kinds:
                pieces.append(xp.reshape(getattr(gradient, kind), (-1,)))
        g = xp.concat(pieces)
        h = start_vector(xp, self.size, 0, g.dtype, device_of(g))
        g_norm = float(xp.linalg.vector_norm(g))
        h = h / xp.linalg.vector_norm(h)
        if not (g_norm > 0.0 and math.isfinite(g_norm)):
            return h
        return g / g_norm + START_MIX * h

    # -- blocks ----------------------------------------------------------------------------------
    def block(self, k: int, l: int, wrt: Any = ("W", "W")) -> Any:  # noqa: E741
        """d^2E / d theta_(k, wrt[0]) d theta_(l, wrt[1]): the block between the array
        ``wrt[0]`` ("W", "U" or "b") of level ``k`` (rows) and ``wrt[1]`` of level ``l``
        (columns), each in its row-major vec; a single kind stands for both.

        Diagonal blocks (k == l, one kind) are :class:`~hessian_core.LayerHessian` objects equal
        to ``net.hessian(..., layer=k, wrt=kind)`` (for the Gauss-Newton part: its layer block);
        FNN blocks between arrays are :class:`CrossBlock` (X1)-(X4), RNN ones
        :class:`DenseBlock` (R1)-(R3). Every block has ``.shape`` and ``.dense()``."""
        L = self.network.n_layers
        k = require_int_in_range(k, "k", 1, L)
        l = require_int_in_range(l, "l", 1, L)  # noqa: E741
        kinds = self.network.parameter_kinds
        pair = (wrt, wrt) if isinstance(wrt, str) else wrt
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or any(not isinstance(kind, str) or kind not in kinds for kind in pair)
        ):
            allowed = ", ".join(repr(kind) for kind in kinds)
            raise ValueError(
                f"wrt must be a pair (rows, columns) of {allowed} (or one of them for both), "
                f"got {wrt!r}"
            )
        rows, columns = (k, pair[0]), (l, pair[1])
        upper = (k, kinds.index(pair[0])) < (l, kinds.index(pair[1]))
        if self.recurrent:
            if not self.residual:
                return self._swept_block(rows, columns)
            if rows == columns:
                return self.network.hessian_from(
                    self.forward, self.adjoints, k, wrt=pair[0], formula="exact"
                )
            if upper:
                matrix = self._recurrent_cross_block(columns, rows)
                return DenseBlock(self.xp.matrix_transpose(matrix), rows, columns)
            return DenseBlock(self._recurrent_cross_block(rows, columns), rows, columns)
        if rows == columns:
            return self._layer_block(k, pair[0])
        if upper:
            lower = self._cross_block(columns, rows)
            return CrossBlock(
                lower.coupling, lower.row_inputs, lower.column_inputs, lower.adjoint,
                lower.tangent, rows, columns, transposed=True,
            )
        return self._cross_block(rows, columns)

    @cached_property
    def _curvatures(self) -> list[Any]:
        """M^(k) (or M_GN^(k)) of every level, (r, m_k, m_k): entry k-1 is level k."""
        net = self.network
        return all_preactivation_matrices(
            net.weights,
            net.level_activations(),
            self.forward.pre_activations,
            self.adjoints.output_gradient,
            self.adjoints.output_hessian,
            curvature="exact" if self.residual else "none",
        )

    def _inputs(self, k: int, kind: str) -> Any:
        """z^(k-1) (r, n) for W, ones (r, 1) for b."""
        z = self.forward.activations[k - 1]
        if kind == "W":
            return z
        return self.xp.ones((z.shape[0], 1), dtype=z.dtype, device=device_of(z))

    def _layer_block(self, k: int, kind: str) -> LayerHessian:
        return LayerHessian.from_parts(
            self._curvatures[k - 1],
            self._inputs(k, kind),
            k,
            kind,
            "exact" if self.residual else "gauss_newton",
            weight_decay=self.network.weight_decay,
        )

    def _recurrent_cross_block(self, rows: tuple[int, str], columns: tuple[int, str]) -> Any:
        """(R1)-(R3) with rows at level j and columns at level k <= j, a dense matrix."""
        net = self.network
        return cross_block(
            net.weights, net.recurrent, net.level_activations(), self.forward, self.adjoints,
            rows, columns,
        )

    def _cross_block(self, rows: tuple[int, str], columns: tuple[int, str]) -> CrossBlock:
        """(X1)-(X4) with rows at level j and columns at level k <= j (not both the same)."""
        xp = self.xp
        (j, row_kind), (k, column_kind) = rows, columns
        Ys = self.forward.pre_activations
        net = self.network
        fp = {i: net.activation_of(i).df(xp, Ys[i - 1]) for i in range(k, j)}
        jacobian = None  # J^(i,k) for i = k..j, (r, m_i, m_k); None stands for I
        tangent = None
        for i in range(k + 1, j + 1):
            # K^(i,k) = F'^(i-1) J^(i-1,k), J^(i,k) = W^(i) K^(i,k)
            if jacobian is None:
                tangent = fp[k][:, :, None] * xp.eye(
                    Ys[k - 1].shape[1], dtype=Ys[k - 1].dtype, device=device_of(Ys[k - 1])
                )
            else:
                tangent = fp[i - 1][:, :, None] * jacobian
            jacobian = net.weights[i - 1] @ tangent
        M = self._curvatures[j - 1]
        coupling = M if jacobian is None else M @ jacobian
        adjoint = None
        if self.residual and row_kind == "W" and j > k:
            adjoint = self.adjoints.grad_y[j - 1]
        return CrossBlock(
            coupling=coupling,
            row_inputs=self._inputs(j, row_kind),
            column_inputs=self._inputs(k, column_kind),
            adjoint=adjoint,
            tangent=tangent if adjoint is not None else None,
            rows=rows,
            columns=columns,
        )

    def _swept_block(self, rows: tuple[int, str], columns: tuple[int, str]) -> DenseBlock:
        """A block from the sweep with unit directions in the columns' array."""
        xp = self.xp
        shapes = {(k, kind): shape for k, kind, shape, _ in self.layout}
        column_shape = shapes[columns]
        count = math.prod(column_shape)
        like = self.network.weights[0]
        eye = xp.eye(count, dtype=like.dtype, device=device_of(like))
        parts = []
        for chunk in self._chunks(count):
            units = xp.reshape(eye[chunk.start : chunk.stop, :], (len(chunk),) + column_shape)
            tangents = self._tangents({columns[0]: {columns[1]: units}}, {rows[0]: (rows[1],)})
            parts.append(xp.reshape(tangents[rows[0]][rows[1]], (len(chunk), -1)))
        matrix = xp.matrix_transpose(xp.concat(parts, axis=0))  # (rows, columns)
        if rows == columns and rows[1] != "b" and self.network.weight_decay:
            matrix = matrix + self.network.weight_decay * eye
        return DenseBlock(matrix=matrix, rows=rows, columns=columns)


def level_derivatives(
    network: Any, forward: Forward, adjoints: Adjoints, residual: bool = True
) -> list[tuple[Any, Any]]:
    """For every level k (entry k-1): ``(f'(y^(k)), a^(k) o f''(y^(k)))``, the two arrays the
    R-operator sweep multiplies by, computed once (:func:`hessian_core.activations.derivatives`,
    one tanh per level). ``None`` stands for a factor the sweep skips: f' of the identity (1)
    and the second where it vanishes (f'' = 0: ReLU, the identity) or is dropped
    (``residual=False``, the Gauss-Newton part)."""
    xp = network.xp
    pairs = []
    for k in range(1, network.n_layers + 1):
        activation = network.activation_of(k)
        if activation.is_identity:
            pairs.append((None, None))
            continue
        Y = forward.pre_activations[k - 1]
        if residual and not activation.piecewise_linear:
            first, second = derivatives(activation, xp, Y, forward.activations[k])
            pairs.append((first, adjoints.grad_z[k - 1] * second))
        else:
            pairs.append((first_derivative(activation, xp, Y, forward.activations[k]), None))
    return pairs


def fnn_parameter_tangents(
    network: Any,
    forward: Forward,
    adjoints: Adjoints,
    directions: dict[int, dict[str, Any]],
    residual: bool = True,
    local: list[tuple[Any, Any]] | None = None,
) -> dict[int, dict[str, Any]]:
    """The R-operator sweep of an FNN (module docstring) along D directions at once.

    ``directions[k]`` holds "W" (D, m, n) and/or "b" (D, m) of level k (levels missing hold
    zero). Returns, for every level k, "W" (D, m, n) and "b" (D, m): the tangents of G_W^(k)
    and G_b^(k), weight decay's lam dW not included. ``residual=False`` drops the terms with
    a first-order adjoint: the Gauss-Newton product J^T Q^(l) J d. ``local`` is
    :func:`level_derivatives` for the same ``residual`` (computed here when not given).
    Every product is one batched ``matmul`` over the D directions, (D, r, m) in the samples'
    rows. Sums go in place into arrays made here (a matmul's or a product's result, never a
    direction or a cached factor): the same bits, a third fewer fresh arrays.
    """
    xp = network.xp
    l = network.n_layers
    Ys, Zs = forward.pre_activations, forward.activations
    weights = network.weights
    if local is None:
        local = level_derivatives(network, forward, adjoints, residual)
    first = min(directions)
    ydots, zdots = {}, {}
    for k in range(first, l + 1):
        given = directions.get(k, {})
        ydot = None
        if k > first:
            ydot = zdots[k - 1] @ xp.matrix_transpose(weights[k - 1])  # (D, r, m)
        if "W" in given:  # dW^(k) z^(k-1): (r, n) @ (D, n, m)
            term = Zs[k - 1] @ xp.matrix_transpose(given["W"])
            if ydot is None:
                ydot = term
            else:
                ydot += term
        if "b" in given:
            term = given["b"][:, None, :]
            if ydot is None:  # a view of the direction: never written to
                ydot = term
            else:
                ydot += term
        if ydot.shape[1] != Ys[k - 1].shape[0]:  # only db at the lowest level: (D, 1, m)
            ydot = xp.broadcast_to(ydot, (ydot.shape[0],) + tuple(Ys[k - 1].shape))
        slope = local[k - 1][0]
        ydots[k] = ydot
        zdots[k] = ydot if slope is None else ydot * slope

    Q = adjoints.output_hessian  # (r, M, M), the 1/r included
    adot = xp.sum(Q * zdots[l][..., None, :], axis=-1)  # (D, r, M)
    result = {}
    for k in range(l, 0, -1):
        slope, weighted_second = local[k - 1]
        vdot = adot if slope is None else adot * slope
        if residual and weighted_second is not None and k in ydots:  # a o f''(y) o ydot
            vdot += weighted_second * ydots[k]
        v = adjoints.grad_y[k - 1]
        G_W = xp.matrix_transpose(vdot) @ Zs[k - 1]  # (D, m, r) @ (r, n)
        if residual and k - 1 in zdots:  # v^(k) zdot^(k-1)T: (m, r) @ (D, r, n)
            G_W += xp.matrix_transpose(v) @ zdots[k - 1]
        result[k] = {"W": G_W, "b": xp.sum(vdot, axis=1)}
        if k > 1:
            adot = vdot @ weights[k - 1]
            dW = directions.get(k, {}).get("W")
            if residual and dW is not None:  # dW^(k)T v^(k): (r, m) @ (D, m, n)
                adot += v @ dW
    return result
