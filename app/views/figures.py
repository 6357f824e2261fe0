"""Shared Bokeh figure builders for the views: built once, then fed new data.

Every plot of the six analysis views is a plain ``bokeh.plotting.figure`` made here and
wrapped in a ``pn.pane.Bokeh``. A redraw assigns (or streams into) the figure's
``ColumnDataSource`` and moves a ``LinearColorMapper``'s ``low``/``high``; nothing is
re-rendered, so the document patch sent to the browser holds only the new numbers.

Conventions:

- matrices are drawn with row 0 at the top: ``MatrixPlot.set`` stores ``flipud(matrix)`` as
  the image (Bokeh's image rows grow upwards) and ``MatrixPlot.matrix()`` gives it back as
  passed; pixel (i, j) covers [j, j+1] x [rows-i-1, rows-i];
- colours are colour-blind safe: Okabe & Ito's eight colours for categories, ColorBrewer's
  RdBu (blue negative, white 0, red positive) for signed matrices, cividis for values in
  [0, 1]; a binary mask has two colours and a two-entry legend, not a colour bar;
- colour keys are legends, never title text, and every legend sits outside the plot frame,
  below it (``add_legend``), so it never covers data; titles are short enough not to be cut
  in a 300 px wide plot, longer explanations go into captions;
- one tick format per axis: a log or symlog axis labels all its ticks as plain numbers
  (0.001 ... 99999) or all in exponent form (1e-7, 2.5e-3), never a mix (``axis_number``,
  ``AXIS_NUMBER_JS``); a log axis spans whole decades, at least two (``fit_log_range``), so
  its ticks are powers of ten; a step axis has integer ticks with thousands separators;
- a symmetric-log axis (Bokeh has none) draws y = sign(v) log10(1 + |v| / linear) and labels
  its ticks with the real values v (``symlog_ticks``), so a value can be read off the axis.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    CustomJSTickFormatter,
    FixedTicker,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    LogTicker,
    NumeralTickFormatter,
    Range1d,
)
from bokeh.palettes import RdBu11, cividis, interp_palette
from bokeh.plotting import figure

from app.views.common import symlog, symmetric_limits

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with every colour-vision type
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
             "#F0E442")
#: blue (negative) - white (0) - red (positive), 256 steps
DIVERGING = tuple(interp_palette(RdBu11, 256))
#: values in [0, 1] (f'(y) of a smooth activation): dark blue to yellow, colour-blind safe
SEQUENTIAL = tuple(cividis(256))
#: a binary mask: 0 (blocked) light grey, 1 (passes) dark blue
MASK_COLOURS = ("#E8E8E8", "#0072B2")
TITLE_SIZE = "14px"
AXIS_LABEL_SIZE = "13px"
TICK_LABEL_SIZE = "12px"
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
#: colour-bar labels of at most ~6 characters: 0, 0.25, 150, 1.5e-4 (real_label's rule)
SHORT_NUMBER_JS = """
if (tick === 0) return "0";
const size = Math.abs(tick);
if (size >= 0.01 && size < 1000) return String(Number(tick.toPrecision(2)));
return tick.toExponential(1).replace("e+", "e");
"""
#: an axis's tick labels in one format for the whole axis (``axis_number`` in Python): plain
#: numbers when every nonzero tick lies in [0.001, 1e5), else all in exponent form
AXIS_NUMBER_JS = """
const sizes = ticks.filter((t) => t !== 0).map((t) => Math.abs(t));
const plain = sizes.every((t) => t >= 1e-3 && t < 1e5);
if (tick === 0) return "0";
if (plain) return String(Number(tick.toPrecision(3)));
const [mantissa, exponent] = tick.toExponential(2).split("e");
return String(Number(mantissa)) + "e" + String(Number(exponent));
"""
#: decades a log axis spans at least (LogTicker draws fewer as linear ticks that crowd)
LOG_DECADES = 2
WIDER = 1.0001


def style(plot, legend: bool = False) -> None:
    """Projector-sized fonts for the title, axes and legend of ``plot``."""
    plot.title.text_font_size = TITLE_SIZE
    for axis in (*plot.xaxis, *plot.yaxis):
        axis.axis_label_text_font_size = AXIS_LABEL_SIZE
        axis.major_label_text_font_size = TICK_LABEL_SIZE
        axis.axis_label_text_font_style = "normal"
    if legend:
        for item in plot.legend:
            item.label_text_font_size = TICK_LABEL_SIZE
            item.background_fill_alpha = 0.85
            item.spacing = 1
            item.padding = 6
            item.margin = 6


def pane(plot, css_classes: tuple[str, ...] = (), **options) -> pn.pane.Bokeh:
    """The Panel pane of a figure, sized as the figure is; ``css_classes`` go on the
    figure's own element (a test hook: the pane draws no element of its own)."""
    sizing = {"sizing_mode": plot.sizing_mode} if plot.sizing_mode else {}
    if css_classes:
        plot.css_classes = [*plot.css_classes, *css_classes]
    return pn.pane.Bokeh(plot, **sizing, **options)


def line_figure(title: str, x_label: str, y_label: str, *, y_log: bool = False,
                height: int = 300, min_width: int = 320, x_range=None,
                y_range=None) -> figure:
    """A figure that stretches to the width of its column, with a toolbar for zooming
    (``x_range``, ``y_range``: e.g. a FactorRange for categories, or a Range1d that the view
    fits to its data with ``fit_range``; they must be given here, with the figure's scale,
    not assigned later)."""
    ranges = {name: given for name, given in (("x_range", x_range), ("y_range", y_range))
              if given is not None}
    plot = figure(**ranges,
        title=title, x_axis_label=x_label, y_axis_label=y_label, height=height,
        sizing_mode="stretch_width", min_width=min_width, tools=TOOLS,
        y_axis_type="log" if y_log else "linear", toolbar_location="right",
        min_border_right=10,
    )
    plot.toolbar.logo = None
    if y_log:
        log_axis(plot.yaxis[0])
    if x_label == "step":
        step_axis(plot.xaxis[0])
    return plot


def log_axis(axis) -> None:
    """Powers of ten on a log axis, labelled in one format (``AXIS_NUMBER_JS``)."""
    axis.ticker = LogTicker(desired_num_ticks=6)
    axis.formatter = CustomJSTickFormatter(code=AXIS_NUMBER_JS)


def step_axis(axis) -> None:
    """Integer steps with thousands separators: 0, 500, 20,000."""
    axis.ticker = BasicTicker(min_interval=1, desired_num_ticks=6)
    axis.formatter = NumeralTickFormatter(format="0,0")


def fit_log_range(range_: Range1d, low: float, high: float) -> None:
    """Show [low, high] (> 0) on a log axis, widened to whole decades, at least
    ``LOG_DECADES`` of them, so that the ticks are powers of ten.

    >>> r = Range1d(1, 2); fit_log_range(r, 0.05, 0.09); f"{r.start:.3g} {r.end:.3g}"
    '0.01 1'
    >>> fit_log_range(r, 2e-7, 3.0); f"{r.start:.3g} {r.end:.3g}"
    '1e-07 10'
    """
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high) and low > 0 and high > 0):
        return
    bottom = int(np.floor(np.log10(low)))
    top = max(int(np.ceil(np.log10(high))), bottom + 1)
    while top - bottom < LOG_DECADES:
        # widen on the side with less room around the data
        if np.log10(low) - bottom < top - np.log10(high):
            bottom -= 1
        else:
            top += 1
    # a hair wider than the decades: LogTicker draws linear ticks below two decades, and
    # 1e-2..1 in floating point is a hair less than two
    fit_range(range_, float(f"{10.0 ** bottom:.0e}") / WIDER, float(f"{10.0 ** top:.0e}") * WIDER)


def threshold_steps(steps, thresholds, end: float) -> dict[str, list[float]]:
    """A level over training (2/α) as a step function to draw: one point where it starts and
    where it changes, and one at ``end`` (the right edge of the frame), so that it shows from
    the first step on (a line of a single point draws nothing).

    >>> threshold_steps([0, 1, 2, 3], [10, 10, 20, 20], 3.0)
    {'step': [0.0, 2.0, 2.0, 3.0], 'threshold': [10.0, 10.0, 20.0, 20.0]}
    >>> threshold_steps([0], [10], 1.0)
    {'step': [0.0, 1.0], 'threshold': [10.0, 10.0]}
    """
    xs: list[float] = []
    ys: list[float] = []
    for step, level in zip(steps, thresholds, strict=True):
        step, level = float(step), float(level)
        if ys and level == ys[-1]:
            continue
        if ys:  # the old level holds until the step where it changed
            xs.append(step)
            ys.append(ys[-1])
        xs.append(step)
        ys.append(level)
    if ys:
        xs.append(max(float(end), xs[-1]))
        ys.append(ys[-1])
    return {"step": xs, "threshold": ys}


def fit_range(range_: Range1d, start: float, end: float) -> None:
    """Show [start, end] on a Range1d (an empty interval is widened around its value).

    A view calls it with the extent of what it shows now, so that an axis never keeps the
    extent of an earlier model, lesson or run (a DataRange1d in the browser can). It sends
    the two numbers only when they changed.

    >>> r = Range1d(0, 67); fit_range(r, 0.5, 24.5); (r.start, r.end)
    (0.5, 24.5)
    """
    start, end = float(start), float(end)
    if not (np.isfinite(start) and np.isfinite(end)):
        return
    if end <= start:
        half = max(abs(start) * 0.5, 0.5)
        start, end = start - half, end + half
    if (range_.start, range_.end) != (start, end):
        range_.update(start=start, end=end)


def add_legend(plot) -> None:
    """Put every legend of ``plot`` below its frame (never over data), in rows of as many
    entries as fit a 300 px wide plot, clickable. Call it after the labelled renderers are
    made, and ``arrange_legend`` when entries are relabelled or hidden."""
    for legend in plot.legend:
        if any(item is legend for item in plot.center):
            plot.center = [item for item in plot.center if item is not legend]
        if not any(item is legend for item in plot.below):
            plot.add_layout(legend, "below")
        legend.location = "top_left"
        legend.orientation = "horizontal"
        legend.click_policy = "hide"
        arrange_legend(legend)
    style(plot, legend=True)


#: room for a legend's row (px) and one label character's width (12 px text) and an entry's
#: glyph and spacing
LEGEND_ROW_PX, LABEL_CHAR_PX, ENTRY_PX = 250, 7, 36


def arrange_legend(legend: Legend) -> None:
    """As many columns as the longest visible label lets fit in ``LEGEND_ROW_PX``."""
    labels = [label_text(item) for item in legend.items if item.visible]
    longest = max((len(label) for label in labels), default=1)
    columns = max(1, min(len(labels) or 1, LEGEND_ROW_PX // (longest * LABEL_CHAR_PX + ENTRY_PX)))
    if legend.ncols != columns:
        legend.ncols = columns


def label_text(item: LegendItem) -> str:
    label = item.label
    if isinstance(label, dict):
        return str(label.get("value") or label.get("field") or "")
    return str(getattr(label, "value", None) or getattr(label, "field", None) or label or "")


def set_text(pane_: pn.pane.Markdown, text: str) -> None:
    """Give a Markdown pane new text only when it changed (each update re-renders it, some
    milliseconds of server time)."""
    if pane_.object != text:
        pane_.object = text


def empty_columns(*names: str) -> dict[str, np.ndarray]:
    return {name: np.zeros(0) for name in names}


# --- matrices ----------------------------------------------------------------------------
class MatrixPlot:
    """A matrix drawn as an image with row 0 at the top, optional block grid lines and a
    colour bar (or, for a binary mask, a two-entry legend).

    ``kind``: "diverging" (signed values, white at 0, limits +-max|entry|), "sequential"
    (values in [0, 1]) or "binary" (0/1 with the legend ``labels`` = (label of 0, label of 1)).
    """

    KINDS = ("diverging", "sequential", "binary")

    def __init__(self, title: str, *, kind: str = "diverging", side: int | None = 360,
                 height: int = 300, labels: tuple[str, str] = ("0", "1"),
                 value_name: str = "value"):
        self.mapper = LinearColorMapper(palette=list(DIVERGING), low=-1.0, high=1.0,
                                        nan_color="white")
        size = (dict(frame_width=side, frame_height=side) if side else
                dict(height=height, sizing_mode="stretch_width", min_width=320))
        self.figure = figure(
            title=title, x_range=Range1d(0, 1), y_range=Range1d(0, 1), tools="",
            toolbar_location=None, match_aspect=side is not None, **size,
        )
        self.figure.axis.visible = False
        self.figure.grid.visible = False
        self.figure.outline_line_color = "#444444"
        self.figure.min_border_left = 8
        self.source = ColumnDataSource({"image": [np.zeros((1, 1))], "x": [0.0], "y": [0.0],
                                        "dw": [1.0], "dh": [1.0]})
        image = self.figure.image(image="image", x="x", y="y", dw="dw", dh="dh",
                                  color_mapper=self.mapper, source=self.source)
        self.figure.add_tools(HoverTool(renderers=[image], tooltips=[
            ("row, column", "$y{0}, $x{0}"), (value_name, "@image{0.000e}")]))
        self.grid = ColumnDataSource(empty_columns("x0", "y0", "x1", "y1"))
        self.figure.segment(x0="x0", y0="y0", x1="x1", y1="y1", source=self.grid,
                            line_color="black", line_width=1.2, line_alpha=0.7)
        # both keys exist from the start, and set_kind shows one: a view switches kinds
        # (ReLU <-> tanh) without new models, whose first data would not reach the browser
        items = []
        for colour, label in zip(MASK_COLOURS, labels, strict=True):
            # one point at NaN (never drawn): a legend entry of a renderer without data
            # shows no swatch
            swatch = self.figure.scatter(
                x=[np.nan], y=[np.nan], marker="square", size=20, fill_color=colour,
                line_color="#444444")
            items.append(LegendItem(label=label, renderers=[swatch]))
        self.legend = Legend(items=items, orientation="horizontal", location="center",
                             label_text_font_size=TICK_LABEL_SIZE, border_line_alpha=0,
                             glyph_width=22, glyph_height=22)
        self.figure.add_layout(self.legend, "below")
        self.color_bar = ColorBar(
            color_mapper=self.mapper, ticker=BasicTicker(desired_num_ticks=5),
            formatter=CustomJSTickFormatter(code=SHORT_NUMBER_JS),
            major_label_text_font_size=TICK_LABEL_SIZE, label_standoff=6, width=14,
            padding=4,
        )
        self.figure.add_layout(self.color_bar, "right")
        style(self.figure)
        self.kind = ""
        self.set_kind(kind)

    def set_kind(self, kind: str) -> None:
        """Switch between "diverging", "sequential" and "binary" drawing (palette and key)."""
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, not {kind!r}")
        if kind == self.kind:
            return
        self.kind = kind
        palette = {"diverging": DIVERGING, "sequential": SEQUENTIAL,
                   "binary": MASK_COLOURS}[kind]
        self.mapper.palette = list(palette)
        binary = kind == "binary"
        self.legend.visible = binary
        self.color_bar.visible = not binary
        # room for the colour bar and its longest label ("-1.5e-4"): the bar's panel is
        # sized from the first labels and not widened when the limits change
        self.figure.min_border_right = 12 if binary else 82

    def set(self, matrix: np.ndarray, every: int = 0, limits: tuple[float, float] | None = None,
            every_col: int | None = None) -> None:
        """Show ``matrix`` (2-D; anything else shows one blank cell), with grid lines every
        ``every`` rows (and ``every_col`` columns, default ``every``); colour limits
        ``limits``, else +-max|entry| (diverging) or [0, 1]."""
        matrix = np.asarray(matrix, dtype=float)
        if matrix.ndim != 2 or matrix.size == 0:
            matrix = np.full((1, 1), np.nan)
        rows, cols = matrix.shape
        self.source.data = {"image": [np.ascontiguousarray(np.flipud(matrix))], "x": [0.0],
                            "y": [0.0], "dw": [float(cols)], "dh": [float(rows)]}
        low, high = limits or (symmetric_limits(matrix) if self.kind == "diverging"
                               else (0.0, 1.0))
        if (self.mapper.low, self.mapper.high) != (low, high):
            self.mapper.update(low=low, high=high)
        x_range, y_range = self.figure.x_range, self.figure.y_range
        if (x_range.start, x_range.end) != (0, cols):
            x_range.update(start=0, end=cols)
        if (y_range.start, y_range.end) != (0, rows):
            y_range.update(start=0, end=rows)
        self.grid.data = grid_segments(rows, cols, every,
                                       every if every_col is None else every_col)

    def matrix(self) -> np.ndarray:
        """The matrix shown, row 0 first (as passed to ``set``)."""
        return np.flipud(np.asarray(self.source.data["image"][0]))


def grid_segments(rows: int, cols: int, every_row: int, every_col: int) -> dict[str, np.ndarray]:
    """Block grid lines (x0, y0, x1, y1) in MatrixPlot coordinates."""
    xs = np.zeros(0)
    ys = np.zeros(0)
    if 0 < every_col < cols:
        xs = np.arange(every_col, cols, every_col, dtype=float)
    if 0 < every_row < rows:
        ys = rows - np.arange(every_row, rows, every_row, dtype=float)
    return {
        "x0": np.concatenate([xs, np.zeros_like(ys)]),
        "y0": np.concatenate([np.zeros_like(xs), ys]),
        "x1": np.concatenate([xs, np.full_like(ys, cols)]),
        "y1": np.concatenate([np.full_like(xs, rows), ys]),
    }


# --- axes --------------------------------------------------------------------------------
def real_label(value: float, plain: bool = True) -> str:
    """A short label of a real tick value: plain (0, 0.01, 5, 1000) or in exponent form
    (1e-3, -2e-5, 2.5e4), as ``AXIS_NUMBER_JS`` writes it.

    >>> [real_label(v) for v in (0.0, 0.01, 5.0, 1000.0)]
    ['0', '0.01', '5', '1000']
    >>> [real_label(v, plain=False) for v in (0.01, -2e-5, 25000.0)]
    ['1e-2', '-2e-5', '2.5e4']
    """
    if value == 0:
        return "0"
    if plain:
        return f"{float(f'{value:.3g}'):g}" if abs(value) < 1e5 else f"{value:.0f}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def axis_number(values) -> list[str]:
    """Labels of an axis's ticks in one format: plain when every nonzero value lies in
    [0.001, 1e5), else all in exponent form.

    >>> axis_number([0.0, 0.01, 1.0, 10.0])
    ['0', '0.01', '1', '10']
    >>> axis_number([-1e-3, 0.0, 1e-7, 1.0])
    ['-1e-3', '0', '1e-7', '1e0']
    """
    sizes = [abs(v) for v in values if v != 0]
    plain = all(1e-3 <= size < 1e5 for size in sizes)
    return [real_label(v, plain) for v in values]


def symlog_ticks(top: float, linear: float, bottom: float | None = None
                 ) -> tuple[list[float], list[float], dict[float, str]]:
    """Ticks of a symmetric-log axis: (major positions, minor positions, labels).

    Majors at 0 and +-10^j from about 3 ``linear`` up to the decade above ``top`` (and down to
    ``bottom`` <= 0 on the negative side, if given), each labelled with its real value;
    minors at +-(2..9) 10^j. Positions are in symlog(., linear) units.
    """
    top = max(float(top), linear)
    # the first labelled power sits at least log10(4) above 0, so labels do not collide
    low_power = int(np.ceil(np.log10(3.0 * linear)))
    high_power = int(np.ceil(np.log10(top)))
    powers = range(low_power, high_power + 1)
    reals = [0.0] + [10.0 ** j for j in powers]
    negative = bottom is not None and bottom < 0
    if negative:
        # at least one labelled negative tick, however small the negative values
        depth = max(int(np.ceil(np.log10(max(-float(bottom), linear)))), low_power)
        reals += [-(10.0 ** j) for j in range(low_power, depth + 1)]
    # thin the labels so that at most ~7 per side are drawn
    stride = max(1, -(-len(powers) // 7))
    majors = sorted(reals)
    labelled = [v for v in majors
                if v == 0 or (round(np.log10(abs(v))) - low_power) % stride == 0]
    minors = [sign * m * 10.0 ** j for j in powers for m in range(2, 10)
              for sign in ((1, -1) if negative else (1,))]
    positions = [float(p) for p in symlog(np.array(labelled), linear)]
    minor_positions = [float(p) for p in symlog(np.array(minors or [0.0]), linear)]
    labels = dict(zip(positions, axis_number(labelled), strict=True))
    return positions, minor_positions, labels


def set_symlog_axis(plot, top: float, linear: float, bottom: float | None = None) -> None:
    """Label ``plot``'s y axis with real values for data drawn through ``symlog``.

    The axis's FixedTicker is made once and then only given new ticks: a new ticker model
    would make Bokeh re-walk the whole document (~100 ms)."""
    majors, minors, labels = symlog_ticks(top, linear, bottom)
    axis = plot.yaxis[0]
    set_fixed_ticks(axis, majors, labels, minors)


def fit_symlog_plot(plot, everything: np.ndarray, linear: float, x_start: float,
                    x_end: float) -> None:
    """Label ``plot``'s symlog y axis for ``everything`` it draws and fit both axes to what
    it shows now: x over [x_start, x_end], y over the drawn values with a margin."""
    set_symlog_axis(plot, float(np.max(everything, initial=0.0)), linear,
                    float(np.min(everything, initial=0.0)))
    drawn = symlog(everything, linear)
    low, high = float(np.min(drawn, initial=0.0)), float(np.max(drawn, initial=0.0))
    pad = 0.06 * max(high - low, 1.0)
    fit_range(plot.x_range, x_start, x_end)
    fit_range(plot.y_range, low - pad, high + pad)


def set_fixed_ticks(axis, ticks: list[float], labels: dict[float, str],
                    minor_ticks: list[float] | None = None) -> None:
    """Put ticks at ``ticks`` labelled ``labels`` on ``axis``, reusing its FixedTicker."""
    if not isinstance(axis.ticker, FixedTicker):
        axis.ticker = FixedTicker(ticks=[])
    if list(axis.ticker.ticks) != list(ticks):
        axis.ticker.update(ticks=list(ticks), minor_ticks=list(minor_ticks or []))
        axis.major_label_overrides = labels
