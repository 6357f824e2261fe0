"""Loss and accuracy on the whole training set and on the held-out test set, over training.

At each recorded step the network is evaluated on every training row and every test row of
a :class:`app.data.classification.ClassDataset` (:func:`app.data.classification.evaluate`): the
loss E
(the training loss asked for, weight decay included) and the accuracy, the fraction of rows
whose predicted class is their class. The mini-batch loss of the training view is noisy and
seen before each update; these curves are the model's loss on all the data, so that the gap
between training and test (over-fitting) shows. Two Bokeh figures built once; a record
streams one row into their ``ColumnDataSource``. Each curve also marks its points, so that
the first row (step 0) shows before there is a line to draw, and the loss axis spans whole
decades (:func:`app.views.figures.fit_log_range`), labelled only at powers of ten however
short the plot is.
"""

from __future__ import annotations

import math

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from app.data.classification import evaluate
from app.views.figures import add_legend, fit_log_range, log_axis, step_axis
from app.views.live_text import LiveText

TRAIN, TEST = "#0072B2", "#D55E00"
COLUMNS = ("step", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
#: rows kept in the sources
HISTORY = 5000


def metrics_figure(title: str, y_label: str, log: bool) -> figure:
    plot = figure(title=title, x_axis_label="step", y_axis_label=y_label, height=220,
                  sizing_mode="stretch_width", min_width=280, y_axis_type="log" if log else
                  "linear", tools="pan,wheel_zoom,reset,save", toolbar_location="right")
    plot.toolbar.logo = None
    plot.title.text_font_size = "14px"
    if log:
        log_axis(plot.yaxis[0])
    step_axis(plot.xaxis[0])
    return plot


class MetricsPlot:
    """Training and test loss and accuracy of a classification data set over the steps."""

    def __init__(self, data):
        self.data = data
        self.source = ColumnDataSource({name: np.zeros(0) for name in COLUMNS})
        self.loss_figure = metrics_figure("loss E on all training / test rows", "loss", True)
        self.accuracy_figure = metrics_figure("accuracy", "fraction correct", False)
        self.accuracy_figure.y_range = Range1d(0.0, 1.02)
        self.loss_figure.y_range = Range1d(0.01, 1.0)
        has_test = data.test_size > 0
        for plot, name in ((self.loss_figure, "loss"), (self.accuracy_figure, "accuracy")):
            lines = [plot.line(x="step", y=f"train_{name}", source=self.source, color=TRAIN,
                               line_width=2, legend_label="training")]
            plot.scatter(x="step", y=f"train_{name}", source=self.source, color=TRAIN, size=3,
                         legend_label="training")
            if has_test:
                lines.append(plot.line(x="step", y=f"test_{name}", source=self.source,
                                       color=TEST, line_width=2, line_dash="dashed",
                                       legend_label="test"))
                plot.scatter(x="step", y=f"test_{name}", source=self.source, color=TEST, size=3,
                             legend_label="test")
            plot.add_tools(HoverTool(renderers=lines, tooltips=[
                ("step", "@step"), ("training", f"@train_{name}{{0.0000}}"),
                ("test", f"@test_{name}{{0.0000}}")]))
            add_legend(plot)
        # changed while training runs: plain text that lays nothing out (app/views/live_text.py)
        self.summary = LiveText(text="", css_classes=["metrics-summary"], margin=(0, 10))
        self.last: dict[str, float] = {}

    def record(self, step: int, net) -> dict[str, float]:
        """Evaluate ``net`` on the training and test rows and add the row for ``step`` (a
        step already recorded, the last one, is replaced)."""
        data = self.data
        train_loss, train_accuracy = evaluate(net, data.X, data.Z, data.class_labels,
                                              data.labels)
        test_loss, test_accuracy = evaluate(net, data.test_X, data.test_Z, data.test_labels,
                                            data.labels)
        row = {"step": float(step), "train_loss": train_loss, "test_loss": test_loss,
               "train_accuracy": train_accuracy, "test_accuracy": test_accuracy}
        steps = self.source.data["step"]
        if len(steps) and steps[-1] >= step:
            last = len(steps) - 1
            self.source.patch({name: [(last, value)] for name, value in row.items()})
        else:
            self.source.stream({name: [value] for name, value in row.items()},
                               rollover=HISTORY)
        losses = np.concatenate([self.source.data["train_loss"], self.source.data["test_loss"]])
        losses = losses[np.isfinite(losses) & (losses > 0)]
        if losses.size:
            fit_log_range(self.loss_figure.y_range, losses.min(), losses.max())
        self.last = row
        self.summary.text = summary_text(row)
        return row

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"metrics_{name}": np.asarray(self.source.data[name], dtype=float)
                for name in COLUMNS}


def summary_text(row: dict[str, float]) -> str:
    """One line: training (and test) loss and accuracy.

    >>> summary_text({"train_loss": 0.5, "train_accuracy": 0.75, "test_loss": float("nan"),
    ...               "test_accuracy": float("nan")})
    'training: loss 0.5 · accuracy 75.0 %'
    """
    text = f"training: loss {row['train_loss']:.4g} · accuracy {100 * row['train_accuracy']:.1f} %"
    if not math.isnan(row["test_loss"]):
        text += (f" — test: loss {row['test_loss']:.4g} · accuracy "
                 f"{100 * row['test_accuracy']:.1f} %")
    return text
