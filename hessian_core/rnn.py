"""Recurrent networks: forward, BPTT, and the exact per-layer Hessians.

Forward propagation, eq. (47)-(48), for samples in rows (X is r x tau x N):

    y^(k,s) = W^(k) z^(k-1,s) + U^(k) z^(k,s-1) + b^(k),   z^(k,s) = f(y^(k,s)),
    z^(k,0) = 0,  z^(0,s) = x^(s),   k = 1..l,  s = 1..tau.

Loss (eq. 49, scaled, averaged over the batch): for one output time t,
E^(t) = 1/(2r) sum_p ||z*_p,t - z_p^(l,t)||^2; for ``t=None``, E = sum_{t=a..tau} E^(t).
``loss="cross_entropy"`` replaces the squared loss of each output time by the softmax
cross-entropy, and ``weight_decay=lam`` adds lam/2 sum_k (||W^(k)||^2 + ||U^(k)||^2) once
(:mod:`hessian_core.losses`): the output term w_s I / r of the curvature recursion becomes
w_s / r times that loss's Hessian, G_W and G_U gain lam W^(k) and lam U^(k) (outside the
factors V, Z), H_W and H_U gain lam I.

BPTT (Lemma 2, Corollary 3). With the adjoints g_z^(j,s) = dE/dz^(j,s) and
g_y^(j,s) = dE/dy^(j,s) = g_z^(j,s) o f'(y^(j,s)), accumulated from the level above and
from the next time step (eq. 67-68),

    G_W^(k) = sum_p sum_{s<=t} g_y^(k,s) z^(k-1,s)T,
    G_U^(k) = sum_p sum_{s<=t} g_y^(k,s) z^(k,s-1)T,

a sum of r*t outer products: the factors V = [g_y^(k,s)], Z = [z^(k-1,s)] of Corollary 3.
For the top level g_y^(l,s) is the paper's v~^(l,t,s) of eq. (58); below it, g_y also
collects the paths that climb to the upper level early and travel in time there.

Exact Hessians. Let M_{s,zeta} = d^2E / dy^(k,s) dy^(k,zeta) (the Hessian with respect to
additive perturbations of the level-k pre-activations). Because y^(k,s) is linear in W^(k)
and b^(k) with inputs z^(k-1,s) that do not depend on them, for every activation

    H_W^(k) = sum_p sum_{s,zeta} M_{s,zeta} kron z^(k-1,s) z^(k-1,zeta)T,
    H_b^(k) = sum_p sum_{s,zeta} M_{s,zeta},

the Kronecker form of eq. (74) and (76), with M in place of the paper's C~. For U^(k) the
input z^(k,s-1) itself depends on U^(k), so H_U^(k) is the Kronecker sum with z^(k,s-1)
plus a remainder (docs/errata.md, eq. 75). M and the remainder come from recursions over
time steps (:mod:`hessian_core.rnn_curvature`); forward-over-reverse differentiation
(:mod:`hessian_core.rnn_hvp`) derives the same quantities independently for the tests.

Public forward/adjoint API (docs/contract.md): ``forward = rnn.forward(X, steps=None)``
(validates X once; ``steps=t`` stops at the output time), ``adjoints = rnn.adjoints(forward,
Z_target, t=None, outputs_from=1, topk=None, truncate=None)`` (g_z, g_y of every level and step
and the loss's seed), then ``rnn.gradient_from``, ``rnn.preactivation_hessians`` (the blocks M,
or the paper's C~), ``rnn.hessian_from`` and ``rnn.kronecker_inputs`` without validating or
recomputing anything. For training loops: ``rnn.loss_from(forward, Z_target, t=None,
outputs_from=1)``, ``rnn.loss_and_gradients(X, Z_target, ...)`` (the options of
``rnn.gradients``; loss and gradients from one forward pass, equal bit for bit to ``rnn.loss``
and ``rnn.gradients``) and ``rnn.with_parameters(weights, recurrent, biases)``.

The whole Hessian, every level's W, U and b at once with the blocks between them, is
``rnn.whole_hessian(X, Z_target, t=None, outputs_from=1)`` (:mod:`hessian_core.whole`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .activations import first_derivative
from .backend import (
    device_of,
    require_choice,
    require_finite,
    require_int_in_range,
    require_namespace,
    require_shape,
    transpose,
)
from .kron import LayerHessian
from .losses import loss_gradient, loss_hessian, sample_losses
from .network import Network, check_layer_sizes, convert_like, glorot_parameters
from .paper import rnn_paper_blocks
from .results import Adjoints, Forward, Gradient
from .rnn_curvature import preactivation_hessian_by_steps, recurrent_remainder
from .sparse import keep_top, parse_backtrack, select_steps, topk_count
from .time_steps import kronecker_inputs, shift_back, window_blocks
from .whole import WholeHessian

__all__ = ["RNN"]


class RNN(Network):
    """A recurrent network with W^(k) (m, n), feedback U^(k) (m, m) and b^(k) (m,).

    >>> import numpy as np
    >>> rnn = RNN.random((2, 3, 1), activation="tanh", seed=0)
    >>> X, Zt = np.ones((4, 5, 2)), np.zeros((4, 5, 1))
    >>> g = rnn.gradient(X, Zt, layer=1, t=3)
    >>> V, Z = g.factors("W")
    >>> V.shape, Z.shape          # q = r * t = 12 columns
    ((3, 12), (2, 12))
    """

    parameter_kinds: tuple[str, ...] = ("W", "U", "b")

    def __init__(
        self,
        weights: Sequence[Any],
        recurrent: Sequence[Any],
        biases: Sequence[Any],
        activation: str = "relu",
        output_activation: str | None = None,
        loss: str = "mse",
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(weights, biases, activation, output_activation, loss, weight_decay)
        recurrent = list(recurrent)
        if len(recurrent) != self.n_layers:
            raise ValueError(
                f"recurrent must hold one matrix U^(k) per level ({self.n_layers}), "
                f"got {len(recurrent)}"
            )
        require_namespace(
            {"weights[0]": self.weights[0]}
            | {f"recurrent[{k}]": U for k, U in enumerate(recurrent)}
        )
        for k, (U, W) in enumerate(zip(recurrent, self.weights, strict=True), start=1):
            m = W.shape[0]
            require_shape(U, f"recurrent[{k - 1}]", (m, m), f"U^({k}) is m x m with m = {m}")
            require_finite(U, f"recurrent[{k - 1}]", self.xp)
        self.recurrent = recurrent

    @classmethod
    def random(
        cls,
        layer_sizes: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        seed: int = 0,
        recurrent_scale: float = 0.5,
        like: Any = None,
        loss: str = "mse",
        weight_decay: float = 0.0,
    ) -> RNN:
        """Seeded Glorot-uniform W^(k), U^(k) scaled to spectral radius <= ``recurrent_scale``."""
        import numpy as np

        sizes = check_layer_sizes(layer_sizes)
        shapes = [(sizes[k + 1], sizes[k]) for k in range(len(sizes) - 1)]
        weights, biases = glorot_parameters(shapes, seed)
        rng = np.random.default_rng(seed + 1)
        recurrent = []
        for m, _ in shapes:
            U = rng.standard_normal((m, m))
            radius = max(abs(np.linalg.eigvals(U)).max(), 1e-12)
            recurrent.append(U * (recurrent_scale / radius))
        return cls(
            convert_like(weights, like),
            convert_like(recurrent, like),
            convert_like(biases, like),
            activation=activation,
            output_activation=output_activation,
            loss=loss,
            weight_decay=weight_decay,
        )

    # -- inputs ---------------------------------------------------------------------------
    def _inputs(self, X: Any) -> Any:
        """X as a validated (r, tau, N) batch; one sequence (tau, N) becomes r = 1."""
        xp = self.xp
        X = self._as_input(X, "X")
        N = self.layer_sizes[0]
        if X.ndim == 2:
            require_shape(X, "X", (None, N), f"one sample: tau time steps of N = {N} inputs")
            X = xp.reshape(X, (1, X.shape[0], N))
        else:
            require_shape(X, "X", (None, None, N), f"(r, tau, N) with N = {N}")
        if X.shape[1] < 1:
            raise ValueError("X must hold at least one time step (tau >= 1)")
        return X

    def _targets(self, Z_target: Any, r: int, tau: int) -> Any:
        """Z_target as a validated (r, tau, M) batch."""
        Z_target = self._as_input(Z_target, "Z_target")
        M = self.layer_sizes[-1]
        if Z_target.ndim == 2 and r == 1:
            require_shape(Z_target, "Z_target", (tau, M), "(tau, M) for one sample")
            Z_target = self.xp.reshape(Z_target, (1, tau, M))
        else:
            require_shape(Z_target, "Z_target", (r, tau, M), "(r, tau, M) matching X")
        self._check_targets(Z_target)
        return Z_target

    def _output_times(self, tau: int, t: Any, outputs_from: Any) -> tuple[int | None, int, int]:
        """Validated (t, a, T): T is the last time step the loss reaches."""
        a = require_int_in_range(outputs_from, "outputs_from", 1, tau)
        if t is None:
            return None, a, tau
        t = require_int_in_range(t, "t", 1, tau)
        return t, a, t

    def _time_weights(self, T: int, t: int | None, a: int, like: Any) -> Any:
        xp = self.xp
        steps = xp.arange(1, T + 1, device=device_of(like))
        mask = (steps == t) if t is not None else (steps >= a)
        return xp.astype(mask, like.dtype)

    def _prepare(self, X: Any, Z_target: Any, t: Any, outputs_from: Any):
        """Validate once: forward to the last time T the loss reaches, Z_target[:, :T], t, a, T."""
        X = self._inputs(X)
        Z_target = self._targets(Z_target, X.shape[0], X.shape[1])
        t, a, T = self._output_times(X.shape[1], t, outputs_from)
        return self._forward(X, T), Z_target[:, :T, :], t, a, T

    # -- forward and loss -------------------------------------------------------------------
    def forward(self, X: Any, steps: int | None = None) -> Forward:
        """Forward propagation, eq. (47)-(48); arrays (r, T, m_k).

        ``steps`` (default: all tau) stops after that many time steps.
        """
        X = self._inputs(X)
        if steps is not None:
            steps = require_int_in_range(steps, "steps", 1, X.shape[1])
        return self._forward(X, steps)

    def _forward(self, X: Any, steps: int | None = None) -> Forward:
        xp = self.xp
        T = X.shape[1] if steps is None else steps
        pre, post = [], [X[:, :T, :]]
        for k in range(1, self.n_layers + 1):
            W, U, b = self.weights[k - 1], self.recurrent[k - 1], self.biases[k - 1]
            act = self.activation_of(k)
            driven = post[-1] @ transpose(W) + b  # (r, T, m)
            U_T = transpose(U)
            ys, zs, z = [], [], None
            for s in range(T):
                y = driven[:, s, :] if z is None else driven[:, s, :] + z @ U_T
                z = act.f(xp, y)
                ys.append(y)
                zs.append(z)
            pre.append(xp.stack(ys, axis=1))
            post.append(xp.stack(zs, axis=1))
        return Forward(pre, post)

    def loss(self, X: Any, Z_target: Any, t: int | None = None, outputs_from: int = 1) -> float:
        """E^(t) for one output time ``t``, or E = sum_{t=a..tau} E^(t) for ``t=None``."""
        forward, Z_target, t, a, T = self._prepare(X, Z_target, t, outputs_from)
        return self._loss_of(forward.output, Z_target, t, a, T)

    def loss_from(
        self, forward: Forward, Z_target: Any, t: int | None = None, outputs_from: int = 1
    ) -> float:
        """:meth:`loss` of the batch that ``forward`` (from :meth:`forward`, T time steps)
        was run on: E^(t) with 1 <= t <= T, or for ``t=None`` the sum over t = a..T.
        ``Z_target`` (r, tau, M) with tau >= T is checked against it and read up to T."""
        Z_target = self._adjoint_targets(forward, Z_target)
        T = forward.output.shape[1]
        t, a, T = self._output_times(T, t, outputs_from)
        return self._loss_of(forward.output[:, :T, :], Z_target[:, :T, :], t, a, T)

    def _loss_of(self, output: Any, Z_target: Any, t: int | None, a: int, T: int) -> float:
        values = sample_losses(output, Z_target, self.loss_name, self.xp)  # (r, T)
        weights = self._time_weights(T, t, a, values)
        data = float(self.xp.sum(values * weights)) / Z_target.shape[0]
        return data + self._decay_penalty(self.weights + self.recurrent)

    def with_parameters(
        self, weights: Sequence[Any], recurrent: Sequence[Any], biases: Sequence[Any], *,
        check: bool = True,
    ) -> RNN:
        """A network of the same shapes and options (activations, loss, weight decay) with
        new ``weights``, ``recurrent`` and ``biases``; only what can differ is checked
        (shapes, dtype, library, finiteness). The arrays are held, not copied. ``check=False``
        checks nothing, as for :meth:`FNN.with_parameters <hessian_core.FNN.with_parameters>`."""
        return self._replaced(
            {"weights": weights, "recurrent": recurrent, "biases": biases}, validate=check
        )

    # -- adjoints and gradients -------------------------------------------------------------
    def adjoints(
        self,
        forward: Forward,
        Z_target: Any,
        t: int | None = None,
        outputs_from: int = 1,
        topk: Any = None,
        truncate: int | None = None,
    ) -> Adjoints:
        """BPTT (Lemma 2, eq. 59-60 and 67-68): dE/dz^(j,s), dE/dy^(j,s) of every level and step.

        ``forward`` comes from :meth:`forward` (T time steps); ``Z_target`` (r, tau, M) with
        tau >= T is checked against it and read up to T. ``t``, ``outputs_from`` as in
        :meth:`loss` (1 <= t <= T); ``topk`` (meProp) and ``truncate`` (truncated BPTT) as in
        :meth:`gradients`.
        """
        T = forward.output.shape[1]
        Z_target = self._adjoint_targets(forward, Z_target)
        t, a, _ = self._output_times(T, t, outputs_from)  # the adjoints span forward's T steps
        counts = {topk_count(topk, m) for m in self.layer_sizes[1:]}
        if len(counts) > 1:
            raise ValueError(
                "topk must keep the same count at every level in adjoints() (a count, or a "
                f"fraction that gives one count for the widths {self.layer_sizes[1:]}), "
                f"got {topk!r}"
            )
        count = counts.pop()
        return self._sparse_adjoints(forward, Z_target[:, :T, :], t, a, T, count, truncate)

    def _adjoint_targets(self, forward: Forward, Z_target: Any) -> Any:
        """Z_target as a validated (r, tau, M) batch with tau >= the T steps of ``forward``."""
        r, T = forward.output.shape[0], forward.output.shape[1]
        Z_target = self._as_input(Z_target, "Z_target")
        if Z_target.ndim == 2 and r == 1:
            Z_target = self.xp.reshape(Z_target, (1,) + tuple(Z_target.shape))
        require_shape(Z_target, "Z_target", (r, None, self.layer_sizes[-1]), "(r, tau, M)")
        self._check_targets(Z_target)
        if Z_target.shape[1] < T:
            raise ValueError(
                f"Z_target must hold at least the {T} time steps of forward, "
                f"got {Z_target.shape[1]}"
            )
        return Z_target

    def _adjoints(
        self,
        forward: Forward,
        Z_target: Any,
        t: int | None,
        a: int,
        topk: int | None = None,
        window_start: int = 0,
        curvature: bool = True,
    ) -> Adjoints:
        """BPTT, eq. (59)-(60) and (67)-(68), for every level and time step.

        ``topk`` sparsifies each g_y^(j,s) (meProp); ``window_start`` (0-based) stops the
        adjoints before that step (truncated BPTT). See :mod:`hessian_core.sparse`.
        ``curvature=False`` leaves out ``output_hessian`` (None): only the Hessians read it.
        """
        xp = self.xp
        r, T = Z_target.shape[0], forward.output.shape[1]
        weights_t = self._time_weights(T, t, a, forward.output)
        output, target = forward.output, Z_target[:, :T, :]
        from_above = loss_gradient(output, target, self.loss_name, xp) * weights_t[:, None] / r
        # d^2E/dz^(l,s)dz^(l,s): w_s / r times the loss Hessian (w_s I / r for "mse")
        output_hessian = None
        if curvature:
            output_hessian = loss_hessian(output, target, self.loss_name) * (
                weights_t[:, None, None] / r
            )
        output_gradient = from_above
        grad_z, grad_y = [None] * self.n_layers, [None] * self.n_layers
        for k in range(self.n_layers, 0, -1):
            act = self.activation_of(k)
            fp = None
            if not act.is_identity:  # f'(y^(k)), from z^(k) where it can
                Y, Z = forward.pre_activations[k - 1], forward.activations[k]
                fp = first_derivative(act, xp, Y, Z)
            U = self.recurrent[k - 1]
            gz_steps, gy_steps, carry = [], [], None
            for s in range(T - 1, -1, -1):
                gz = from_above[:, s, :] if carry is None else from_above[:, s, :] + carry @ U
                if s < window_start:
                    gz = xp.zeros_like(gz)
                carry = keep_top(gz if fp is None else gz * fp[:, s, :], topk)
                gz_steps.append(gz)
                gy_steps.append(carry)
            grad_z[k - 1] = xp.stack(gz_steps[::-1], axis=1)
            grad_y[k - 1] = xp.stack(gy_steps[::-1], axis=1)
            if k > 1:  # dE/dx^(s) is of no use
                from_above = grad_y[k - 1] @ self.weights[k - 1]
        return Adjoints(
            grad_z=grad_z,
            grad_y=grad_y,
            output_gradient=output_gradient,
            output_hessian=output_hessian,
            time_weights=weights_t,
            output_times=(t,) if t is not None else tuple(range(a, T + 1)),
        )

    def _output_windows(self, t: int | None, a: int, T: int, truncate: Any) -> list[tuple]:
        """(output time, window start) pairs: one pass, or one per output time if truncated."""
        if truncate is None:
            return [(t, 0)]
        K = require_int_in_range(truncate, "truncate", 1, T)
        times = [t] if t is not None else list(range(a, T + 1))
        return [(time, max(0, time - K)) for time in times]

    def _sparse_adjoints(
        self, forward, Z_target, t, a, T, topk, truncate, curvature: bool = True
    ) -> Adjoints:
        parts = [
            self._adjoints(forward, Z_target, time, a, topk, start, curvature)
            for time, start in self._output_windows(t, a, T, truncate)
        ]
        if len(parts) == 1:
            return parts[0]
        return Adjoints(
            grad_z=[sum(p.grad_z[j] for p in parts) for j in range(self.n_layers)],
            grad_y=[sum(p.grad_y[j] for p in parts) for j in range(self.n_layers)],
            output_gradient=sum(p.output_gradient for p in parts),
            output_hessian=sum(p.output_hessian for p in parts) if curvature else None,
            time_weights=sum(p.time_weights for p in parts),
            output_times=tuple(time for p in parts for time in p.output_times),
        )

    def gradient_from(
        self, forward: Forward, adjoints: Adjoints, layer: int, backtrack: Any = None
    ) -> Gradient:
        """dE/dW^(k), dE/dU^(k), dE/db^(k) of level ``layer`` from a forward pass and its
        adjoints, with the factors of Corollary 3; ``backtrack`` as in :meth:`gradients`."""
        layer = self._check_layer(layer)
        T = forward.output.shape[1]
        rule = None if backtrack is None else parse_backtrack(backtrack, T)
        return self._gradient_of(forward, adjoints, layer, rule)

    def gradients(
        self,
        X: Any,
        Z_target: Any,
        t: int | None = None,
        outputs_from: int = 1,
        topk: Any = None,
        truncate: int | None = None,
        backtrack: Any = None,
    ) -> list[Gradient]:
        """Gradients of E^(t) (or E) for every level from one BPTT pass (index k-1 is level k).

        Options of :mod:`hessian_core.sparse`: ``topk`` (meProp: a count or a fraction in
        (0, 1) of each v^(k,s) kept), ``truncate=K`` (truncated BPTT: only the last K time
        steps before each output time), ``backtrack`` (a set of 1-based time steps, or
        ``"largest:K"``: which terms of eq. (55) are kept).
        """
        counts = [topk_count(topk, m) for m in self.layer_sizes[1:]]
        if len(set(counts)) > 1:  # per-level counts: one BPTT per distinct width
            return [
                self.gradient(X, Z_target, k, t, outputs_from, topk, truncate, backtrack)
                for k in range(1, self.n_layers + 1)
            ]
        forward, Z_target, t, a, T = self._prepare(X, Z_target, t, outputs_from)
        rule = None if backtrack is None else parse_backtrack(backtrack, T)
        adjoints = self._sparse_adjoints(forward, Z_target, t, a, T, counts[0], truncate)
        return [self._gradient_of(forward, adjoints, k, rule) for k in range(1, self.n_layers + 1)]

    def loss_and_gradients(
        self,
        X: Any,
        Z_target: Any,
        t: int | None = None,
        outputs_from: int = 1,
        topk: Any = None,
        truncate: int | None = None,
        backtrack: Any = None,
    ) -> tuple[float, list[Gradient]]:
        """``(loss(X, Z_target, t, outputs_from), gradients(X, Z_target, t, outputs_from,
        topk, truncate, backtrack))`` from one forward pass (two or more only where ``topk``
        keeps different counts at different levels, as :meth:`gradients` does)."""
        counts = [topk_count(topk, m) for m in self.layer_sizes[1:]]
        if len(set(counts)) > 1:
            gradients = self.gradients(X, Z_target, t, outputs_from, topk, truncate, backtrack)
            return self.loss(X, Z_target, t, outputs_from), gradients
        forward, Z_target, t, a, T = self._prepare(X, Z_target, t, outputs_from)
        rule = None if backtrack is None else parse_backtrack(backtrack, T)
        adjoints = self._sparse_adjoints(
            forward, Z_target, t, a, T, counts[0], truncate, curvature=False
        )
        gradients = [
            self._gradient_of(forward, adjoints, k, rule) for k in range(1, self.n_layers + 1)
        ]
        return self._loss_of(forward.output, Z_target, t, a, T), gradients

    def gradient(
        self,
        X: Any,
        Z_target: Any,
        layer: int,
        t: int | None = None,
        outputs_from: int = 1,
        topk: Any = None,
        truncate: int | None = None,
        backtrack: Any = None,
    ) -> Gradient:
        """dE^(t)/dW^(k), dE^(t)/dU^(k), dE^(t)/db^(k) with factors of width q = r*t.

        ``topk``, ``truncate`` and ``backtrack`` as in :meth:`gradients`.
        """
        layer = self._check_layer(layer)
        forward, Z_target, t, a, T = self._prepare(X, Z_target, t, outputs_from)
        count = topk_count(topk, self.layer_sizes[layer])
        rule = None if backtrack is None else parse_backtrack(backtrack, T)
        adjoints = self._sparse_adjoints(forward, Z_target, t, a, T, count, truncate)
        return self._gradient_of(forward, adjoints, layer, rule)

    def _gradient_of(
        self, forward: Forward, adjoints: Adjoints, k: int, rule: Any = None
    ) -> Gradient:
        xp = self.xp
        g_y = adjoints.grad_y[k - 1]  # (r, T, m)
        below = forward.activations[k - 1]
        previous = shift_back(xp, forward.activations[k])
        if rule is not None:
            steps = xp.asarray(select_steps(rule, g_y, below), device=device_of(g_y))
            g_y, below, previous = (xp.take(x, steps, axis=1) for x in (g_y, below, previous))
        r, T, m = g_y.shape
        V = transpose(xp.reshape(g_y, (r * T, m)))
        Z = transpose(xp.reshape(below, (r * T, below.shape[2])))
        Z_rec = transpose(xp.reshape(previous, (r * T, m)))
        G_W, G_U = V @ transpose(Z), V @ transpose(Z_rec)
        if self.weight_decay:  # lam W^(k), lam U^(k): not in the factors V, Z
            G_W = G_W + self.weight_decay * self.weights[k - 1]
            G_U = G_U + self.weight_decay * self.recurrent[k - 1]
        return Gradient(
            W=G_W,
            b=xp.sum(V, axis=1),
            U=G_U,
            layer=k,
            V=V,
            Z=Z,
            Z_recurrent=Z_rec,
        )

    # -- Hessians -------------------------------------------------------------------------------
    def preactivation_hessians(
        self, forward: Forward, adjoints: Adjoints, layer: int, formula: str = "exact"
    ) -> Any:
        """The blocks M_{p,s,zeta} of level ``layer``, (r, T, m, T, m): the exact
        pre-activation Hessian (:mod:`hessian_core.rnn_curvature`) or the paper's C~ of
        eq. (77) (:mod:`hessian_core.paper`), for the loss that ``adjoints`` belong to."""
        layer = self._check_layer(layer)
        self._check_formula(formula)
        activations = self.level_activations()
        if formula == "paper":
            return rnn_paper_blocks(
                self.weights, self.recurrent, activations, forward, adjoints, layer
            )
        return preactivation_hessian_by_steps(
            self.weights, self.recurrent, activations, forward, adjoints, layer
        )

    def _layer_blocks(self, forward: Forward, adjoints: Adjoints, layer: int, formula: str) -> Any:
        """M (or the paper's C~) of level ``layer``, (r, T, m, T, m)."""
        return self.preactivation_hessians(forward, adjoints, layer, formula)

    def _layer_remainder(
        self, forward: Forward, adjoints: Adjoints, layer: int, wrt: str, formula: str
    ) -> Any:
        """B + B^T of the exact H_U (:mod:`hessian_core.rnn_curvature`); None otherwise."""
        if formula == "exact" and wrt == "U":
            return recurrent_remainder(
                self.recurrent, self.level_activations(), forward, adjoints, layer
            )
        return None

    def hessian(
        self,
        X: Any,
        Z_target: Any,
        layer: int,
        t: int | None = None,
        wrt: str = "W",
        formula: str = "exact",
        outputs_from: int = 1,
        truncate: int | None = None,
    ) -> LayerHessian:
        """Hessian of E^(t) (or E for ``t=None``) with respect to W^(k), U^(k) or b^(k).

        ``formula="exact"`` is the true Hessian for every activation, depth and time step.
        ``formula="paper"`` is Theorem 2 (eq. 74-84) as printed (:mod:`hessian_core.paper`).
        The exact H_U has no Kronecker structure: its ``eigvalsh`` uses the dense matrix.
        ``truncate=K`` gives the Hessian of the truncated-BPTT loss: the states K steps
        before each output time held constant, so only blocks with s, zeta > t-K remain.
        """
        layer = self._check_layer(layer)
        self._check_formula(formula)
        require_choice(wrt, "wrt", ("W", "U", "b"))
        forward, Z_target, t, a, T = self._prepare(X, Z_target, t, outputs_from)
        blocks, remainder = None, None
        for time, start in self._output_windows(t, a, T, truncate):
            adjoints = self._adjoints(forward, Z_target, time, a, window_start=start)
            part = self.preactivation_hessians(forward, adjoints, layer, formula)
            part = window_blocks(part, start)
            if formula == "exact" and wrt == "U":
                rest = recurrent_remainder(
                    self.recurrent, self.level_activations(), forward, adjoints, layer, start
                )
                remainder = rest if remainder is None else remainder + rest
            blocks = part if blocks is None else blocks + part
        return LayerHessian.from_parts(
            blocks,
            self.kronecker_inputs(forward, layer, wrt),
            layer,
            wrt,
            formula,
            time_step=t,
            remainder=remainder,
            weight_decay=self.weight_decay,
        )

    def whole_hessian(
        self, X: Any, Z_target: Any, t: int | None = None, outputs_from: int = 1
    ) -> WholeHessian:
        """Hessian of E^(t) (or E for ``t=None``, the sum over t = a..tau) with respect to
        every parameter, in :meth:`parameter_vector` order (:mod:`hessian_core.whole`)."""
        forward, Z_target, t, a, T = self._prepare(X, Z_target, t, outputs_from)
        return WholeHessian(self, forward, self._adjoints(forward, Z_target, t, a))

    def kronecker_inputs(self, forward: Forward, layer: int, wrt: str) -> Any:
        """The Kronecker input vectors z_{p,s} (r, T, n) of the Hessian with respect to
        ``wrt``: z^(k-1,s) for W, z^(k,s-1) for U, the scalar 1 for b
        (:func:`hessian_core.time_steps.kronecker_inputs`)."""
        return kronecker_inputs(forward, layer, wrt)
