"""Seeded random networks and data for the core tests, plus cached reference results.

Cases are built in float64 NumPy from a seed, then converted to any namespace with
``xp.asarray``. Networks with ReLU levels are drawn until every ReLU pre-activation
satisfies |y| >= ``RELU_MARGIN`` (rejection sampling over derived seeds), so finite
differences never straddle a kink (the reference also guards against that).

Finite-difference results are cached per case, so the NumPy and array-api-strict runs of a
test share one reference computation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest
import reference

RELU_MARGIN = 0.05

#: (activation, output_activation) pairs of the case tables: every activation at every level,
#: plus mixed hidden/output activations.
ACTIVATION_PAIRS = [(name, None) for name in reference.ACTIVATIONS] + [
    ("relu", "identity"),
    ("tanh", "sigmoid"),
    ("sigmoid", "identity"),
]
_MAX_DRAWS = 2000


def _activations(n_layers: int, activation: str, output_activation: str | None) -> list[str]:
    names = [activation] * n_layers
    if output_activation is not None:
        names[-1] = output_activation
    return names


@dataclass(frozen=True, eq=False)
class FNNCase:
    """An FNN with data, in NumPy. ``eq=False``: cases hash by identity (they are cached)."""

    layer_sizes: tuple[int, ...]
    activation: str
    output_activation: str | None
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    X: np.ndarray
    Z_target: np.ndarray
    seed: int

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def batch_size(self) -> int:
        return self.X.shape[0]

    def arrays(self, xp):
        """(weights, biases, X, Z_target) converted to namespace ``xp``."""
        return (
            [xp.asarray(W) for W in self.weights],
            [xp.asarray(b) for b in self.biases],
            xp.asarray(self.X),
            xp.asarray(self.Z_target),
        )

    def build(self, xp):
        """(FNN, X, Z_target) in namespace ``xp``."""
        from hessian_core import FNN

        weights, biases, X, Z_target = self.arrays(xp)
        net = FNN(weights, biases, activation=self.activation,
                  output_activation=self.output_activation)
        return net, X, Z_target

    def block_loss(self, layer: int, wrt: str = "W"):
        return reference.fnn_block_loss(
            self.weights, self.biases, self.activation, self.output_activation,
            self.X, self.Z_target, layer, wrt,
        )

    def loss(self) -> float:
        return reference.fnn_loss(
            self.weights, self.biases, self.activation, self.output_activation,
            self.X, self.Z_target,
        )

    def __repr__(self) -> str:
        return (f"FNNCase(sizes={self.layer_sizes}, r={self.batch_size}, "
                f"{self.activation}/{self.output_activation}, seed={self.seed})")


@dataclass(frozen=True, eq=False)
class RNNCase:
    """An RNN with sequence data (r, tau, N), in NumPy."""

    layer_sizes: tuple[int, ...]
    activation: str
    output_activation: str | None
    weights: tuple[np.ndarray, ...]
    recurrent: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    X: np.ndarray
    Z_target: np.ndarray
    seed: int

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def batch_size(self) -> int:
        return self.X.shape[0]

    @property
    def tau(self) -> int:
        return self.X.shape[1]

    def arrays(self, xp):
        return (
            [xp.asarray(W) for W in self.weights],
            [xp.asarray(U) for U in self.recurrent],
            [xp.asarray(b) for b in self.biases],
            xp.asarray(self.X),
            xp.asarray(self.Z_target),
        )

    def build(self, xp):
        """(RNN, X, Z_target) in namespace ``xp``."""
        from hessian_core import RNN

        weights, recurrent, biases, X, Z_target = self.arrays(xp)
        net = RNN(weights, recurrent, biases, activation=self.activation,
                  output_activation=self.output_activation)
        return net, X, Z_target

    def block_loss(self, layer: int, wrt: str = "W", t: int | None = None, outputs_from: int = 1):
        return reference.rnn_block_loss(
            self.weights, self.recurrent, self.biases, self.activation, self.output_activation,
            self.X, self.Z_target, layer, wrt, t, outputs_from,
        )

    def loss(self, t: int | None = None, outputs_from: int = 1) -> float:
        return reference.rnn_loss(
            self.weights, self.recurrent, self.biases, self.activation, self.output_activation,
            self.X, self.Z_target, t, outputs_from,
        )

    def __repr__(self) -> str:
        return (f"RNNCase(sizes={self.layer_sizes}, r={self.batch_size}, tau={self.tau}, "
                f"{self.activation}/{self.output_activation}, seed={self.seed})")


def _draw_fnn(rng, layer_sizes, batch_size, activation):
    weights, biases = [], []
    bias_mean = 0.3 if activation == "relu" else 0.0
    for n, m in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        weights.append(rng.normal(size=(m, n)) * 1.2 / np.sqrt(n))
        biases.append(bias_mean + 0.5 * rng.normal(size=m))
    X = rng.normal(size=(batch_size, layer_sizes[0]))
    Z_target = rng.normal(size=(batch_size, layer_sizes[-1]))
    return tuple(weights), tuple(biases), X, Z_target


@functools.cache
def fnn_case(
    layer_sizes: tuple[int, ...],
    batch_size: int,
    activation: str,
    output_activation: str | None = None,
    seed: int = 0,
) -> FNNCase:
    """A random FNN ``layer_sizes = (N, m1, ..., M)`` with ``batch_size`` samples."""
    names = _activations(len(layer_sizes) - 1, activation, output_activation)
    for draw in range(_MAX_DRAWS):
        rng = np.random.default_rng([seed, draw])
        weights, biases, X, Z_target = _draw_fnn(rng, layer_sizes, batch_size, activation)
        pre, _ = reference.fnn_forward(weights, biases, activation, output_activation, X)
        if reference.min_abs_preactivation(pre, names) >= RELU_MARGIN:
            return FNNCase(tuple(layer_sizes), activation, output_activation, weights, biases,
                           X, Z_target, seed)
    raise RuntimeError(f"no FNN draw with ReLU margin {RELU_MARGIN} in {_MAX_DRAWS} tries")


@functools.cache
def rnn_case(
    layer_sizes: tuple[int, ...],
    batch_size: int,
    tau: int,
    activation: str,
    output_activation: str | None = None,
    seed: int = 0,
) -> RNNCase:
    """A random RNN ``layer_sizes = (N, m1, ..., M)`` on sequences of length ``tau``."""
    names = _activations(len(layer_sizes) - 1, activation, output_activation)
    for draw in range(_MAX_DRAWS):
        rng = np.random.default_rng([seed, draw])
        weights, biases, X, _ = _draw_fnn(rng, layer_sizes, batch_size, activation)
        recurrent = tuple(rng.normal(size=(m, m)) * 0.8 / np.sqrt(m) for m in layer_sizes[1:])
        X = rng.normal(size=(batch_size, tau, layer_sizes[0]))
        Z_target = rng.normal(size=(batch_size, tau, layer_sizes[-1]))
        pre, _ = reference.rnn_forward(weights, recurrent, biases, activation,
                                       output_activation, X)
        if reference.min_abs_preactivation(pre, names) >= RELU_MARGIN:
            return RNNCase(tuple(layer_sizes), activation, output_activation, weights,
                           recurrent, biases, X, Z_target, seed)
    raise RuntimeError(f"no RNN draw with ReLU margin {RELU_MARGIN} in {_MAX_DRAWS} tries")


# --- cached finite-difference references ----------------------------------------------------


@functools.cache
def fnn_fd_gradient(case: FNNCase, layer: int, wrt: str) -> np.ndarray:
    loss_fn, theta = case.block_loss(layer, wrt)
    shape = case.weights[layer - 1].shape if wrt == "W" else case.biases[layer - 1].shape
    return reference.fd_gradient(loss_fn, theta).reshape(shape)


@functools.cache
def fnn_fd_hessian(case: FNNCase, layer: int, wrt: str) -> np.ndarray:
    loss_fn, theta = case.block_loss(layer, wrt)
    return reference.fd_hessian(loss_fn, theta)


@functools.cache
def rnn_fd_gradient(case: RNNCase, layer: int, wrt: str, t: int | None,
                    outputs_from: int = 1) -> np.ndarray:
    loss_fn, theta = case.block_loss(layer, wrt, t, outputs_from)
    block = {"W": case.weights, "U": case.recurrent, "b": case.biases}[wrt][layer - 1]
    return reference.fd_gradient(loss_fn, theta).reshape(block.shape)


@functools.cache
def rnn_fd_hessian(case: RNNCase, layer: int, wrt: str, t: int | None,
                   outputs_from: int = 1) -> np.ndarray:
    loss_fn, theta = case.block_loss(layer, wrt, t, outputs_from)
    return reference.fd_hessian(loss_fn, theta)


# --- case tables ------------------------------------------------------------------------------

#: FNN layer sizes (N, m1, ..., M) by depth; small so FD Hessians stay cheap (p <= 16).
FNN_SIZES = {1: (4, 3), 2: (4, 3, 2), 3: (3, 4, 3, 2)}
#: RNN layer sizes by depth; every block has at most 9 parameters.
RNN_SIZES = {1: (3, 3), 2: (2, 3, 2), 3: (2, 2, 3, 2)}
RNN_TAU = 3
BATCH_SIZES = (1, 3)

#: the FNN table shared by the gradient and Hessian tests: activation x depth x batch x level
FNN_CASES = [
    pytest.param(activation, output, depth, batch, layer,
                 id=f"{activation}-{output or 'same'}-l{depth}-r{batch}-k{layer}")
    for activation, output in ACTIVATION_PAIRS
    for depth in FNN_SIZES
    for batch in BATCH_SIZES
    for layer in range(1, depth + 1)
]
