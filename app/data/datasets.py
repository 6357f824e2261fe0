"""Seeded toy data sets, generated in NumPy.

Samples are rows (the core's convention): 2-D classification and 1-D regression give
``X`` of shape (n, N) and targets ``Z`` of shape (n, M); sequence tasks give ``X`` of shape
(n, tau, N) and ``Z`` of shape (n, tau, M). Everything is a pure function of its arguments:
the same seed gives the same data.

Classification targets are the two values of :func:`label_values`: (0, 1) for a sigmoid
output, (-1, 1) otherwise, so that every output activation can reach them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Inputs, targets and how to read them."""

    name: str
    X: np.ndarray
    Z: np.ndarray
    classification: bool
    labels: tuple[float, float] = (-1.0, 1.0)

    @property
    def input_width(self) -> int:
        return int(self.X.shape[-1])

    @property
    def output_width(self) -> int:
        return int(self.Z.shape[-1])

    @property
    def size(self) -> int:
        return int(self.X.shape[0])


#: (inputs N, outputs M) of each data set, known without making the data
FNN_WIDTHS = {"xor": (2, 1), "circles": (2, 1), "spirals": (2, 1), "blobs": (2, 1),
              "regression": (1, 1)}
SEQUENCE_WIDTHS = {"sine": (1, 1), "adding": (2, 1), "echo": (1, 1)}


def data_widths(model: str, name: str) -> tuple[int, int]:
    """(N, M) of the FNN data set or RNN task ``name``: the first and last layer widths.

    >>> data_widths("fnn", "regression"), data_widths("rnn", "adding")
    ((1, 1), (2, 1))
    """
    table = SEQUENCE_WIDTHS if model == "rnn" else FNN_WIDTHS
    if name not in table:
        kind = "sequence task" if model == "rnn" else "data set"
        raise ValueError(f"unknown {kind} {name!r}: choose one of {', '.join(table)}")
    return table[name]


def label_values(output_activation: str) -> tuple[float, float]:
    return (0.0, 1.0) if output_activation == "sigmoid" else (-1.0, 1.0)


def _classes(name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Clean points (n, 2) in about [-1, 1]^2 and their class (n,) in {0, 1}."""
    if name == "xor":
        points = rng.uniform(-1.0, 1.0, size=(n, 2))
        points += np.sign(points) * 0.05
        return points, (points[:, 0] * points[:, 1] > 0).astype(float)
    if name == "circles":
        cls = rng.integers(0, 2, size=n)
        radius = np.where(cls == 1, rng.uniform(0.0, 0.45, n), rng.uniform(0.65, 1.0, n))
        angle = rng.uniform(0.0, 2 * np.pi, n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), cls.astype(float)
    if name == "spirals":
        cls = rng.integers(0, 2, size=n)
        turn = rng.uniform(0.0, 1.0, n)
        radius = 0.1 + 0.9 * turn
        angle = 3.0 * np.pi * turn + np.pi * cls
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), cls.astype(float)
    if name == "blobs":
        cls = rng.integers(0, 2, size=n)
        centers = np.array([[-0.5, -0.4], [0.5, 0.4]])
        return centers[cls] + 0.25 * rng.standard_normal((n, 2)), cls.astype(float)
    raise ValueError(f"unknown data set {name!r}")


def make_fnn_dataset(
    name: str, samples: int, noise: float, seed: int, output_activation: str = "identity"
) -> Dataset:
    """A 2-D classification set (xor, circles, spirals, blobs) or 1-D ``regression``.

    >>> data = make_fnn_dataset("xor", 10, 0.1, seed=3)
    >>> data.X.shape, data.Z.shape
    ((10, 2), (10, 1))
    >>> bool(np.all(make_fnn_dataset("xor", 10, 0.1, seed=3).X == data.X))
    True
    """
    rng = np.random.default_rng([seed, 1])
    if name == "regression":
        x = np.sort(rng.uniform(-1.0, 1.0, samples))
        z = np.sin(3.0 * x) + noise * rng.standard_normal(samples)
        return Dataset(name, x[:, None], z[:, None], classification=False)
    points, cls = _classes(name, samples, rng)
    points = points + noise * 0.5 * rng.standard_normal(points.shape)
    low, high = label_values(output_activation)
    targets = np.where(cls > 0.5, high, low)[:, None]
    return Dataset(name, points, targets, classification=True, labels=(low, high))


def make_sequence_dataset(
    task: str, samples: int, tau: int, noise: float, seed: int, delay: int = 2
) -> Dataset:
    """Sequence tasks for the RNN, shapes (n, tau, N) and (n, tau, M).

    - ``sine``: continuation; input sin(omega s + phi) (+ noise), target the value at s + 1.
    - ``adding``: inputs (value, marker) with two markers; target at s is the sum of the
      marked values seen up to s (the classic answer at s = tau).
    - ``echo``: delayed copy; target at s is the input at s - delay (0 before).

    >>> make_sequence_dataset("adding", 4, 6, 0.0, seed=0).X.shape
    (4, 6, 2)
    """
    rng = np.random.default_rng([seed, 2])
    steps = np.arange(1, tau + 1)
    if task == "sine":
        omega = rng.uniform(0.3, 0.9, (samples, 1))
        phase = rng.uniform(0.0, 2 * np.pi, (samples, 1))
        x = np.sin(omega * steps + phase) + noise * 0.2 * rng.standard_normal((samples, tau))
        z = np.sin(omega * (steps + 1) + phase)
        return Dataset(task, x[..., None], z[..., None], classification=False)
    if task == "adding":
        values = rng.uniform(0.0, 1.0, (samples, tau))
        markers = np.zeros((samples, tau))
        half = max(tau // 2, 1)
        first = rng.integers(0, half, samples)
        second = rng.integers(half, tau, samples)
        markers[np.arange(samples), first] = 1.0
        markers[np.arange(samples), second] = 1.0
        z = np.cumsum(values * markers, axis=1)
        values = values + noise * 0.1 * rng.standard_normal(values.shape)
        return Dataset(task, np.stack([values, markers], axis=-1), z[..., None], False)
    if task == "echo":
        delay = int(min(max(delay, 1), tau - 1))
        x = rng.choice([-1.0, 1.0], size=(samples, tau))
        z = np.zeros_like(x)
        z[:, delay:] = x[:, :-delay]
        x = x + noise * 0.2 * rng.standard_normal(x.shape)
        return Dataset(task, x[..., None], z[..., None], classification=False)
    raise ValueError(f"unknown sequence task {task!r}")
