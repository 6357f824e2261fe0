"""The reference page of the class benchmark: the smallest Panel page that trains live.

Served with ``panel serve benchmarks/reference_page.py`` (``benchmarks/bench_classroom.py``
does it, beside the app, and prints the app's figures as ratios of these). It is the issue's
yardstick for "the app adds no bottleneck of its own": one Play button, a step counter
reading "step N" (the app's CSS hooks ``play-button`` and ``step-counter``, so the
benchmark's page observer reads both pages alike) and one Bokeh line. Every frame
(:data:`FRAME_MS`) it takes :data:`STEPS_PER_FRAME` NumPy SGD steps of a least-squares
model, streams one (step, loss) point into the line and writes the counter: the least a
live page can send and draw. Its process is set up as the app's (``app.page.serving``).
Whatever it costs the server and the browsers is the floor the app is measured against on
the same machine, in the same run.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

FRAME_MS = 40  # the app's frame grid (app/live/scheduler.py): 25 frames/s at most
STEPS_PER_FRAME = 20
BATCH, FEATURES, SAMPLES = 16, 8, 256
LEARNING_RATE = 0.05


class ReferenceTrainer:
    """Mini-batch SGD on a noisy linear least-squares problem (fixed seed)."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((SAMPLES, FEATURES))
        self.y = self.X @ rng.standard_normal(FEATURES) + 0.1 * rng.standard_normal(SAMPLES)
        self.w = np.zeros(FEATURES)
        self.step = 0
        self._rng = rng

    def train(self, steps: int) -> float:
        """``steps`` SGD steps; the last mini-batch's loss 1/(2r) ||X w - y||^2."""
        loss = float("nan")
        for _ in range(steps):
            batch = self._rng.integers(0, SAMPLES, BATCH)
            residual = self.X[batch] @ self.w - self.y[batch]
            loss = float(residual @ residual) / (2 * BATCH)
            self.w -= LEARNING_RATE * (self.X[batch].T @ residual) / BATCH
            self.step += 1
        return loss


class ReferencePage(pn.viewable.Viewer):
    """Play, the step counter and the loss line of one session."""

    def __init__(self, **params):
        super().__init__(**params)
        self.trainer = ReferenceTrainer()
        self.source = ColumnDataSource({"step": [], "loss": []})
        plot = figure(title="loss", height=300, sizing_mode="stretch_width", y_axis_type="log")
        plot.line("step", "loss", source=self.source, line_width=2)
        self.counter = pn.pane.HTML("step 0", css_classes=["step-counter"])
        self.play = pn.widgets.Button(label="Play", css_classes=["play-button"])
        self.play.on_click(self.toggle)
        self._callback = None  # Panel's periodic callback while playing
        self._layout = pn.Column(self.play, self.counter,
                                 pn.pane.Bokeh(plot, sizing_mode="stretch_width"),
                                 sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    @property
    def playing(self) -> bool:
        return self._callback is not None

    def frame(self) -> None:
        loss = self.trainer.train(STEPS_PER_FRAME)
        self.source.stream({"step": [self.trainer.step], "loss": [loss]})
        self.counter.object = f"step {self.trainer.step}"

    def toggle(self, _event=None) -> None:
        if self._callback is None:
            self._callback = pn.state.add_periodic_callback(self.frame, period=FRAME_MS)
            self.play.label = "Pause"
        else:
            self._callback.stop()
            self._callback = None
            self.play.label = "Play"


if pn.state.served:
    from app.page.serving import configure_served_process

    pn.extension()
    configure_served_process()  # as app/main.py: no Bokeh self-checks, one BLAS thread
    ReferencePage().servable(title="reference page")
