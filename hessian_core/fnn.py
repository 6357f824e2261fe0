"""Feedforward networks: forward, back-propagation and the exact layer Hessian.

Forward propagation, eq. (10)-(11), for samples in rows (X is r x N):

    Y^(k) = Z^(k-1) W^(k)T + b^(k),    Z^(k) = f(Y^(k)),    Z^(0) = X.

Loss (eq. 3 and 12, scaled, averaged over the batch): E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2.

Back-propagation (Lemma 1, Corollary 1). With a^(k) = dE/dz^(k) and v^(k) = dE/dy^(k):

    a^(l) = (z^(l) - z*) / r,   v^(k) = a^(k) o f'(y^(k)),   a^(k-1) = W^(k)T v^(k),

so G_W^(k) = sum_p v_p^(k) z_p^(k-1)T = V Z^T, a rank-r product (rank 1 per sample, eq. 16).

Exact Hessian (corrected Theorem 1). Let M^(k) = d^2E / dy^(k) dy^(k) be the Hessian of
E with respect to an additive perturbation of the pre-activation y^(k) of one sample and
Q^(k) = d^2E / dz^(k) dz^(k). Then, for every activation,

    Q^(l) = I / r,
    M^(k) = diag(f'(y^(k))) Q^(k) diag(f'(y^(k))) + diag(a^(k) o f''(y^(k)))
          = Q^(k) o F^(k) + D^(k)                       with F^(k) = f' f'^T   (eq. 30)
    Q^(k-1) = W^(k)T M^(k) W^(k)                                               (eq. 33)

and, because y^(k) = W^(k) z^(k-1) + b^(k) is linear in W^(k) with z^(k-1) independent of it,

    H_W^(k) = sum_p M_p^(k) kron (z_p^(k-1) z_p^(k-1)T),    H_b^(k) = sum_p M_p^(k).

This is eq. (28)-(29) with two corrections (docs/errata.md): the seed is Q^(l) = I, not
I o F^(l) (eq. 32), and D^(k) uses the first-order a^(k) = dE/dz^(k), not the vector of
f''-products of eq. (34)-(35). For ReLU f'' = 0 and f' is 0/1, and the two coincide
(Corollary 2). ``formula="paper"`` evaluates the paper literally (:mod:`hessian_core.paper`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import device_of, diagonal_matrices, require_choice, require_shape
from .kron import LayerHessian
from .network import Network, check_layer_sizes, convert_like, glorot_parameters
from .results import Forward, Gradient
from .sparse import keep_top, topk_count

__all__ = ["FNN"]


class FNN(Network):
    """A feedforward network with weights W^(k) (m, n) and biases b^(k) (m,), k = 1..l.

    >>> import numpy as np
    >>> net = FNN.random((3, 4, 2), activation="tanh", seed=0)
    >>> X, Zt = np.ones((5, 3)), np.zeros((5, 2))
    >>> h = net.hessian(X, Zt, layer=1)
    >>> h.shape
    (12, 12)
    >>> bool(np.allclose(h.eigvalsh(), np.linalg.eigvalsh(h.dense())))
    True
    """

    @classmethod
    def random(
        cls,
        layer_sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        seed: int = 0,
        like: Any = None,
    ) -> FNN:
        """A network with seeded Glorot-uniform weights; ``layer_sizes = (N, m_1, ..., m_l)``.

        Arrays are NumPy float64 unless ``like`` (an array) gives another namespace/dtype.
        """
        sizes = check_layer_sizes(layer_sizes)
        shapes = [(sizes[k + 1], sizes[k]) for k in range(len(sizes) - 1)]
        weights, biases = glorot_parameters(shapes, seed)
        weights, biases = convert_like(weights, like), convert_like(biases, like)
        return cls(weights, biases, activation=activation, output_activation=output_activation)

    # -- inputs --------------------------------------------------------------------------
    def _batch(self, X: Any, Z_target: Any | None = None) -> tuple[Any, Any]:
        xp = self.xp
        X = self._as_input(X, "X")
        N, M = self.layer_sizes[0], self.layer_sizes[-1]
        single = X.ndim == 1
        if single:
            require_shape(X, "X", (N,), "one sample of N inputs")
            X = xp.reshape(X, (1, N))
        else:
            require_shape(X, "X", (None, N), f"r samples in rows, N = {N} inputs")
        if Z_target is None:
            return X, None
        Z_target = self._as_input(Z_target, "Z_target")
        if single:
            require_shape(Z_target, "Z_target", (M,), "the target of the one sample in X")
            Z_target = xp.reshape(Z_target, (1, M))
        else:
            require_shape(
                Z_target, "Z_target", (X.shape[0], M), "one row of M targets per row of X"
            )
        return X, Z_target

    # -- forward and loss ---------------------------------------------------------------
    def forward(self, X: Any) -> Forward:
        """Forward propagation, eq. (10)-(11); a single sample X (N,) is treated as r = 1."""
        X, _ = self._batch(X)
        return self._forward(X)

    def _forward(self, X: Any) -> Forward:
        xp = self.xp
        pre, post = [], [X]
        for k, (W, b) in enumerate(zip(self.weights, self.biases, strict=True), start=1):
            Y = post[-1] @ xp.matrix_transpose(W) + b
            pre.append(Y)
            post.append(self.activation_of(k).f(xp, Y))
        return Forward(pre, post)

    def loss(self, X: Any, Z_target: Any) -> float:
        """E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2."""
        X, Z_target = self._batch(X, Z_target)
        residual = self._forward(X).output - Z_target
        return float(self.xp.sum(residual * residual)) / (2 * X.shape[0])

    # -- gradients ------------------------------------------------------------------------
    def gradients(self, X: Any, Z_target: Any, topk: Any = None) -> list[Gradient]:
        """Gradients of every level from one backward pass (index k-1 is level k).

        ``topk`` (a count, or a fraction in (0, 1)) keeps only that many largest entries of
        each back-propagated v^(k) per sample (meProp, :mod:`hessian_core.sparse`).
        """
        X, Z_target = self._batch(X, Z_target)
        forward = self._forward(X)
        return self._backward(forward, Z_target, topk)

    def gradient(self, X: Any, Z_target: Any, layer: int, topk: Any = None) -> Gradient:
        """dE/dW^(k) and dE/db^(k) with the factors V (m, r), Z (n, r) of Corollary 1."""
        layer = self._check_layer(layer)
        return self.gradients(X, Z_target, topk=topk)[layer - 1]

    def _backward(self, forward: Forward, Z_target: Any, topk: Any = None) -> list[Gradient]:
        xp = self.xp
        r = Z_target.shape[0]
        a = (forward.output - Z_target) / r  # a^(l) = dE/dz^(l)
        result: list[Gradient] = []
        for k in range(self.n_layers, 0, -1):
            v = a * self.activation_of(k).df(xp, forward.pre_activations[k - 1])  # (r, m)
            v = keep_top(v, topk_count(topk, v.shape[1]))
            V, Z = xp.matrix_transpose(v), xp.matrix_transpose(forward.activations[k - 1])
            result.append(
                Gradient(W=V @ xp.matrix_transpose(Z), b=xp.sum(v, axis=0), layer=k, V=V, Z=Z)
            )
            a = v @ self.weights[k - 1]
        return result[::-1]

    # -- Hessian ---------------------------------------------------------------------------
    def hessian(
        self, X: Any, Z_target: Any, layer: int, formula: str = "exact", wrt: str = "W"
    ) -> LayerHessian:
        """Hessian of E with respect to vec(W^(k)) (row-major) or b^(k) of level ``layer``.

        ``formula="exact"`` is the true Hessian for every activation; ``formula="paper"``
        is Theorem 1 (eq. 28-35) as printed, equal to the exact one for ReLU.
        """
        layer = self._check_layer(layer)
        self._check_formula(formula)
        require_choice(wrt, "wrt", ("W", "b"))
        X, Z_target = self._batch(X, Z_target)
        forward = self._forward(X)
        if formula == "exact":
            M = self._exact_preactivation_hessians(forward, Z_target, layer)
        else:
            from .paper import fnn_paper_matrices

            M = fnn_paper_matrices(self, forward, Z_target, layer)
        xp = self.xp
        r, m = M.shape[0], M.shape[1]
        blocks = xp.reshape(M, (r, 1, m, 1, m))
        if wrt == "W":
            inputs = forward.activations[layer - 1]
            inputs = xp.reshape(inputs, (r, 1, inputs.shape[1]))
        else:
            inputs = xp.ones((r, 1, 1), dtype=M.dtype, device=device_of(M))
        return LayerHessian(blocks=blocks, inputs=inputs, layer=layer, wrt=wrt, formula=formula)

    def _exact_preactivation_hessians(self, forward: Forward, Z_target: Any, layer: int) -> Any:
        """M_p^(k) for every sample p: array (r, m, m) (see module docstring)."""
        xp = self.xp
        r, M_out = Z_target.shape
        a = (forward.output - Z_target) / r
        eye = xp.eye(M_out, dtype=a.dtype, device=device_of(a))
        Q = xp.broadcast_to(eye / r, (r, M_out, M_out))
        for k in range(self.n_layers, layer - 1, -1):
            act, Y = self.activation_of(k), forward.pre_activations[k - 1]
            fp, fpp = act.df(xp, Y), act.d2f(xp, Y)
            M = fp[:, :, None] * Q * fp[:, None, :] + diagonal_matrices(a * fpp)
            if k == layer:
                return M
            W = self.weights[k - 1]
            a = (a * fp) @ W
            Q = xp.matrix_transpose(W) @ M @ W
        raise AssertionError("unreachable: layer was validated")
