"""Training: the loss curve (streamed), the decision boundary or fit, predicted sequences.

The loss is the paper's scaled batch loss E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2 of each
mini-batch, before its update (the number the sidebar shows for the current step). The plots
are Bokeh figures built once per model; every frame streams the new loss points into the
curve's ``ColumnDataSource`` (``stream``), and a redraw replaces the data of the network's
output (the decision-boundary image, the regression fit or the predicted sequence). No
element pipeline runs per frame.

The loss curve keeps the whole run at a bounded size: it holds every step while the run has
fewer than ``LOSS_POINTS`` steps; beyond that it keeps the steps that are multiples of a
stride that doubles whenever the curve would exceed ``LOSS_POINTS`` points (the losses shown
are always exact mini-batch losses, sampled evenly). Its first point, the loss of the initial
weights, is marked, so the curve shows a value before Play.
"""

from __future__ import annotations

import bisect

import numpy as np
import panel as pn
from bokeh.models import (
    BoxAnnotation,
    ColorBar,
    ColumnDataSource,
    DataRange1d,
    HoverTool,
    LinearColorMapper,
    PlainText,
    Range1d,
)
from bokeh.plotting import figure

from app.data.upload import plane_names
from app.views.classify import ClassificationPanel, is_classification
from app.views.common import DIVERGING, View
from app.views.figures import add_legend, fit_log_range, log_axis, step_axis

GRID = 64  # decision-boundary resolution per axis
LOSS_POINTS = 4000  # most points on the loss curve
LOSS_COLOUR = "#1f77b4"
#: the loss curve's width in CSS pixels. One pixel is stroked on the browser's fast path
#: (a hairline): a curve of thousands of mini-batch losses zigzagging over decades, stroked
#: 2 px wide, cost 9-12 ms per repaint in Chromium, 1 px wide 2.6-5.4 ms
LOSS_LINE_WIDTH = 1
HEIGHT = 330
#: colour-blind-safe fills (Okabe-Ito blue and orange) and markers of the two classes
CLASS_STYLES = (("#0072B2", "circle"), ("#E69F00", "triangle"))
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


def new_figure(title: str, **options):
    return figure(title=title, height=HEIGHT, sizing_mode="stretch_width", tools=TOOLS,
                  toolbar_location="above", **options)


def bokeh_pane(plot) -> pn.pane.Bokeh:
    return pn.pane.Bokeh(plot, sizing_mode="stretch_width", min_height=HEIGHT)


class TrainingView(View):
    key = "training"
    title = "Training"
    #: the network's output is redrawn 10 times a second; the loss streams every frame
    min_redraw_interval = 0.1

    def build(self) -> None:
        session = self.session
        # the whole run so far: the initial loss at step 0, then each step's (a log axis
        # needs positive values: a non-finite or zero initial loss is left out)
        initial = session.initial_loss
        known = bool(np.isfinite(initial) and initial > 0)
        steps = np.asarray(([0] if known else []) + list(session.loss_steps), float)
        losses = np.asarray(([initial] if known else []) + list(session.loss_values), float)
        self._stride = 1
        while len(steps) > LOSS_POINTS and len(steps) // self._stride > LOSS_POINTS // 2:
            self._stride *= 2
        keep = steps % self._stride == 0
        self._loss = ColumnDataSource({"step": steps[keep], "loss": losses[keep]})
        self._sent = session.loss_steps[-1] if session.loss_steps else 0  # last step sent
        loss_plot = new_figure("loss E of each mini-batch",
                               y_axis_type="log", x_axis_label="step",
                               y_axis_label="loss E (log scale)",
                               y_range=Range1d(0.01, 1.0))
        loss_plot.line("step", "loss", source=self._loss, color=LOSS_COLOUR,
                       line_width=LOSS_LINE_WIDTH)
        # the marker of the initial loss has a source of its own: a legend entry whose
        # renderer draws from the streamed source is rebuilt by BokehJS at every frame
        first = 1 if known else 0
        self._initial = ColumnDataSource({"step": steps[:first], "loss": losses[:first]})
        loss_plot.scatter("step", "loss", source=self._initial, size=8, color=LOSS_COLOUR,
                          line_color="black", legend_label="initial weights")
        add_legend(loss_plot)
        # powers of ten over whole decades (fit_loss_range), in one format; integer steps
        log_axis(loss_plot.yaxis[0])
        step_axis(loss_plot.xaxis[0])
        self._loss_extent = (np.inf, 0.0)
        self._loss_plot_range = loss_plot.y_range
        self.fit_loss_range(losses)
        loss_plot.add_tools(HoverTool(tooltips=[("step", "@step"), ("loss", "@loss{0.0000g}")],
                                      mode="vline"))
        self._loss_plot = loss_plot
        data = session.data
        self._caption = pn.pane.Markdown("", margin=(0, 10))
        self._classify = None
        self._regions = False
        if not session.is_rnn and is_classification(data):
            self._regions = needs_regions(data)
            self._classify = ClassificationPanel(session, self.settings, height=HEIGHT,
                                                 regions=self._regions)
        if session.is_rnn:
            fit = bokeh_pane(self._sequence_plot())
        elif self._regions:
            fit = self._classify.region_pane()
        elif data.input_width == 2:
            fit = bokeh_pane(self._boundary_plot(data))
        else:
            fit = bokeh_pane(self._regression_plot(data))
        self._body.objects = [
            pn.Row(
                bokeh_pane(loss_plot),
                pn.Column(self._caption, fit, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            )
        ] + ([self._classify.metrics_pane()] if self._classify is not None else [])
        self._sample_shown = None

    # --- plots -------------------------------------------------------------------------
    def _boundary_plot(self, data):
        low, high = data.X.min(axis=0) - 0.2, data.X.max(axis=0) + 0.2
        xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
        gx, gy = np.meshgrid(xs, ys)  # row i: x2 = ys[i], drawn from the bottom up
        self._grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        half_x, half_y = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
        first, second = data.labels
        self._label_values = (first, second)
        spread = second - first
        mapper = LinearColorMapper(palette=DIVERGING, low=first - 0.5 * spread,
                                   high=second + 0.5 * spread)
        uploaded = getattr(self.session, "uploaded", None)  # its column names, as text
        x_name, y_name = ("x1", "x2") if uploaded is None else plane_names(uploaded)
        plot = new_figure("decision boundary and data", x_axis_label=PlainText(x_name),
                          y_axis_label=PlainText(y_name),
                          # equal units on both axes: a circle is drawn round
                          x_range=DataRange1d(range_padding=0),
                          y_range=DataRange1d(range_padding=0), match_aspect=True)
        self._fit = ColumnDataSource({"image": [np.zeros((GRID, GRID), np.float32)]})
        plot.image(image="image", source=self._fit, x=xs[0] - half_x, y=ys[0] - half_y,
                   dw=xs[-1] - xs[0] + 2 * half_x, dh=ys[-1] - ys[0] + 2 * half_y,
                   color_mapper=mapper, alpha=0.6)
        plot.add_layout(ColorBar(color_mapper=mapper, title="network output", width=10), "right")
        targets = data.Z[:, 0]
        for label, (colour, marker) in zip((first, second), CLASS_STYLES, strict=True):
            chosen = np.isclose(targets, label)
            plot.scatter(data.X[chosen, 0], data.X[chosen, 1], marker=marker, size=7,
                         fill_color=colour, line_color="black", line_width=0.8,
                         legend_label=f"target {label:g}")
        add_legend(plot)
        self._caption.object = boundary_caption(data, self.settings.discretize)
        return plot

    def _regression_plot(self, data):
        self._grid = np.linspace(data.X.min() - 0.1, data.X.max() + 0.1, 200)
        plot = new_figure("fit", x_axis_label="x", y_axis_label="z")
        plot.scatter(data.X[:, 0], data.Z[:, 0], size=5, fill_color="#999999",
                     line_color="#333333", line_width=0.5, alpha=0.7, legend_label="data")
        self._fit = ColumnDataSource({"x": self._grid, "z": np.zeros_like(self._grid)})
        plot.line("x", "z", source=self._fit, color="#d62728", line_width=3,
                  legend_label="network")
        add_legend(plot)
        self._caption.object = "Data (grey) and the network's fit (red)."
        return plot

    def _sequence_plot(self):
        tau = self.settings.tau
        steps = np.arange(1, tau + 1, dtype=float)
        plot = new_figure("one sequence of the batch",
                          x_axis_label="time step s", y_axis_label="z")
        plot.add_layout(BoxAnnotation(left=self.session.output_from - 0.5, right=tau + 0.5,
                                      fill_color="#ffe680", fill_alpha=0.3))
        self._static = ColumnDataSource({"s": steps, "target": np.zeros(tau),
                                         "input": np.zeros(tau)})
        self._fit = ColumnDataSource({"s": steps, "z": np.zeros(tau)})
        plot.line("s", "target", source=self._static, color="black", line_dash="dashed",
                  line_width=2, legend_label="target z*")
        plot.line("s", "input", source=self._static, color="gray", alpha=0.6,
                  legend_label="input x")
        plot.line("s", "z", source=self._fit, color="#d62728", line_width=3,
                  legend_label="network z")
        add_legend(plot)
        return plot

    def fit_loss_range(self, values) -> None:
        """Widen the loss axis to whole decades around every loss shown so far."""
        values = np.asarray(values, float)
        values = values[np.isfinite(values) & (values > 0)]
        if not values.size:
            return
        low, high = self._loss_extent
        self._loss_extent = (min(low, float(values.min())), max(high, float(values.max())))
        fit_log_range(self._loss_plot_range, *self._loss_extent)

    # --- refresh -----------------------------------------------------------------------
    def stream(self) -> None:
        """Streamed every frame between redraws (the loop calls it)."""
        self.stream_loss()

    def stream_loss(self) -> None:
        """Send the loss points recorded since the last call (at the curve's stride)."""
        steps, values = self.session.loss_steps, self.session.loss_values
        first = bisect.bisect_right(steps, self._sent)
        if first >= len(steps):
            return
        new_steps = np.asarray(steps[first:], float)
        new_values = np.asarray(values[first:], float)
        self._sent = steps[-1]
        shown = len(self._loss.data["step"])
        while shown + len(new_steps) // self._stride + 1 > LOSS_POINTS:
            self._thin()
            shown = len(self._loss.data["step"])
        if self._stride > 1:
            keep = new_steps % self._stride == 0
            new_steps, new_values = new_steps[keep], new_values[keep]
        if len(new_steps):
            self._loss.stream({"step": new_steps, "loss": new_values})
            self.fit_loss_range(new_values)

    def _thin(self) -> None:
        """Double the stride: keep the points at multiples of the new stride (and step 0)."""
        self._stride *= 2
        steps = np.asarray(self._loss.data["step"], float)
        losses = np.asarray(self._loss.data["loss"], float)
        keep = steps % self._stride == 0
        self._loss.data = {"step": steps[keep], "loss": losses[keep]}

    def update(self):
        session = self.session
        self.stream_loss()
        net, data = session.net, session.data
        arrays = {}
        if session.is_rnn:
            p = int(min(self.settings.sample, data.size - 1))
            x, z = data.X[p : p + 1], data.Z[p : p + 1]
            if self._sample_shown != p:
                self._static.data.update(target=z[0, :, 0].astype(float),
                                         input=x[0, :, 0].astype(float))
                self._sample_shown = p
                self._caption.object = (
                    f"Data sequence {p}: target (dashed), input (grey) and the network's output "
                    f"(red). Outputs are scored at s = {session.output_from}..{self.settings.tau} "
                    "(shaded)."
                )
            prediction = np.asarray(net.forward(x).output)[0, :, 0]
            self._fit.data.update(z=prediction.astype(float))
            arrays.update(sequence_input=x[0], sequence_target=z[0], sequence_prediction=prediction)
        elif self._regions:
            arrays.update(self._classify.update())
        elif data.input_width == 2:
            prediction = np.asarray(net.forward(self._grid).output)[:, 0].reshape(GRID, GRID)
            if self.settings.discretize:  # the class of each point: the label on its side
                first, second = self._label_values
                prediction = np.where(prediction >= (first + second) / 2, second, first)
            self._caption.object = boundary_caption(data, self.settings.discretize)
            self._fit.data = {"image": [prediction.astype(np.float32)]}
            arrays.update(grid_points=self._grid, grid_prediction=prediction)
        else:
            prediction = np.asarray(net.forward(self._grid[:, None]).output)[:, 0]
            self._fit.data.update(z=prediction.astype(float))
            arrays.update(grid_x=self._grid, grid_prediction=prediction)
        if self._classify is not None and not self._regions:
            arrays.update(self._classify.update())
        self.arrays = arrays
        self.set_note(
            f"batch r = {session.batch_size} · layers {'-'.join(map(str, session.layer_sizes))}"
            f" · {loss_title(net)} · the loss of the current step's mini-batch is beside the "
            "step counter"
        )
        yield

    def download_arrays(self) -> dict[str, np.ndarray]:
        """The loss of every recorded step up to now, and the arrays behind the last drawing
        of the fit. The history (up to ``app.training.session.HISTORY_LIMIT`` steps) is made into
        arrays here, on a download, not at every redraw: that cost a redraw up to 0.7 ms."""
        session = self.session
        return {"loss_step": np.asarray(session.loss_steps, float),
                "loss": np.asarray(session.loss_values, float), **self.arrays}


def boundary_caption(data, discrete: bool) -> str:
    """The line above the one-output decision plot: the output, or (``discrete``) the class
    it predicts, the label on its side of the midpoint."""
    first, second = data.labels
    if discrete:
        return (f"Predicted class on a grid (colour: {first:g} or {second:g}, the target on the "
                f"output's side of {(first + second) / 2:g}; output discretized) and the "
                f"{data.size} data points; the boundary is where the colour changes.")
    return (f"Network output on a grid (colour) and the {data.size} data points "
            f"(targets {first:g} / {second:g}); the boundary is where the colour turns.")


def needs_regions(data) -> bool:
    """Decision regions by class (``classify.py``) instead of the one-output boundary image:
    more than one output, inputs other than (x1, x2), or test points to show."""
    return (data.output_width > 1 or data.features not in (None, ("x1", "x2"))
            or data.points is None or data.test_size > 0)


def loss_title(net) -> str:
    """The formula of the network's loss (and weight decay), for the view's note."""
    if getattr(net, "loss_name", "mse") == "cross_entropy":
        title = "loss E = −(1/r) Σ z*ᵀ log softmax(z)"
    else:
        title = "loss E = 1/(2r) Σ‖z* − z‖²"
    return title + (" + λ_wd/2 Σ‖W‖²" if getattr(net, "weight_decay", 0.0) else "")
