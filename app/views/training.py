"""Training: the loss curve (streamed), the decision boundary or fit, predicted sequences.

The loss is the paper's scaled batch loss E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2 of each
mini-batch, appended to an ``hv.streams.Buffer`` as training runs. Plot options are set
once on each DynamicMap; a refresh only sends arrays.
"""

from __future__ import annotations

import bisect

import holoviews as hv
import numpy as np
import panel as pn

from .common import DIVERGING, View, log_range, plot_pane

GRID = 64  # decision-boundary resolution per axis


class TrainingView(View):
    key = "training"
    title = "Training"

    def build(self) -> None:
        session = self.session
        # start from the loss of the initial weights (a log axis needs one positive value)
        start = session.loss if np.isfinite(session.loss) and session.loss > 0 else 1.0
        self._loss = hv.streams.Buffer(
            {"step": np.zeros(1), "loss": np.array([start])}, length=5000, index=False
        )
        self._sent = 0
        # one Curve, not an overlay: a Buffer streams into a lone element cheaply (an overlay
        # with a marker doubles the cost of every tick); an explicit range while all values
        # are equal keeps the first frame's log axis positive
        loss_plot = hv.DynamicMap(
            lambda data: hv.Curve(data, "step",
                                  hv.Dimension("loss", range=log_range(data["loss"]))),
            streams=[self._loss],
        ).opts(
            logy=True, responsive=True, min_height=320, tools=["hover"], color="#1f77b4",
            line_width=2, title="loss E = 1/(2r) Σ‖z* − z‖² of each mini-batch", framewise=True,
        )
        data = session.data
        self._fit = hv.streams.Pipe(data=None)
        self._static = hv.streams.Pipe(data=None)
        self._caption = pn.pane.Markdown("", margin=(0, 10))
        if session.is_rnn:
            fit = self._sequence_plot()
        elif data.input_width == 2:
            fit = self._boundary_plot(data)
        else:
            fit = self._regression_plot(data)
        self._body.objects = [
            pn.Row(
                plot_pane(loss_plot, sizing_mode="stretch_width", min_height=330),
                pn.Column(self._caption, plot_pane(fit, sizing_mode="stretch_width",
                                                           min_height=330),
                          sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            )
        ]
        self._sample_shown = None

    # --- plots -------------------------------------------------------------------------
    def _boundary_plot(self, data):
        low, high = data.X.min(axis=0) - 0.2, data.X.max(axis=0) + 0.2
        xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
        gx, gy = np.meshgrid(xs, ys)
        self._grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        bounds = (xs[0], ys[0], xs[-1], ys[-1])
        first, second = data.labels
        spread = second - first
        image = hv.DynamicMap(
            lambda data: hv.Image(
                np.zeros((GRID, GRID)) if data is None else data, bounds=bounds,
                kdims=["x1", "x2"], vdims=["output"],
            ),
            streams=[self._fit],
        ).opts(cmap=DIVERGING, clim=(first - 0.5 * spread, second + 0.5 * spread), alpha=0.8,
               colorbar=True, tools=["hover"])
        points = hv.Points((data.X[:, 0], data.X[:, 1], data.Z[:, 0]), ["x1", "x2"], ["target"])
        points = points.opts(color="target", cmap=DIVERGING, clim=(first, second), size=5,
                             line_color="black", line_width=0.5)
        self._caption.object = (
            f"Network output on a grid (colour) and the {data.size} data points "
            f"(targets {first:g} / {second:g}); the boundary is where the colour turns."
        )
        return (image * points).opts(responsive=True, min_height=320,
                                     title="decision boundary and data")

    def _regression_plot(self, data):
        self._grid = np.linspace(data.X.min() - 0.1, data.X.max() + 0.1, 200)
        grid = self._grid
        scatter = hv.Scatter((data.X[:, 0], data.Z[:, 0]), "x", "z").opts(
            color="gray", size=4, alpha=0.6
        )
        curve = hv.DynamicMap(
            lambda data: hv.Curve((grid, np.zeros_like(grid) if data is None else data), "x", "z"),
            streams=[self._fit],
        ).opts(color="#d62728", line_width=3)
        self._caption.object = "Data (grey) and the network's fit (red)."
        return (scatter * curve).opts(responsive=True, min_height=320, title="fit")

    def _sequence_plot(self):
        tau = self.settings.tau
        steps = np.arange(1, tau + 1)

        def known(data):
            data = data or {"target": np.zeros(tau), "input": np.zeros(tau)}
            target = hv.Curve((steps, data["target"]), "time step s", "z", label="target z*")
            inputs = hv.Curve((steps, data["input"]), "time step s", "z", label="input x")
            return target.opts(color="black", line_dash="dashed", line_width=2) * inputs.opts(
                color="gray", alpha=0.6
            )

        static = hv.DynamicMap(known, streams=[self._static])
        predicted = hv.DynamicMap(
            lambda data: hv.Curve((steps, np.zeros(tau) if data is None else data),
                                  "time step s", "z", label="network z"),
            streams=[self._fit],
        ).opts(color="#d62728", line_width=3)
        window = hv.VSpan(self.session.output_from - 0.5, tau + 0.5).opts(color="#ffe680",
                                                                            alpha=0.3)
        return (window * static * predicted).opts(
            responsive=True, min_height=320, legend_position="top_left", xlabel="time step s",
            ylabel="z",
            title="one sequence: target, input and the network's output",
        )

    # --- refresh -----------------------------------------------------------------------
    def stream(self) -> None:
        """Streamed between redraws, every tick (the dashboard calls it)."""
        self.stream_loss()

    def stream_loss(self) -> None:
        """Send the loss points recorded since the last call (cheap: every tick)."""
        steps, values = self.session.loss_steps, self.session.loss_values
        first = bisect.bisect_right(steps, self._sent)
        if first < len(steps):
            self._loss.send({
                "step": np.asarray(steps[first:], float),
                "loss": np.asarray(values[first:], float),
            })
            self._sent = steps[-1]

    def update(self):
        session = self.session
        self.stream_loss()
        yield
        net, data = session.net, session.data
        arrays = {"loss_step": np.asarray(session.loss_steps, float),
                  "loss": np.asarray(session.loss_values, float)}
        if session.is_rnn:
            p = int(min(self.settings.sample, data.size - 1))
            x, z = data.X[p : p + 1], data.Z[p : p + 1]
            if self._sample_shown != p:
                self._static.send({"target": z[0, :, 0], "input": x[0, :, 0]})
                self._sample_shown = p
                self._caption.object = (
                    f"Data sequence {p}: target (dashed), input (grey) and the network's output "
                    f"(red). Outputs are scored at s = {session.output_from}..{self.settings.tau} "
                    "(shaded)."
                )
            prediction = np.asarray(net.forward(x).output)[0, :, 0]
            self._fit.send(prediction)
            arrays.update(sequence_input=x[0], sequence_target=z[0], sequence_prediction=prediction)
        elif data.input_width == 2:
            prediction = np.asarray(net.forward(self._grid).output)[:, 0].reshape(GRID, GRID)
            self._fit.send(prediction[::-1])
            arrays.update(grid_points=self._grid, grid_prediction=prediction)
        else:
            prediction = np.asarray(net.forward(self._grid[:, None]).output)[:, 0]
            self._fit.send(prediction)
            arrays.update(grid_x=self._grid, grid_prediction=prediction)
        self.arrays = arrays
        yield
        self.set_note(
            f"step {session.step} · loss {session.loss:.4g} · batch r = {session.batch_size} · "
            f"layers {'-'.join(map(str, session.layer_sizes))}"
        )
