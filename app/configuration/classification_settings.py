"""The settings of classification beyond the paper: loss, classes, features, weight decay,
train/test split. :class:`app.configuration.settings.Settings` inherits them, so each is a URL
value.

- ``loss``: "mse" (the paper's squared loss) or "cross_entropy" (softmax over the last
  level's outputs, one-hot targets; ``docs/contract.md``, "Losses beyond the paper").
- ``classes``: K = 2..5 for the 2-D classification sets (xor and circles have two).
- ``features``: Playground's input features, comma-separated keys of
  :data:`app.data.classification.FEATURES`; N = their number.
- ``weight_decay``: lam >= 0, adding lam/2 sum_k ||W^(k)||^2 to E (lam I to every H_W).
- ``test_fraction``: the share of each class held out as test data; ``show_test``: draw it.
- ``network_shows``: what the network view's edges show (``app/views/network.py``).

:func:`classification_widths` gives the FNN's first and last widths (N, M) that these
settings imply for a data set, and the values that had to change for them to fit together;
:func:`app.configuration.widths.network_widths` fits the architecture to them.
"""

from __future__ import annotations

import param

from app.configuration.playground_settings import sample_seed
from app.data.classification import (
    CLASS_DATASETS,
    FEATURES,
    MAX_CLASSES,
    MAX_TEST_FRACTION,
    MIN_CLASSES,
    TWO_CLASS_DATASETS,
    check_features,
    output_width,
)

#: a comma-separated list of feature keys (checked again, and ordered, by check_features)
FEATURE_KEYS = "|".join(FEATURES)
FEATURE_PATTERN = rf"^\s*({FEATURE_KEYS})\s*(,\s*({FEATURE_KEYS})\s*)*$"
#: the weight-decay stops of the control (0 = none)
WEIGHT_DECAYS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
#: what the text settings accept, for their refusal messages
TEXT_FORMS = {"features": "feature keys joined by ',', e.g. x1,x2,x1_x2 (from "
                          + ", ".join(FEATURES) + ")"}
#: the settings that change the data or the model: changing one rebuilds the session
STRUCTURAL = ("loss", "classes", "features", "test_fraction")
#: the data set value of an uploaded CSV file in use (``app/data/upload.py``): the file brings
#: its own widths and classes, and a link cannot bring the file back
UPLOAD = "upload"


class ClassificationSettings(param.Parameterized):
    """Loss, classes, features, weight decay and the train/test split (module docstring)."""

    loss = param.Selector(default="mse", objects=["mse", "cross_entropy"],
                          doc="mse (squared, the paper's) or cross_entropy (softmax)")
    classes = param.Integer(default=2, bounds=(MIN_CLASSES, MAX_CLASSES),
                            doc="number of classes K of the 2-D data sets")
    features = param.String(default="x1,x2", regex=FEATURE_PATTERN,
                            doc="input features, e.g. x1,x2,x1_x2,sin_x1")
    weight_decay = param.Number(default=0.0, bounds=(0.0, 1.0),
                                doc="L2 weight decay lambda (adds lambda I to H_W)")
    test_fraction = param.Number(default=0.0, bounds=(0.0, MAX_TEST_FRACTION),
                                 doc="share of each class held out as test data")
    show_test = param.Boolean(default=True, doc="draw the test data")
    network_shows = param.Selector(default="W", objects=["W", "G", "H"],
                                   doc="network view edges: W, gradient G, Hessian diagonal H")


def is_plane_dataset(name: str) -> bool:
    """True for the 2-D classification sets (features and classes apply)."""
    return name in TWO_CLASS_DATASETS + CLASS_DATASETS


def classification_widths(values: dict
                          ) -> tuple[int | None, int | None, dict[str, tuple[object, str]]]:
    """(N, M, {setting: (value it must take, why)}) for a complete set of FNN settings;
    N and M are None for an uploaded file (:data:`UPLOAD`), which brings its own.

    >>> classification_widths(dict(dataset="blobs", classes=3, loss="mse", features="x1,x2"))
    (2, 3, {})
    >>> N, M, changes = classification_widths(dict(dataset="regression", classes=3,
    ...                                            loss="cross_entropy", features="x1"))
    >>> N, M, sorted(changes)
    (1, 1, ['loss'])
    """
    changes: dict[str, tuple[object, str]] = {}
    dataset = values["dataset"]
    if dataset == UPLOAD:  # the file's widths and classes, which the settings already hold
        return None, None, changes
    if not is_plane_dataset(dataset):  # regression: one input, one real output
        if values["loss"] != "mse":
            changes["loss"] = ("mse", f"the {dataset} data has no classes: cross-entropy needs "
                                      "class labels")
        return 1, 1, changes
    classes = int(values["classes"])
    if dataset in TWO_CLASS_DATASETS and classes != 2:
        changes["classes"] = (2, f"the {dataset} data has 2 classes; blobs, spirals and rings "
                                 "take 2 to 5")
        classes = 2
    features = check_features(values["features"])
    canonical = ",".join(features)
    if canonical != values["features"]:
        changes["features"] = (canonical, "features are listed once each, in the order "
                                          + ", ".join(FEATURES))
    return len(features), output_width(classes, values["loss"]), changes


def make_fnn_data(settings, uploaded=None):
    """The FNN's data for ``settings``: an upload (``app/data/upload.py``) when given, else a 2-D
    classification set (:func:`app.data.classification.make_classification_data`) or the 1-D
    regression of :mod:`app.data.datasets`."""
    from app.data.classification import make_classification_data
    from app.data.datasets import make_fnn_dataset
    from app.data.upload import upload_dataset

    s = settings
    if uploaded is None and s.dataset == UPLOAD:
        raise ValueError("no uploaded file is in use: choose a CSV file again, or a data set")
    if uploaded is not None:
        return upload_dataset(uploaded, loss=s.loss, output_activation=s.output_activation,
                              features=s.features, test_fraction=s.test_fraction, seed=s.seed)
    seed = sample_seed(s.seed, getattr(s, "data_seed", 0))  # the sample asked for
    if is_plane_dataset(s.dataset):
        return make_classification_data(
            s.dataset, s.samples, s.classes, s.noise, seed, loss=s.loss,
            output_activation=s.output_activation, features=s.features,
            test_fraction=s.test_fraction)
    return make_fnn_dataset(s.dataset, s.samples, s.noise, seed, s.output_activation)

