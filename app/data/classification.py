"""Classification with 2-5 classes: data sets, targets, a train/test split, input features.

Everything here is a pure function of its arguments, in NumPy, like :mod:`app.data.datasets`:
the same seed gives the same data. Samples are rows (the core's convention).

- **Data** (:func:`make_class_points`): 2-D points in about [-1, 1]^2 with a class label
  c_p in {0, ..., K-1}, K = ``classes`` in 2..5. Classes are balanced (sample p has class
  p mod K before a seeded shuffle), so every class is present once ``samples >= K``.

  * ``blobs``: K Gaussian clusters, centres 0.6 (cos phi_c, sin phi_c), phi_c = 2 pi c / K
    + pi / 4, standard deviation 0.2;
  * ``spirals``: K interleaved arms, radius 0.1 + 0.9 u, angle 3 pi u + 2 pi c / K,
    u ~ U(0, 1) (K = 2 is the two spirals of :mod:`app.data.datasets`);
  * ``rings``: K concentric annuli, class c at radius in [c, c + 0.6] / (K - 0.4).

  ``noise`` adds 0.5 * noise * N(0, 1) to each coordinate (as :mod:`app.data.datasets` does).

- **Targets** (:func:`one_hot`, :func:`class_targets`): row p is e_{c_p} (length K). For
  ``loss="cross_entropy"`` these are the class probabilities the core expects (softmax
  over an identity output level); for the squared loss the one-hot rows are written with the
  two label values of the output activation, (0, 1) for a sigmoid, (-1, 1) otherwise.

- **Prediction and accuracy** (:func:`predicted_classes`, :func:`accuracy`): with K >= 2
  outputs the predicted class is argmax_i z_p,i (softmax is monotone, so the same for
  logits and probabilities); with one output (the two-class sets of :mod:`app.data.datasets`) it
  is 1 where z_p > the midpoint of the two label values. Accuracy is the fraction of
  samples whose predicted class is their class.

- **Train/test split** (:func:`split_indices`): stratified and seeded: within each class,
  round(test_fraction * count) samples (at most count - 1, so that training sees every
  class) go to the test set.

- **Input features** (:func:`feature_map`), as in TensorFlow Playground: the network's
  input is a chosen subset of x1, x2, x1^2, x2^2, x1 x2, sin(pi x1), sin(pi x2) of the
  point (x1, x2), in :data:`FEATURES` order, so N = the number of features chosen.
  Playground's points span [-6, 6] and it uses sin(x), about two periods over the data;
  ours span [-1, 1], so the sine is taken of pi x (one period) rather than of x, which is
  almost linear there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from app.data.datasets import Dataset, make_fnn_dataset

#: the multi-class data sets
CLASS_DATASETS: tuple[str, ...] = ("blobs", "spirals", "rings")
MIN_CLASSES, MAX_CLASSES = 2, 5
#: input features in the order they feed the network (URL keys)
FEATURES: tuple[str, ...] = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")
FEATURE_LABELS: dict[str, str] = {
    "x1": "x₁", "x2": "x₂", "x1_sq": "x₁²", "x2_sq": "x₂²", "x1_x2": "x₁x₂",
    "sin_x1": "sin(πx₁)", "sin_x2": "sin(πx₂)",
}
DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")
#: the largest test fraction (training keeps at least one sample per class anyway)
MAX_TEST_FRACTION = 0.9


@dataclass(frozen=True)
class LabelledPoints:
    """2-D points (n, 2) and their class (n,) in 0..classes-1."""

    name: str
    points: np.ndarray
    labels: np.ndarray
    classes: int

    @property
    def size(self) -> int:
        return int(self.points.shape[0])


def check_classes(classes: int) -> int:
    """``classes`` as an int in 2..5, else ``ValueError`` naming ``classes``."""
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)):
        raise ValueError(f"classes must be a whole number from {MIN_CLASSES} to {MAX_CLASSES}, "
                         f"got {classes!r}")
    if not MIN_CLASSES <= int(classes) <= MAX_CLASSES:
        raise ValueError(f"classes must be from {MIN_CLASSES} to {MAX_CLASSES}, got {classes}")
    return int(classes)


def make_class_points(name: str, samples: int, classes: int, noise: float,
                      seed: int) -> LabelledPoints:
    """A seeded 2-D data set with ``classes`` balanced classes (see the module docstring).

    >>> data = make_class_points("blobs", 9, 3, 0.1, seed=0)
    >>> data.points.shape, sorted(np.bincount(data.labels).tolist())
    ((9, 2), [3, 3, 3])
    """
    if name not in CLASS_DATASETS:
        raise ValueError(f"unknown data set {name!r}: choose one of {', '.join(CLASS_DATASETS)}")
    K = check_classes(classes)
    if int(samples) < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    n = int(samples)
    rng = np.random.default_rng([seed, 4])
    labels = rng.permutation(np.arange(n) % K)
    if name == "blobs":
        angle = 2 * np.pi * labels / K + np.pi / 4
        centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        points = centres + 0.2 * rng.standard_normal((n, 2))
    elif name == "spirals":
        turn = rng.uniform(0.0, 1.0, n)
        radius = 0.1 + 0.9 * turn
        angle = 3.0 * np.pi * turn + 2 * np.pi * labels / K
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    else:  # rings
        radius = (labels + 0.6 * rng.uniform(0.0, 1.0, n)) / (K - 0.4)
        angle = rng.uniform(0.0, 2 * np.pi, n)
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    points = points + 0.5 * float(noise) * rng.standard_normal(points.shape)
    return LabelledPoints(name, points, labels.astype(int), K)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """Rows e_{c_p}: (n, classes) of 0.0 and 1.0.

    >>> one_hot(np.array([2, 0]), 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}, found {labels.min()} to "
                         f"{labels.max()}")
    targets = np.zeros((labels.size, int(classes)))
    targets[np.arange(labels.size), labels.astype(int)] = 1.0
    return targets


def class_targets(labels: np.ndarray, classes: int, loss: str,
                  output_activation: str = "identity") -> np.ndarray:
    """The targets the core trains on: one-hot rows for ``loss="cross_entropy"``; for the
    squared loss one-hot rows with the output activation's label values, (0, 1) for a
    sigmoid and (-1, 1) otherwise.

    >>> class_targets(np.array([1]), 3, "mse").tolist()
    [[-1.0, 1.0, -1.0]]
    """
    hot = one_hot(labels, classes)
    if loss == "cross_entropy" or output_activation == "sigmoid":
        return hot
    if loss != "mse":
        raise ValueError(f"loss must be one of 'mse', 'cross_entropy', got {loss!r}")
    return 2.0 * hot - 1.0


def predicted_classes(outputs: np.ndarray,
                      label_values: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Class of each row of ``outputs`` (n, M): argmax for M >= 2; for M = 1, 1 where the
    output is above the midpoint of ``label_values``.

    >>> predicted_classes(np.array([[0.1, 0.7, 0.2], [3.0, -1.0, 0.0]])).tolist()
    [1, 0]
    >>> predicted_classes(np.array([[0.3], [-0.2]])).tolist()
    [1, 0]
    """
    outputs = np.asarray(outputs, dtype=float)
    if outputs.ndim != 2 or outputs.shape[1] < 1:
        raise ValueError(f"outputs must be (n, M) with M >= 1, got shape {outputs.shape}")
    if outputs.shape[1] == 1:
        middle = 0.5 * (label_values[0] + label_values[1])
        return (outputs[:, 0] > middle).astype(int)
    return np.argmax(outputs, axis=1)


def accuracy(outputs: np.ndarray, labels: np.ndarray,
             label_values: tuple[float, float] = (-1.0, 1.0)) -> float:
    """Fraction of rows whose predicted class is ``labels``; NaN for no rows.

    >>> accuracy(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]), np.array([1, 0, 1]))
    0.6666666666666666
    """
    labels = np.asarray(labels).astype(int)
    if labels.size == 0:
        return float("nan")
    return float(np.mean(predicted_classes(outputs, label_values) == labels))


def labels_of_targets(Z: np.ndarray, label_values: tuple[float, float] = (-1.0, 1.0)
                      ) -> np.ndarray:
    """The class of each target row: argmax of one-hot rows (M >= 2), else the nearer of the
    two label values (M = 1, the two-class sets of :mod:`app.data.datasets`)."""
    return predicted_classes(Z, label_values)


def split_indices(labels: np.ndarray, test_fraction: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows), each sorted: a stratified, seeded split (module docstring).

    >>> train, test = split_indices(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.25, seed=0)
    >>> len(train), len(test)
    (6, 2)
    """
    fraction = float(test_fraction)
    if not 0.0 <= fraction <= MAX_TEST_FRACTION:
        raise ValueError(f"test_fraction must be from 0 to {MAX_TEST_FRACTION}, "
                         f"got {test_fraction!r}")
    labels = np.asarray(labels).astype(int)
    rng = np.random.default_rng([seed, 5])
    test = []
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        count = min(int(round(fraction * rows.size)), rows.size - 1)
        test.append(rows[:count])
    test_rows = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=int)
    train_rows = np.setdiff1d(np.arange(labels.size), test_rows)
    return train_rows, test_rows.astype(int)


def check_features(features: Iterable[str] | str) -> tuple[str, ...]:
    """The chosen features in :data:`FEATURES` order (a comma-separated string or names);
    ``ValueError`` naming ``features`` for an unknown name or an empty choice.

    >>> check_features("x1_x2,x1")
    ('x1', 'x1_x2')
    """
    if isinstance(features, str):
        features = [name.strip() for name in features.split(",") if name.strip()]
    chosen = set()
    for name in features:
        if name not in FEATURES:
            raise ValueError(f"features: unknown feature {name!r}; choose from "
                             f"{', '.join(FEATURES)}")
        chosen.add(name)
    if not chosen:
        raise ValueError(f"features: choose at least one of {', '.join(FEATURES)}")
    return tuple(name for name in FEATURES if name in chosen)


def feature_map(points: np.ndarray, features: Iterable[str] | str = DEFAULT_FEATURES
                ) -> np.ndarray:
    """The network inputs (n, N) of 2-D ``points`` (n, 2), one column per chosen feature.

    >>> feature_map(np.array([[0.5, -2.0]]), ("x1", "x1_x2", "x2_sq")).tolist()
    [[0.5, 4.0, -1.0]]
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be (n, 2), got shape {points.shape}")
    x1, x2 = points[:, 0], points[:, 1]
    columns = {
        "x1": lambda: x1, "x2": lambda: x2, "x1_sq": lambda: x1 * x1, "x2_sq": lambda: x2 * x2,
        "x1_x2": lambda: x1 * x2, "sin_x1": lambda: np.sin(np.pi * x1),
        "sin_x2": lambda: np.sin(np.pi * x2),
    }
    return np.stack([columns[name]() for name in check_features(features)], axis=1)


# --- data sets the training session uses ---------------------------------------------------
#: the two-class sets of :mod:`app.data.datasets` (they have exactly two classes)
TWO_CLASS_DATASETS: tuple[str, ...] = ("xor", "circles")


@dataclass(frozen=True)
class ClassDataset(Dataset):
    """A classification :class:`~app.data.datasets.Dataset` whose ``X``, ``Z`` are the training
    rows, with the class of every row, the plane coordinates behind the features and the
    held-out test rows.

    ``points``/``test_points`` are the 2-D points (None when the data has no plane: an
    upload with more than two feature columns); ``features`` the chosen feature map (None:
    the inputs are the columns as given). ``labels`` (inherited) are the two target values
    of a one-output two-class set, else (0, 1) or (-1, 1) of the one-hot rows.
    """

    class_labels: np.ndarray | None = None
    classes: int = 2
    class_names: tuple[str, ...] = ()
    points: np.ndarray | None = None
    features: tuple[str, ...] | None = None
    test_X: np.ndarray | None = None
    test_Z: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    test_points: np.ndarray | None = None

    @property
    def test_size(self) -> int:
        return 0 if self.test_X is None else int(self.test_X.shape[0])


def output_width(classes: int, loss: str) -> int:
    """M: one output for two classes under the squared loss (targets = the two label
    values, as in :mod:`app.data.datasets`), else one per class (one-hot; softmax for
    cross-entropy).

    >>> output_width(2, "mse"), output_width(2, "cross_entropy"), output_width(4, "mse")
    (1, 2, 4)
    """
    return 1 if classes == 2 and loss == "mse" else int(classes)


def targets_of(labels: np.ndarray, classes: int, loss: str, output_activation: str
               ) -> tuple[np.ndarray, tuple[float, float]]:
    """(targets (n, M), their two values) for ``labels``: see :func:`output_width`."""
    low, high = (0.0, 1.0) if loss == "cross_entropy" or output_activation == "sigmoid" \
        else (-1.0, 1.0)
    if output_width(classes, loss) == 1:
        return np.where(np.asarray(labels) == 1, high, low)[:, None].astype(float), (low, high)
    return class_targets(labels, classes, loss, output_activation), (low, high)


def assemble(name: str, inputs: np.ndarray, labels: np.ndarray, classes: int, *,
             loss: str, output_activation: str, test_fraction: float, seed: int,
             features: Iterable[str] | str | None = None,
             class_names: tuple[str, ...] = ()) -> ClassDataset:
    """A :class:`ClassDataset` from inputs (n, 2) (points of the plane, mapped through
    ``features``) or (n, N) (``features=None``, used as given), labels (n,) in
    0..classes-1, split by :func:`split_indices`."""
    inputs = np.asarray(inputs, dtype=float)
    labels = np.asarray(labels).astype(int)
    plane = inputs.shape[1] == 2
    if features is not None:
        if not plane:
            raise ValueError(f"features need 2-D points; this data has {inputs.shape[1]} "
                             "input columns")
        features = check_features(features)
        X = feature_map(inputs, features)
    else:
        X = inputs
    Z, values = targets_of(labels, classes, loss, output_activation)
    train, test = split_indices(labels, test_fraction, seed)
    points = inputs if plane else None
    return ClassDataset(
        name=name, X=X[train], Z=Z[train], classification=True, labels=values,
        class_labels=labels[train], classes=int(classes),
        class_names=tuple(class_names) or tuple(str(c) for c in range(classes)),
        points=None if points is None else points[train], features=features,
        test_X=X[test], test_Z=Z[test], test_labels=labels[test],
        test_points=None if points is None else points[test],
    )


def make_classification_data(name: str, samples: int, classes: int, noise: float, seed: int,
                             *, loss: str = "mse", output_activation: str = "identity",
                             features: Iterable[str] | str = DEFAULT_FEATURES,
                             test_fraction: float = 0.0) -> ClassDataset:
    """The classification set ``name`` with ``classes`` classes, its targets for ``loss``,
    its features and its train/test split.

    Two classes of a set that :mod:`app.data.datasets` knows (xor, circles, spirals, blobs) are
    exactly its points and classes, so the two-class default is unchanged; more classes
    come from :func:`make_class_points` (blobs, spirals, rings).

    >>> data = make_classification_data("spirals", 40, 3, 0.1, 0, loss="cross_entropy",
    ...                                 features="x1,x2,x1_x2", test_fraction=0.25)
    >>> data.X.shape, data.Z.shape, data.test_X.shape
    ((30, 3), (30, 3), (10, 3))
    """
    classes = check_classes(classes)
    if name in TWO_CLASS_DATASETS + ("spirals", "blobs") and classes == 2:
        binary = make_fnn_dataset(name, samples, noise, seed, "sigmoid")
        points, labels = binary.X, binary.Z[:, 0].astype(int)
    elif name in TWO_CLASS_DATASETS:
        raise ValueError(f"the {name} data has 2 classes, not {classes}: choose classes=2 or "
                         f"one of {', '.join(CLASS_DATASETS)}")
    else:
        made = make_class_points(name, samples, classes, noise, seed)
        points, labels = made.points, made.labels
    return assemble(name, points, labels, classes, loss=loss,
                    output_activation=output_activation, test_fraction=test_fraction,
                    seed=seed, features=features)


def evaluate(net, X: np.ndarray, Z: np.ndarray, labels: np.ndarray,
             label_values: tuple[float, float]) -> tuple[float, float]:
    """(loss E of ``net`` on these rows, its accuracy); (NaN, NaN) for no rows."""
    if X is None or len(X) == 0:
        return float("nan"), float("nan")
    outputs = np.asarray(net.forward(X).output)
    return float(net.loss(X, Z)), accuracy(outputs, labels, label_values)
