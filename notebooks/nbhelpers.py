"""Helpers shared by the notebooks of this folder: finite-difference references and pictures.

A notebook imports them with ``from nbhelpers import ...``: its kernel starts in ``notebooks/``
(JupyterLab under ``make lab``, nbclient in ``tests/test_notebooks.py``), which puts this folder
on ``sys.path``. ``tests/test_notebooks.py`` checks the references against functions whose
derivatives are known in closed form.

The references use nothing but the loss. For a loss E(w) of a flat parameter vector w:

- gradient, central differences:  dE/dw_i ~ (E(w + h e_i) - E(w - h e_i)) / 2h,  error O(h^2);
- Hessian, four-point central differences
      H_h[i, j] = (E(w + h e_i + h e_j) - E(w + h e_i - h e_j)
                   - E(w - h e_i + h e_j) + E(w - h e_i - h e_j)) / 4h^2
  at h and 2h, combined by Richardson extrapolation (4 H_h - H_2h) / 3, which cancels the
  O(h^2) term: error O(h^4) + O(eps / h^2).

w is vec(W^(k)) (or vec(U^(k))) in row-major order, as ``hessian_core`` flattens its Hessians:
entry ``i * n + j`` is w_ij. The layer losses move that one block of a copy of the network and
keep everything else of it (activations, loss, every other parameter).

``inline_panel_stylesheets()`` makes the plots draw without internet; see its docstring.

Pictures fit JupyterLab's notebook at a 1280 px window with the file browser open: its output area
is about 850 px wide, so a row of plots is at most ``ROW_WIDTH`` px. Legends sit below the plot
frame (``LEGEND_BELOW``), where they cover no data, and colour bars label their ticks in one format
(``readable_ticks()``: 0.003 or 3e-3, never 3.000e-3).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Literal

import holoviews as hv
import numpy as np
import panel as pn
from bokeh.models import CustomJSTickFormatter

from app import compat
from hessian_core import FNN, RNN

Loss = Callable[[np.ndarray], float]

#: the widest row of plots that fits, with its margins, the output area of JupyterLab's notebook
#: (file browser open) at a 1280 px window, which is about 850 px wide
ROW_WIDTH = 740
#: plot options that put the legend under the frame, in two columns with room between entries
LEGEND_BELOW = {"legend_position": "bottom", "legend_cols": 2, "legend_opts": {"spacing": 16}}

# One format for all ticks of an axis, chosen from the largest tick: fixed point where it is
# between 0.01 and 10^6, else one power of ten for all (0, 1e-3, 2e-3, ...); as few decimals as
# the ticks need, the same number for each.
_READABLE_TICKS_JS = """
const size = Math.max(...ticks.map((value) => Math.abs(value)));
if (size === 0 || tick === 0) return "0";
const power = Math.floor(Math.log10(size));
const unit = power >= -2 && power < 6 ? 1 : 10 ** power;
let digits = 0;
while (digits < 8 && !ticks.every((value) => {
    const scaled = (value / unit) * 10 ** digits;
    return Math.abs(scaled - Math.round(scaled)) < 1e-6;
})) digits += 1;
const text = (tick / unit).toFixed(digits);
return unit === 1 ? text : text + "e" + power;
"""


def readable_ticks() -> CustomJSTickFormatter:
    """A Bokeh tick formatter that writes every tick of an axis in one readable format: 0.02,
    0.04 or 1e-3, 2e-3 (never Bokeh's 3.000e-3 next to 0)."""
    return CustomJSTickFormatter(code=_READABLE_TICKS_JS)


def central_difference_gradient(loss: Loss, w: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d loss / d w by central differences: (loss(w + h e_i) - loss(w - h e_i)) / 2h."""
    gradient = np.empty(w.size)
    for i in range(w.size):
        step = np.zeros(w.size)
        step[i] = h
        gradient[i] = (loss(w + step) - loss(w - step)) / (2 * h)
    return gradient


def central_difference_hessian(loss: Loss, w: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """d^2 loss / dw_i dw_j from the loss alone: four-point central differences with steps h and
    2h, combined by Richardson extrapolation (4 H_h - H_2h) / 3, error O(h^4) + O(eps / h^2)."""
    n = w.size

    def four_point(step: float) -> np.ndarray:
        e = np.eye(n) * step
        hessian = np.empty((n, n))
        for i in range(n):
            for j in range(i, n):
                hessian[i, j] = hessian[j, i] = (
                    loss(w + e[i] + e[j])
                    - loss(w + e[i] - e[j])
                    - loss(w - e[i] + e[j])
                    + loss(w - e[i] - e[j])
                ) / (4 * step * step)
        return hessian

    return (4 * four_point(h) - four_point(2 * h)) / 3


def fnn_layer_loss(net: FNN, X: np.ndarray, Z_target: np.ndarray, layer: int) -> Loss:
    """E as a function of vec(W^(layer)) (row-major), every other parameter held fixed."""

    def loss(w: np.ndarray) -> float:
        moved = copy.copy(net)  # the same network (activations, loss, ...) with one block moved
        moved.weights = list(net.weights)
        moved.weights[layer - 1] = w.reshape(net.weights[layer - 1].shape)
        return moved.loss(X, Z_target)

    return loss


def rnn_layer_loss(
    rnn: RNN, X: np.ndarray, Z_target: np.ndarray, layer: int, t: int, wrt: Literal["W", "U"] = "W"
) -> Loss:
    """E^(t) as a function of vec(W^(layer)) or vec(U^(layer)), the rest held fixed."""
    if wrt not in ("W", "U"):
        raise ValueError(f"wrt must be 'W' or 'U', got {wrt!r}")

    def loss(w: np.ndarray) -> float:
        moved = copy.copy(rnn)  # the same network (activations, loss, ...) with one block moved
        moved.weights, moved.recurrent = list(rnn.weights), list(rnn.recurrent)
        chosen = moved.weights if wrt == "W" else moved.recurrent
        chosen[layer - 1] = w.reshape(chosen[layer - 1].shape)
        return moved.loss(X, Z_target, t=t)

    return loss


def fd_fnn_hessian(net: FNN, X: np.ndarray, Z_target: np.ndarray, layer: int) -> np.ndarray:
    """H_W^(layer) of the FNN from finite differences of its loss alone."""
    start = net.weights[layer - 1].reshape(-1)
    return central_difference_hessian(fnn_layer_loss(net, X, Z_target, layer), start)


def fd_rnn_hessian(
    rnn: RNN, X: np.ndarray, Z_target: np.ndarray, layer: int, t: int, wrt: Literal["W", "U"] = "W"
) -> np.ndarray:
    """H_W^(layer,t) or H_U^(layer,t) of the RNN from finite differences of E^(t) alone."""
    start = (rnn.weights if wrt == "W" else rnn.recurrent)[layer - 1].reshape(-1)
    return central_difference_hessian(rnn_layer_loss(rnn, X, Z_target, layer, t, wrt), start)


def relative(A: np.ndarray, B: np.ndarray) -> float:
    """||A - B||_F / ||B||_F (or ||A - B||_F where B = 0, as for a dead ReLU layer)"""
    return float(np.linalg.norm(A - B) / (np.linalg.norm(B) or 1.0))


def log_ticks(values: Iterable[float], most: int = 8) -> list[tuple[float, str]]:
    """Ticks for a log axis over the positive ``values``: 1, 2 and 5 times the powers of ten
    between their least and largest (at most ``most`` of them, else the powers of ten alone),
    labelled in one format (0.02, 0.05 where all lie between 0.01 and 10^4, else 1e-8, 1e-2); none
    where no value is positive. Bokeh's own ticks crowd (0.35, 0.3, 0.25, ...) on an axis that
    spans less than a decade.

    >>> log_ticks([0.018, 0.33])
    [(0.02, '0.02'), (0.05, '0.05'), (0.1, '0.1'), (0.2, '0.2')]
    >>> [label for _, label in log_ticks([3e-9, 0.5])]
    ['1e-8', '1e-7', '1e-6', '1e-5', '1e-4', '1e-3', '1e-2', '1e-1']
    """
    positive = [value for value in values if value > 0]
    if not positive:
        return []
    low, high = min(positive), max(positive)
    powers = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)

    def between(mantissas: tuple[int, ...]) -> list[float]:
        every = (float(f"{mantissa}e{power}") for power in powers for mantissa in mantissas)
        return [tick for tick in every if low <= tick <= high]

    ticks = between((1, 2, 5))
    if len(ticks) > most:
        ticks = between((1,))
        ticks = ticks[:: -(-len(ticks) // most)]  # every second, third, ... power of ten
    if not ticks:  # the values lie between two neighbouring ticks
        ticks = [low, high]
    if all(0.01 <= tick < 1e4 for tick in ticks):
        return [(tick, f"{tick:g}") for tick in ticks]
    return [(tick, f"{tick:.0e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e"))
            for tick in ticks]


def column_widths(*widths: int) -> Callable[[Any, Any], None]:
    """A HoloViews ``hooks`` entry for an ``hv.Table``: its columns share the table's width in
    the proportions ``widths`` (px), key columns first, instead of equally, and the row numbers
    are left out to give them the room."""

    def hook(plot: Any, element: Any) -> None:
        table = plot.handles["table"]
        table.index_position = None
        for column, width in zip(table.columns, widths, strict=False):
            column.width = width

    return hook


def check_table(rows: Iterable[tuple[str, Any]]) -> hv.Table:
    """A two-column table of named checks, shown beside the pictures."""
    rows = list(rows)
    table = hv.Table([(name, str(value)) for name, value in rows], kdims=["check"], vdims=["value"])
    return table.opts(width=420, height=28 * (len(rows) + 1))


def matrix_picture(
    matrix: np.ndarray,
    title: str,
    block: tuple[int, int] | None = None,
    width: int = 300,
    height: int = 280,
) -> hv.Element | hv.Overlay:
    """A matrix as an image (row 0 at the top, symmetric colours), with a grid every
    block=(rows, cols)."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = matrix.shape
    picture = hv.Image(
        matrix, bounds=(0, 0, cols, rows), kdims=["column", "row"], vdims=["value"]
    ).opts(
        cmap="RdBu_r",
        symmetric=True,
        colorbar=True,
        xaxis=None,
        yaxis=None,
        tools=["hover"],
        width=width,
        height=height,
        axiswise=True,
        colorbar_opts={"formatter": readable_ticks()},
    )
    if block is not None:
        every_row, every_col = block
        lines = hv.VLines(list(range(every_col, cols, every_col))) * hv.HLines(
            [rows - i for i in range(every_row, rows, every_row)]
        )
        picture = picture * lines.opts(
            hv.opts.VLines(color="black", line_width=0.7, alpha=0.5),
            hv.opts.HLines(color="black", line_width=0.7, alpha=0.5),
        )
    return picture.opts(title=title)


def inline_panel_stylesheets() -> None:
    """Give every plot that HoloViews draws Panel's stylesheets from the installed package, not
    from cdn.holoviz.org. Call it after ``hv.extension("bokeh",
    inline=True)``, which already puts BokehJS and Panel's scripts into the notebook.

    Why it is needed: HoloViews renders each plot inside a Panel layout of its own, whose models
    link four stylesheets (the theme's ``default.css`` and ``native.css``, ``listpanel.css``,
    ``loading.css``) at cdn.holoviz.org. Panel swaps such links for the files' text only when it
    displays an object itself under ``pn.config.inline`` (``pn.extension(inline=True)``, as
    notebook 06 and the README use); a HoloViews object is displayed by HoloViews. The hook
    added here makes the same swap on each model tree Panel builds for HoloViews.

    It relies on two Panel internals, kept with the app's others in ``app/compat.py``
    (:func:`app.compat.inline_stylesheets_for_holoviews`, which says which and the Panel release
    they were checked with). Where they are missing, or ``HESSIAN_LAB_FAST_PATHS=off``, it warns
    and changes nothing: the plots still draw, with those four stylesheets from the CDN when
    there is internet and without them when there is none.
    """
    if not compat.inline_stylesheets_for_holoviews():
        warnings.warn(
            f"this Panel ({pn.__version__}) offers no way to inline its stylesheets here (see "
            "app/compat.py): the plots link Panel's stylesheets at its CDN",
            stacklevel=2,
        )


#: the Panel preprocessing hook that :func:`inline_panel_stylesheets` adds
_inline_stylesheets_hook = compat.inline_stylesheets_hook
