"""The network's widths: the architecture text, and the one rule that fits it to the data.

A network's layer sizes are (N, m1, ..., M). The data decide the ends: N is the input width
(the number of input features of a 2-D set, 1 for the regression, the inputs of an uploaded
file, the sequence task's inputs for the RNN) and M the output width (1 for the squared
loss on two classes or on a real target, K for K classes otherwise, the task's outputs for
the RNN). The hidden widths are the architecture text's for the FNN (``"2-8-8-1"``: two levels
of 8 units) and ``levels`` times ``hidden_width`` for the RNN. :func:`network_widths` owns
this rule; the settings (:func:`app.configuration.settings.settle`), the dashboard (a data set
chosen by
hand) and the training session (the model it builds) all ask it.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.configuration.classification_settings import classification_widths
from app.configuration.quoting import quoted


class ArchitectureError(ValueError):
    """An architecture string that does not describe a network (shown to the user)."""


def parse_architecture(text: str, max_width: int = 256, max_levels: int = 8) -> tuple[int, ...]:
    """Parse ``"2-8-8-1"`` into layer sizes ``(N, m1, ..., M)``.

    >>> parse_architecture("2-8-8-1")
    (2, 8, 8, 1)
    >>> parse_architecture(" 2 - 16 -1 ")
    (2, 16, 1)
    """
    example = "e.g. 2-8-8-1 (2 inputs, two levels of 8 units, 1 output)"
    text = str(text).strip()
    parts = [part.strip() for part in text.replace(",", "-").split("-")]
    if not text:
        raise ArchitectureError(f"the architecture is empty: give the widths, {example}")
    if len(parts) < 2:
        if parts[0].isdigit():
            raise ArchitectureError(f"one width is not a network: give at least two widths "
                                    f"(inputs and outputs) joined by '-', {example}")
        raise ArchitectureError(f"{quoted(text)} is not a list of widths: give whole numbers "
                                f"joined by '-', {example}")
    sizes = []
    for part in parts:
        if not part:
            raise ArchitectureError(f"a width is missing in {quoted(text)} (two '-' in a row, "
                                    f"or one at an end): {example}")
        if not (part.isascii() and part.isdigit()):
            raise ArchitectureError(f"{quoted(part)} is not a positive whole number: the "
                                    f"architecture is widths joined by '-', {example}")
        if len(part.lstrip("0")) > len(str(max_width)):
            raise ArchitectureError(f"width {quoted(part)} is above the limit of {max_width} "
                                    "units")
        width = int(part)
        if width < 1:
            raise ArchitectureError(f"width {width} is too small: every width must be at least 1")
        if width > max_width:
            raise ArchitectureError(f"width {width} is above the limit of {max_width} units")
        sizes.append(width)
    if len(sizes) - 1 > max_levels:
        raise ArchitectureError(f"{len(sizes) - 1} levels is too deep: at most {max_levels} "
                                f"levels ({max_levels + 1} widths)")
    return tuple(sizes)


def format_architecture(sizes: tuple[int, ...]) -> str:
    """``(2, 8, 1)`` -> ``"2-8-1"``."""
    return "-".join(str(int(size)) for size in sizes)


def network_widths(values: Mapping, data=None, model: str | None = None) -> tuple[int, ...]:
    """The layer sizes (N, m1, ..., M) that the settings ``values`` ask for (module docstring).

    N and M are those of ``data`` (a :class:`app.data.datasets.Dataset`) when given. Without
    data they are those the settings imply for a built-in FNN data set
    (:func:`classification_widths`); for an uploaded file, whose widths the architecture
    text already holds (:meth:`app.configuration.data_choice.DataChoice.use_upload`), the text's
    own.
    ``model`` ("fnn" or "rnn") replaces ``values["model"]``: the FNN's widths are kept
    fitted while an RNN trains, so that switching back works. ArchitectureError for an FNN
    architecture text that is no list of widths; ValueError for an RNN without data.

    >>> values = dict(model="fnn", architecture="2-8-8-1", dataset="blobs", classes=3,
    ...               loss="cross_entropy", features="x1,x2,x1_x2", hidden_width=4, levels=2)
    >>> network_widths(values)
    (3, 8, 8, 3)
    """
    model = values["model"] if model is None else model
    if data is not None:
        inputs, outputs = data.input_width, data.output_width
    elif model == "rnn":
        raise ValueError("an RNN's first and last widths are its sequence task's: give its data")
    else:
        inputs, outputs, _ = classification_widths(values)
    if model == "rnn":
        return (inputs, *(int(values["hidden_width"]),) * int(values["levels"]), outputs)
    sizes = parse_architecture(values["architecture"])
    if inputs is None:  # an uploaded file in use: the settings hold its widths
        return sizes
    return (inputs, *sizes[1:-1], outputs)


def data_widths_text(name: str, sizes: tuple[int, ...]) -> str:
    """Why the ends of ``sizes`` are what they are, in words.

    >>> data_widths_text("xor", (2, 8, 1))
    'the xor data has 2 input(s) and 1 output(s)'
    """
    return f"the {name} data has {sizes[0]} input(s) and {sizes[-1]} output(s)"
