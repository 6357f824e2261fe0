"""A student's own data: an uploaded CSV file turned into a classification data set.

Accepted files (:func:`parse_csv`): UTF-8 text (a byte-order mark is allowed), cells
separated by commas (or semicolons or tabs, read from the first line), an optional header
row, then one sample per row: two or more numeric feature columns and one label column.
The label column is the one whose header is ``label``, ``class``, ``target`` or ``y``
(any case), else the last column; labels may be numbers or words, and 2 to
:data:`MAX_CLASSES` distinct labels make the classes 0..K-1 in sorted order (numerically
if every label is a number). The first row is a header when one of its feature cells (any
cell but the last) is not a number.

Limits: at most :data:`MAX_BYTES` bytes, :data:`MAX_ROWS` data rows and
:data:`MAX_FEATURES` feature columns. Every problem raises :class:`UploadError` (a
``ValueError``) whose message names the row (as a line number of the file, 1-based, the
header included) and the column (by its header name, or its 1-based number); nothing else
is raised, and nothing outside the returned value is touched, so a bad file can never
disturb a running model.

The features are kept as given (``raw``) and rescaled per column to [-1, 1] (``points``,
x -> 2 (x - min) / (max - min) - 1; a constant column becomes 0), the range of the built-in
data sets, so that the same learning rates and plots work.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from app.data.classification import MAX_CLASSES, ClassDataset, assemble

MAX_BYTES = 2_000_000
MAX_ROWS = 5_000
MAX_FEATURES = 16
LABEL_NAMES = ("label", "class", "target", "y")
MISSING = ("", "na", "nan", "n/a", "null", "none", "?")


class UploadError(ValueError):
    """Why an uploaded file cannot be used; ``str(error)`` is the message for the user."""


@dataclass(frozen=True)
class UploadedData:
    """An uploaded classification data set: features (n, N) as given and rescaled to
    [-1, 1], labels (n,) in 0..K-1 and the names of columns and classes."""

    name: str
    raw: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    feature_names: tuple[str, ...]
    label_name: str
    class_names: tuple[str, ...]

    @property
    def classes(self) -> int:
        return len(self.class_names)

    @property
    def size(self) -> int:
        return int(self.raw.shape[0])


def too_large(size: int) -> str:
    """Why a file of ``size`` bytes is refused.

    >>> too_large(3_000_000)
    'the file has 3,000,000 bytes; at most 2,000,000 are allowed'
    """
    return f"the file has {size:,} bytes; at most {MAX_BYTES:,} are allowed"


def decode(content: bytes) -> str:
    """``content`` as text: UTF-8 (with or without a byte-order mark), else UploadError."""
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise UploadError(f"the upload must be the file's bytes, got {type(content).__name__}")
    content = bytes(content)
    if len(content) > MAX_BYTES:
        raise UploadError(too_large(len(content)))
    if not content.strip():
        raise UploadError("the file is empty: it needs a label column and two or more "
                          "feature columns, one sample per row")
    if b"\x00" in content:
        raise UploadError("the file is not a text file (it holds NUL bytes): save it as CSV "
                          "text (UTF-8)")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise UploadError(f"the file is not UTF-8 text: byte {error.start + 1} (line {line}) "
                          "cannot be read; save it as CSV with UTF-8 encoding") from None


def number(cell: str) -> float | None:
    """The cell's value if it is a number (finite or not), else None."""
    try:
        return float(cell)
    except ValueError:
        return None


def parse_csv(content: bytes, name: str = "uploaded") -> UploadedData:
    """Read an uploaded CSV (module docstring); UploadError with the reason otherwise.

    >>> data = parse_csv(b"x1,x2,label\\n0,1,a\\n2,3,b\\n4,5,a\\n")
    >>> data.feature_names, data.class_names, data.labels.tolist()
    (('x1', 'x2'), ('a', 'b'), [0, 1, 0])
    >>> data.points.tolist()
    [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]
    """
    text = decode(content)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = ";" if ";" in first_line else ("\t" if "\t" in first_line else ",")
    try:
        rows = [(number_, row) for number_, row in
                enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
                if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise UploadError(f"the file is not valid CSV: {error}") from None
    if not rows:
        raise UploadError("the file is empty: it needs a label column and two or more "
                          "feature columns, one sample per row")
    width = len(rows[0][1])
    if width < 3:
        raise UploadError(f"the file has {width} column{'s' if width != 1 else ''}; it needs "
                          "at least two feature columns and a label column (e.g. x1,x2,label)")
    if width - 1 > MAX_FEATURES:
        raise UploadError(f"the file has {width - 1} feature columns; at most {MAX_FEATURES} "
                          "are allowed")
    first = [cell.strip() for cell in rows[0][1]]
    header = any(number(cell) is None for cell in first[:-1])
    if header:
        names = [cell or f"column {j + 1}" for j, cell in enumerate(first)]
        body = rows[1:]
    else:
        names = [f"column {j + 1}" for j in range(width)]
        body = rows
    lowered = [cell.lower() for cell in names]
    label = next((lowered.index(key) for key in LABEL_NAMES if header and key in lowered),
                 width - 1)
    if not body:
        raise UploadError("the file has a header row but no data rows")
    if len(body) > MAX_ROWS:
        raise UploadError(f"the file has {len(body):,} data rows; at most {MAX_ROWS:,} are "
                          "allowed")
    features = [j for j in range(width) if j != label]
    values = np.empty((len(body), len(features)))
    labels: list[str] = []
    for i, (line, row) in enumerate(body):
        if len(row) != width:
            raise UploadError(f"row {line} has {len(row)} cells, but the "
                              f"{'header' if header else 'first row'} has {width}")
        for column, j in enumerate(features):
            cell = row[j].strip()
            if cell.lower() in MISSING:
                raise UploadError(f"row {line}, column '{names[j]}': missing value")
            value = number(cell)
            if value is None:
                raise UploadError(f"row {line}, column '{names[j]}': '{cell}' is not a number")
            if not math.isfinite(value):
                raise UploadError(f"row {line}, column '{names[j]}': {cell} is not a finite "
                                  "number")
            values[i, column] = value
        cell = row[label].strip()
        if cell.lower() in MISSING:
            raise UploadError(f"row {line}, column '{names[label]}': missing label")
        labels.append(cell)
    return UploadedData(name=name, raw=values, points=rescale(values),
                        feature_names=tuple(names[j] for j in features),
                        label_name=names[label], **classes_of(labels, names[label]))


def classes_of(labels: list[str], column: str) -> dict:
    """``labels`` (n,) as 0..K-1 and ``class_names`` (sorted; numerically if all numbers)."""
    values = [number(cell) for cell in labels]
    if all(value is not None for value in values):
        distinct = sorted(set(values))
        names = tuple(f"{value:g}" for value in distinct)
        index = {value: c for c, value in enumerate(distinct)}
        codes = [index[value] for value in values]
    else:
        names = tuple(sorted(set(labels)))
        index = {cell: c for c, cell in enumerate(names)}
        codes = [index[cell] for cell in labels]
    if len(names) < 2:
        raise UploadError(f"the label column '{column}' holds one class only ('{names[0]}'): a "
                          "classifier needs at least two")
    if len(names) > MAX_CLASSES:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise UploadError(f"the label column '{column}' holds {len(names)} classes ({shown}); "
                          f"at most {MAX_CLASSES} are allowed")
    return {"labels": np.asarray(codes, dtype=int), "class_names": names}


def rescale(values: np.ndarray) -> np.ndarray:
    """Each column mapped linearly onto [-1, 1]; a constant column becomes 0."""
    low, high = values.min(axis=0), values.max(axis=0)
    span = high - low
    scaled = np.zeros_like(values)
    varying = span > 0
    scaled[:, varying] = 2.0 * (values[:, varying] - low[varying]) / span[varying] - 1.0
    return scaled


def upload_dataset(data: UploadedData, *, loss: str = "mse",
                   output_activation: str = "identity",
                   features: tuple[str, ...] | str | None = None, test_fraction: float = 0.0,
                   seed: int = 0) -> ClassDataset:
    """The training data of an upload (rescaled features, its split and targets for
    ``loss``); ``features`` (Playground's map) only for two feature columns, else None."""
    if features is not None and data.points.shape[1] != 2:
        features = None
    return assemble(data.name, data.points, data.labels, data.classes, loss=loss,
                    output_activation=output_activation, test_fraction=test_fraction,
                    seed=seed, features=features, class_names=data.class_names)


#: the network inputs of the feature map (``app.data.classification.FEATURES``) in an upload's
#: column names ``a`` (the first) and ``b`` (the second)
COLUMN_FEATURES = {"x1": "{a}", "x2": "{b}", "x1_sq": "{a}²", "x2_sq": "{b}²",
                   "x1_x2": "{a}·{b}", "sin_x1": "sin(π·{a})", "sin_x2": "sin(π·{b})"}


def input_names(data: UploadedData, features: tuple[str, ...] | None) -> list[str]:
    """The names of the network's inputs on an upload, in its column names (raw text: the
    caller shows them as text); ``features`` is the dataset's feature map (None: the columns
    as given).

    >>> data = parse_csv(b"height,weight,label\\n0,1,a\\n2,3,b\\n")
    >>> input_names(data, ("x1", "x1_x2")), input_names(data, None)
    (['height', 'height·weight'], ['height', 'weight'])
    """
    if features is None:
        return list(data.feature_names)
    a, b = data.feature_names[:2]
    return [COLUMN_FEATURES[key].format(a=a, b=b) for key in features]


def plane_names(data: UploadedData | None) -> tuple[str, str]:
    """The names of the two axes of the data's plane: an upload's first two columns, else
    x₁ and x₂."""
    if data is None or len(data.feature_names) < 2:
        return "x₁", "x₂"
    return data.feature_names[0], data.feature_names[1]
