"""What FNNs and RNNs share: parameter validation, activations per level, input checks.

Conventions (``docs/contract.md``): W^(k) is ``weights[k-1]`` of shape (m, n); b^(k) is
``biases[k-1]`` of shape (m,); levels are 1-based; samples are rows. The activation f is
applied at every level, the output level included, unless ``output_activation`` overrides
the last one. ``loss`` ("mse", the paper's, or "cross_entropy") and ``weight_decay`` (lam >= 0)
are those of :mod:`hessian_core.losses`; ``formula="paper"`` exists for "mse" only.
``with_parameters`` (of FNN and RNN) builds the same network from new arrays through
``Network._replaced``, which checks only what can have changed (count, shape, dtype, library,
finiteness) instead of everything the constructor checks.

One layer Hessian (:class:`~hessian_core.LayerHessian`, eq. 28 and 74-76) for both kinds of
network: ``hessian_from(forward, adjoints, layer, *, formula="exact", wrt="W")`` is defined
here once; a subclass gives the blocks M (its ``_layer_blocks``), the Kronecker inputs
(``kronecker_inputs``) and any part outside the Kronecker form (``_layer_remainder``), and
:meth:`LayerHessian.from_parts` builds the result.

All parameters as one vector (the order of the whole Hessian, :mod:`hessian_core.whole`):
``parameter_vector()`` is, for k = 1..l, vec(W^(k)) (row-major), [vec(U^(k)) for RNNs],
b^(k); ``parameter_layout()`` lists its (level, "W" | "U" | "b", shape) pieces in that order
and ``with_parameter_vector(theta)`` is the inverse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .activations import Activation, get_activation
from .backend import (
    as_float_array,
    device_of,
    namespace_of,
    require_choice,
    require_finite,
    require_int_in_range,
    require_namespace,
)
from .kron import LayerHessian
from .losses import check_targets, require_loss, require_weight_decay
from .results import Adjoints, Forward

__all__ = [
    "Network",
    "FORMULAS",
    "PARAMETER_LISTS",
    "check_layer_sizes",
    "convert_like",
    "glorot_parameters",
]

#: Accepted values of ``formula=``.
FORMULAS: tuple[str, ...] = ("exact", "paper")

#: The attribute that holds each kind of parameter: W^(k), U^(k), b^(k).
PARAMETER_LISTS: dict[str, str] = {"W": "weights", "U": "recurrent", "b": "biases"}


class Network:
    """Base of :class:`~hessian_core.FNN` and :class:`~hessian_core.RNN`."""

    #: The parameter kinds of one level, in the order of :meth:`parameter_vector`.
    parameter_kinds: tuple[str, ...] = ("W", "b")

    def __init__(
        self,
        weights: Sequence[Any],
        biases: Sequence[Any],
        activation: str = "relu",
        output_activation: str | None = None,
        loss: str = "mse",
        weight_decay: float = 0.0,
    ) -> None:
        self.loss_name = require_loss(loss)
        self.weight_decay = require_weight_decay(weight_decay)
        weights, biases = list(weights), list(biases)
        if len(weights) == 0:
            raise ValueError("weights must hold at least one matrix W^(1)")
        if len(biases) != len(weights):
            raise ValueError(
                f"biases must hold one vector per level ({len(weights)}), got {len(biases)}"
            )
        named = {f"weights[{k}]": W for k, W in enumerate(weights)}
        named.update({f"biases[{k}]": b for k, b in enumerate(biases)})
        self.xp = require_namespace(named)
        for k, W in enumerate(weights, start=1):
            if W.ndim != 2:
                raise ValueError(
                    f"weights[{k - 1}] (W^({k})) must be 2-D (m, n), got shape {tuple(W.shape)}"
                )
            if k > 1 and W.shape[1] != weights[k - 2].shape[0]:
                raise ValueError(
                    f"weights[{k - 1}] (W^({k})) must have {weights[k - 2].shape[0]} columns "
                    f"to take the {weights[k - 2].shape[0]} outputs of level {k - 1}, "
                    f"got shape {tuple(W.shape)}"
                )
            b = biases[k - 1]
            if tuple(b.shape) != (W.shape[0],):
                raise ValueError(
                    f"biases[{k - 1}] (b^({k})) must have shape ({W.shape[0]},), "
                    f"got {tuple(b.shape)}"
                )
            require_finite(W, f"weights[{k - 1}]", self.xp)
            require_finite(b, f"biases[{k - 1}]", self.xp)
        self.weights = weights
        self.biases = biases
        self.activation = get_activation(activation).name
        self.output_activation = (
            self.activation
            if output_activation is None
            else get_activation(output_activation, "output_activation").name
        )

    @property
    def n_layers(self) -> int:
        """l, the number of levels."""
        return len(self.weights)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """(N, m_1, ..., m_l): input width, then the width of every level."""
        return (int(self.weights[0].shape[1]),) + tuple(int(W.shape[0]) for W in self.weights)

    def parameter_layout(self) -> list[tuple[int, str, tuple[int, ...]]]:
        """(level, kind, shape) of every parameter array, in :meth:`parameter_vector` order:
        for k = 1..l, ("W", (m, n)), [("U", (m, m)) for RNNs], ("b", (m,))."""
        layout = []
        for k in range(1, self.n_layers + 1):
            for kind in self.parameter_kinds:
                array = getattr(self, PARAMETER_LISTS[kind])[k - 1]
                layout.append((k, kind, tuple(int(size) for size in array.shape)))
        return layout

    @property
    def n_parameters(self) -> int:
        """P, the length of :meth:`parameter_vector`."""
        return sum(math.prod(shape) for _, _, shape in self.parameter_layout())

    def parameter_vector(self) -> Any:
        """All parameters as one vector (P,): for k = 1..l, vec(W^(k)) row-major,
        [vec(U^(k)) for RNNs], b^(k). The order of the whole Hessian's rows and columns."""
        xp = self.xp
        return xp.concat(
            [
                xp.reshape(getattr(self, PARAMETER_LISTS[kind])[k - 1], (-1,))
                for k, kind, _ in self.parameter_layout()
            ]
        )

    def with_parameter_vector(self, theta: Any) -> Network:
        """The network of the same class, shapes and options (activations, loss, weight
        decay) whose parameters are read from ``theta`` (P,) in :meth:`parameter_vector`
        order: the inverse of :meth:`parameter_vector`. ``theta`` is checked (length,
        library, finiteness); the new arrays are reshaped pieces of it, not copies."""
        xp = self.xp
        P = self.n_parameters
        theta = as_float_array(theta, "theta", xp, self.weights[0])
        if tuple(theta.shape) != (P,):
            raise ValueError(
                f"theta must be a vector of length P = {P} (the parameters in "
                f"parameter_vector() order), got shape {tuple(theta.shape)}"
            )
        require_finite(theta, "theta", xp)
        arrays: dict[str, list[Any]] = {PARAMETER_LISTS[kind]: [] for kind in self.parameter_kinds}
        start = 0
        for _, kind, shape in self.parameter_layout():
            size = math.prod(shape)
            arrays[PARAMETER_LISTS[kind]].append(xp.reshape(theta[start : start + size], shape))
            start += size
        return self._copy_with(arrays)  # pieces of one checked vector: shapes, dtype, library

    def activation_of(self, layer: int) -> Activation:
        """The activation applied at level ``layer`` (1-based)."""
        name = self.output_activation if layer == self.n_layers else self.activation
        return get_activation(name)

    def level_activations(self) -> list[Activation]:
        """The activation of every level: entry k-1 is that of level k (the form in which the
        recursions of :mod:`hessian_core.recursion` and the RNN modules take them)."""
        return [self.activation_of(k) for k in range(1, self.n_layers + 1)]

    # -- the layer Hessian -------------------------------------------------------------------
    def hessian_from(
        self,
        forward: Forward,
        adjoints: Adjoints,
        layer: int,
        *,
        formula: str = "exact",
        wrt: str = "W",
    ) -> LayerHessian:
        """The layer Hessian of ``hessian`` from a forward pass and the adjoints of the loss
        (``adjoints``), with respect to ``wrt`` (one of :attr:`parameter_kinds`) of level
        ``layer``; for an RNN without ``truncate``. Nothing is validated or recomputed but
        the three options."""
        layer = self._check_layer(layer)
        self._check_formula(formula)
        require_choice(wrt, "wrt", self.parameter_kinds)
        times = adjoints.output_times or ()
        return LayerHessian.from_parts(
            self._layer_blocks(forward, adjoints, layer, formula),
            self.kronecker_inputs(forward, layer, wrt),
            layer,
            wrt,
            formula,
            time_step=times[0] if len(times) == 1 else None,
            remainder=self._layer_remainder(forward, adjoints, layer, wrt, formula),
            weight_decay=self.weight_decay,
        )

    def kronecker_inputs(self, forward: Forward, layer: int, wrt: str) -> Any:
        """The Kronecker input vectors of the Hessian with respect to ``wrt`` of level
        ``layer`` (eq. 28, 74-76), as :class:`~hessian_core.LayerHessian` holds them."""
        raise NotImplementedError

    def _layer_blocks(self, forward: Forward, adjoints: Adjoints, layer: int, formula: str) -> Any:
        """The blocks M of level ``layer``: (r, T, m, T, m), or (r, m, m) for an FNN."""
        raise NotImplementedError

    def _layer_remainder(
        self, forward: Forward, adjoints: Adjoints, layer: int, wrt: str, formula: str
    ) -> Any:
        """The part of the layer Hessian outside the Kronecker form, or ``None`` (the default:
        every Hessian but an RNN's exact H_U)."""
        return None

    def _check_layer(self, layer: Any) -> int:
        return require_int_in_range(layer, "layer", 1, self.n_layers)

    def _check_formula(self, formula: str) -> None:
        require_choice(formula, "formula", FORMULAS)
        if formula == "paper" and self.loss_name != "mse":
            raise ValueError(
                f"formula='paper' exists for loss='mse' only (the paper's squared loss), "
                f"got loss={self.loss_name!r}: use formula='exact'"
            )

    def _check_targets(self, Z_target: Any) -> None:
        check_targets(Z_target, self.loss_name, "Z_target")

    def _decay_penalty(self, matrices: Sequence[Any]) -> float:
        """lam/2 times the sum of the squared Frobenius norms of ``matrices``."""
        if self.weight_decay == 0.0:
            return 0.0
        total = sum(float(self.xp.sum(A * A)) for A in matrices)
        return 0.5 * self.weight_decay * total

    def _replaced(self, arrays: dict[str, list[Any]], validate: bool = True) -> Network:
        """A copy of this network (same class and options) whose parameter lists ``arrays``
        (attribute name -> new list) replace the current ones, checking only what can have
        changed: the number of arrays, each one's shape and dtype, its library and that it is
        finite. Nothing is copied: the new network holds the given arrays.

        ``validate=False`` checks nothing, for a training loop that made the arrays from this
        network's own by element-wise steps (so of the same shapes, dtype and library) and has
        found them finite: there the checks cost more than the step's arithmetic."""
        if not validate:
            return self._copy_with(arrays)
        reference = self.weights[0]
        checked = {}
        for attribute, new in arrays.items():
            old, new = getattr(self, attribute), list(new)
            if len(new) != len(old):
                raise ValueError(
                    f"{attribute} must hold {len(old)} arrays (one per level), got {len(new)}"
                )
            for k, (A, B) in enumerate(zip(old, new, strict=True)):
                name = f"{attribute}[{k}]"
                if type(B) is not type(reference):  # the common case costs one type test
                    require_namespace({"weights[0]": reference, name: B})
                if tuple(B.shape) != tuple(A.shape) or B.dtype != A.dtype:
                    raise ValueError(
                        f"{name} must have shape {tuple(A.shape)} and dtype {A.dtype} like the "
                        f"network's, got shape {tuple(B.shape)} and dtype {B.dtype}"
                    )
            checked[attribute] = new
        xp = self.xp
        # one reduction per array: a finite total means every entry is finite; otherwise
        # (a NaN or infinity, or finite entries whose sum overflows) look array by array
        if not math.isfinite(sum(float(xp.sum(B)) for new in checked.values() for B in new)):
            for attribute, new in checked.items():
                for k, B in enumerate(new):
                    require_finite(B, f"{attribute}[{k}]", xp)
        return self._copy_with(checked)

    def _copy_with(self, arrays: dict[str, list[Any]]) -> Network:
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(arrays)
        return copy

    def _as_input(self, value: Any, name: str) -> Any:
        array = as_float_array(value, name, self.xp, self.weights[0])
        require_finite(array, name, self.xp)
        return array


def glorot_parameters(
    shapes: Sequence[tuple[int, int]], seed: int, gain: float = 1.0
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Seeded Glorot-uniform weights (NumPy) for the given (m, n) shapes, small random biases."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for m, n in shapes:
        limit = gain * np.sqrt(6.0 / (m + n))
        weights.append(rng.uniform(-limit, limit, size=(m, n)))
        biases.append(rng.uniform(-0.1, 0.1, size=(m,)))
    return weights, biases


def check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    """``layer_sizes`` as a tuple of at least two positive ints, or ``ValueError``."""
    sizes = tuple(layer_sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(
            "layer_sizes must be at least two positive integers (N, m_1, ..., M), "
            f"got {layer_sizes!r}"
        )
    return sizes


def convert_like(arrays: list[Any], like: Any) -> list[Any]:
    """NumPy ``arrays`` moved to the namespace, dtype and device of ``like`` (if given)."""
    if like is None:
        return arrays
    xp = namespace_of(like)
    return [xp.asarray(a, dtype=like.dtype, device=device_of(like)) for a in arrays]
