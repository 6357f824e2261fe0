"""Feedforward networks: forward, back-propagation and the exact layer Hessian.

Forward propagation, eq. (10)-(11), for samples in rows (X is r x N):

    Y^(k) = Z^(k-1) W^(k)T + b^(k),    Z^(k) = f(Y^(k)),    Z^(0) = X.

Loss (eq. 3 and 12, scaled, averaged over the batch): E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2,
or with ``loss="cross_entropy"`` the softmax cross-entropy, plus lam/2 sum_k ||W^(k)||^2 with
``weight_decay=lam`` (:mod:`hessian_core.losses`). Below, I/r (the squared loss's Hessian with
respect to z^(l)) becomes that loss's Hessian, (diag(p) - p p^T)/r per sample for
cross-entropy; weight decay adds lam W^(k) to G_W (so G_W = V Z^T + lam W^(k)) and lam I to H_W.

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
(Corollary 2). Both forms are one recursion with the seed and D as switches
(:mod:`hessian_core.recursion`); ``formula="paper"`` switches both to the printed form.

Public forward/adjoint API (docs/contract.md), for callers that need the intermediate
quantities: ``forward = net.forward(X)`` (validates X once), ``adjoints =
net.adjoints(forward, Z_target)`` (validates Z_target against it; a^(k) = dE/dz^(k) and
v^(k) = dE/dy^(k) of every level), then ``net.gradient_from(forward, adjoints, layer)``,
``net.preactivation_hessians(forward, adjoints, layer)`` (M^(k) of every sample) and
``net.hessian_from(forward, adjoints, layer)`` without validating or recomputing anything.
For training loops: ``net.loss_from(forward, Z_target)`` (the loss of an existing forward
pass), ``net.loss_and_gradients(X, Z_target, topk=None)`` (loss and gradients from one forward
pass, equal bit for bit to ``net.loss`` and ``net.gradients``) and
``net.with_parameters(weights, biases)`` (the same network with new arrays, checking only their
shapes, dtype, library and finiteness).

The whole Hessian, every level at once with the blocks between levels, is
``net.whole_hessian(X, Z_target)`` (:mod:`hessian_core.whole`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .activations import first_derivative
from .backend import device_of, require_choice, require_shape, transpose
from .kron import LayerHessian
from .losses import loss_gradient, loss_hessian, sample_losses
from .network import Network, check_layer_sizes, convert_like, glorot_parameters
from .recursion import preactivation_matrices
from .results import Adjoints, Forward, Gradient
from .sparse import keep_top, topk_count
from .torch_bridge import sequential_layers
from .whole import WholeHessian

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
        loss: str = "mse",
        weight_decay: float = 0.0,
    ) -> FNN:
        """A network with seeded Glorot-uniform weights; ``layer_sizes = (N, m_1, ..., m_l)``.

        Arrays are NumPy float64 unless ``like`` (an array) gives another namespace/dtype.
        """
        sizes = check_layer_sizes(layer_sizes)
        shapes = [(sizes[k + 1], sizes[k]) for k in range(len(sizes) - 1)]
        weights, biases = glorot_parameters(shapes, seed)
        weights, biases = convert_like(weights, like), convert_like(biases, like)
        return cls(
            weights,
            biases,
            activation=activation,
            output_activation=output_activation,
            loss=loss,
            weight_decay=weight_decay,
        )

    @classmethod
    def from_torch(cls, model: Any, loss: str = "mse", weight_decay: float = 0.0) -> FNN:
        """The FNN of a ``torch.nn.Sequential`` of ``Linear`` layers and element-wise
        activations (:mod:`hessian_core.torch_bridge`: which modules, bias-free layers, what
        is refused). Its arrays are copies of the model's parameters, as torch tensors of the
        model's dtype and device; every result comes back as such tensors.

        >>> import torch
        >>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
        ...                             torch.nn.Linear(4, 2)).double()
        >>> net = FNN.from_torch(model)
        >>> net.layer_sizes, net.activation, net.output_activation
        ((3, 4, 2), 'tanh', 'identity')
        >>> X = torch.ones(5, 3, dtype=torch.float64)
        >>> net.whole_hessian(X, model(X).detach()).dense().shape
        torch.Size([26, 26])
        """
        layers = sequential_layers(model)
        return cls(
            layers.weights,
            layers.biases,
            activation=layers.activation,
            output_activation=layers.output_activation,
            loss=loss,
            weight_decay=weight_decay,
        )

    # -- inputs --------------------------------------------------------------------------
    def _inputs(self, X: Any) -> Any:
        """X as a validated (r, N) batch; a single sample (N,) becomes r = 1."""
        X = self._as_input(X, "X")
        N = self.layer_sizes[0]
        if X.ndim == 1:
            require_shape(X, "X", (N,), "one sample of N inputs")
            return self.xp.reshape(X, (1, N))
        require_shape(X, "X", (None, N), f"r samples in rows, N = {N} inputs")
        return X

    def _targets(self, Z_target: Any, r: int) -> Any:
        """Z_target as a validated (r, M) batch matching r samples."""
        Z_target = self._as_input(Z_target, "Z_target")
        M = self.layer_sizes[-1]
        if Z_target.ndim == 1 and r == 1:
            require_shape(Z_target, "Z_target", (M,), "the target of the one sample in X")
            Z_target = self.xp.reshape(Z_target, (1, M))
            self._check_targets(Z_target)
            return Z_target
        require_shape(Z_target, "Z_target", (r, M), "one row of M targets per row of X")
        self._check_targets(Z_target)
        return Z_target

    # -- forward and loss ---------------------------------------------------------------
    def forward(self, X: Any) -> Forward:
        """Forward propagation, eq. (10)-(11); a single sample X (N,) is treated as r = 1."""
        return self._forward(self._inputs(X))

    def _forward(self, X: Any) -> Forward:
        xp = self.xp
        pre, post = [], [X]
        for k, (W, b) in enumerate(zip(self.weights, self.biases, strict=True), start=1):
            Y = post[-1] @ transpose(W) + b
            pre.append(Y)
            post.append(self.activation_of(k).f(xp, Y))
        return Forward(pre, post)

    def loss(self, X: Any, Z_target: Any) -> float:
        """E = 1/r sum_p l(z_p^(l)) (+ lam/2 sum_k ||W^(k)||^2): 1/(2r) sum_p ||z*_p - z_p||^2
        for "mse", the softmax cross-entropy for "cross_entropy" (:mod:`hessian_core.losses`)."""
        return self.loss_from(self.forward(X), Z_target)

    def loss_from(self, forward: Forward, Z_target: Any) -> float:
        """:meth:`loss` of the batch that ``forward`` (from :meth:`forward`) was run on;
        ``Z_target`` is checked against it."""
        Z_target = self._targets(Z_target, forward.output.shape[0])
        return self._loss_of(forward, Z_target)

    def _loss_of(self, forward: Forward, Z_target: Any) -> float:
        values = sample_losses(forward.output, Z_target, self.loss_name, self.xp)
        return float(self.xp.sum(values)) / Z_target.shape[0] + self._decay_penalty(self.weights)

    def with_parameters(
        self, weights: Sequence[Any], biases: Sequence[Any], *, check: bool = True
    ) -> FNN:
        """A network of the same shapes and options (activations, loss, weight decay) with
        new ``weights`` and ``biases``; only what can differ is checked (shapes, dtype,
        library, finiteness). The arrays are held, not copied. ``check=False`` checks nothing:
        for a training loop whose arrays come from this network's own by element-wise steps
        (same shapes, dtype, library) and were found finite."""
        return self._replaced({"weights": weights, "biases": biases}, validate=check)

    # -- adjoints and gradients -------------------------------------------------------------
    def adjoints(self, forward: Forward, Z_target: Any, topk: Any = None) -> Adjoints:
        """Back-propagation (Lemma 1): a^(k) = dE/dz^(k) and v^(k) = dE/dy^(k) of every level.

        ``forward`` comes from :meth:`forward`; ``Z_target`` (r, M) is checked against it.
        ``topk`` (a count, or a fraction in (0, 1)) keeps only that many largest entries of
        each back-propagated v^(k) per sample (meProp, :mod:`hessian_core.sparse`).
        """
        Z_target = self._targets(Z_target, forward.output.shape[0])
        return self._adjoints(forward, Z_target, topk)

    def _adjoints(
        self, forward: Forward, Z_target: Any, topk: Any = None, curvature: bool = True
    ) -> Adjoints:
        """``curvature=False`` leaves out the seed Q^(l) (``output_hessian`` is None): only the
        Hessians read it."""
        xp = self.xp
        r = Z_target.shape[0]
        a = loss_gradient(forward.output, Z_target, self.loss_name, xp) / r  # a^(l) = dE/dz^(l)
        seed = None  # Q^(l)
        if curvature:
            seed = loss_hessian(forward.output, Z_target, self.loss_name) / r
        grad_z, grad_y = [None] * self.n_layers, [None] * self.n_layers
        output_gradient = a
        for k in range(self.n_layers, 0, -1):
            act = self.activation_of(k)
            if act.is_identity:
                v = a
            else:  # f'(y^(k)), from z^(k) where it can
                Y, Z = forward.pre_activations[k - 1], forward.activations[k]
                v = a * first_derivative(act, xp, Y, Z)
            v = keep_top(v, topk_count(topk, v.shape[1]))
            grad_z[k - 1], grad_y[k - 1] = a, v
            if k > 1:  # a^(0) = dE/dx is of no use
                a = v @ self.weights[k - 1]
        return Adjoints(
            grad_z=grad_z, grad_y=grad_y, output_gradient=output_gradient, output_hessian=seed
        )

    def gradient_from(self, forward: Forward, adjoints: Adjoints, layer: int) -> Gradient:
        """dE/dW^(k), dE/db^(k) of level ``layer`` with the factors V = v^(k)T, Z = z^(k-1)T."""
        return self._gradient_of(forward, adjoints, self._check_layer(layer))

    def _gradient_of(self, forward: Forward, adjoints: Adjoints, layer: int) -> Gradient:
        xp = self.xp
        v = adjoints.grad_y[layer - 1]
        V, Z = transpose(v), transpose(forward.activations[layer - 1])
        G = V @ transpose(Z)
        if self.weight_decay:
            G = G + self.weight_decay * self.weights[layer - 1]
        return Gradient(W=G, b=xp.sum(v, axis=0), layer=layer, V=V, Z=Z)

    def gradients(self, X: Any, Z_target: Any, topk: Any = None) -> list[Gradient]:
        """Gradients of every level from one backward pass (index k-1 is level k).

        ``topk`` as in :meth:`adjoints` (meProp).
        """
        forward = self.forward(X)
        adjoints = self.adjoints(forward, Z_target, topk)
        return [self.gradient_from(forward, adjoints, k) for k in range(1, self.n_layers + 1)]

    def loss_and_gradients(
        self, X: Any, Z_target: Any, topk: Any = None
    ) -> tuple[float, list[Gradient]]:
        """``(loss(X, Z_target), gradients(X, Z_target, topk))`` from one forward pass."""
        forward = self.forward(X)
        Z_target = self._targets(Z_target, forward.output.shape[0])
        adjoints = self._adjoints(forward, Z_target, topk, curvature=False)
        gradients = [self._gradient_of(forward, adjoints, k) for k in range(1, self.n_layers + 1)]
        return self._loss_of(forward, Z_target), gradients

    def gradient(self, X: Any, Z_target: Any, layer: int, topk: Any = None) -> Gradient:
        """dE/dW^(k) and dE/db^(k) with the factors V (m, r), Z (n, r) of Corollary 1."""
        layer = self._check_layer(layer)
        return self.gradients(X, Z_target, topk=topk)[layer - 1]

    # -- Hessian ---------------------------------------------------------------------------
    def preactivation_hessians(
        self,
        forward: Forward,
        adjoints: Adjoints,
        layer: int,
        seed: str = "exact",
        curvature: str = "exact",
    ) -> Any:
        """M^(k) (or the paper's A^(k)) of every sample, (r, m, m): the recursion of
        :mod:`hessian_core.recursion` with its two switches (``"exact"`` or ``"paper"``)."""
        layer = self._check_layer(layer)
        return preactivation_matrices(
            self.weights,
            self.level_activations(),
            forward.pre_activations,
            adjoints.output_gradient,
            adjoints.output_hessian,
            layer,
            seed=seed,
            curvature=curvature,
        )

    def _layer_blocks(self, forward: Forward, adjoints: Adjoints, layer: int, formula: str) -> Any:
        """M^(k) (r, m, m) of every sample, both switches set to ``formula``."""
        return self.preactivation_hessians(forward, adjoints, layer, formula, formula)

    def kronecker_inputs(self, forward: Forward, layer: int, wrt: str) -> Any:
        """The Kronecker input vectors (r, 1, n) of the Hessian with respect to ``wrt`` of
        level ``layer``, one term per sample (T = 1): z^(k-1) for "W", the scalar 1 for "b"."""
        z = forward.activations[layer - 1]
        r = z.shape[0]
        if wrt == "W":
            return self.xp.reshape(z, (r, 1, z.shape[1]))
        return self.xp.ones((r, 1, 1), dtype=z.dtype, device=device_of(z))

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
        forward = self.forward(X)
        adjoints = self.adjoints(forward, Z_target)
        return self.hessian_from(forward, adjoints, layer, formula=formula, wrt=wrt)

    def whole_hessian(self, X: Any, Z_target: Any) -> WholeHessian:
        """Hessian of E with respect to every parameter, in :meth:`parameter_vector` order
        (:mod:`hessian_core.whole`): products, blocks between levels, spectra, Gauss-Newton."""
        forward = self.forward(X)
        return WholeHessian(self, forward, self.adjoints(forward, Z_target))
