"""Paper vs exact: each erratum's relative error at the current weights, live.

``hessian_core.errata.measure_fnn`` / ``measure_rnn`` evaluate, for the running network and
the current mini-batch, each equation of the paper that differs from the exact derivative
(docs/errata.md) and report ||paper - exact||_F / ||exact||_F. A bar at round-off level
means the paper's statement holds here (for example a ReLU network, where f'' = 0); a large
bar means it does not. Errata that do not apply to this network are listed as n/a.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from .common import EIGEN_LIMIT, View, plot_pane

FLOOR = 1e-17  # relative errors at exactly 0 are drawn at the floor of the log axis


class ErrataView(View):
    key = "errata"
    title = "Paper vs exact"

    def build(self) -> None:
        self._pipe = hv.streams.Pipe(data=None)
        self._table = pn.pane.Markdown("", css_classes=["errata-table"],
                                       sizing_mode="stretch_width")
        bars = hv.DynamicMap(
            lambda data: hv.Scatter((["—"], [FLOOR]) if data is None else data, "equation",
                                    "relative error"),
            streams=[self._pipe],
        ).opts(
            logy=True, color="#9467bd", size=16, marker="square", tools=["hover"],
            ylim=(FLOOR, 10.0), responsive=True, min_height=300, framewise=True, show_grid=True,
            title="‖paper − exact‖ / ‖exact‖ at the current weights (≈1e-16: the equation holds)",
        )
        self._body.objects = [
            plot_pane(bars, sizing_mode="stretch_width", min_height=310),
            self._table,
        ]

    def update(self):
        from hessian_core import errata

        session = self.session
        X, Z = self.batch()
        too_large = self.blocks_too_large(X)
        if too_large:
            self.set_note(too_large)
            return
        widest = max(session.layer_sizes[1:])
        size = widest * widest if session.is_rnn else widest * min(X.shape[0], widest)
        if size > EIGEN_LIMIT:
            self.set_note(f"Measuring the errata here needs {size}×{size} matrices, too large to "
                          "do live: choose narrower levels or a smaller batch.")
            return
        net, t = session.net, self.time_step()
        if session.is_rnn:
            measurements = yield from self.offload(lambda: errata.measure_rnn(net, X, Z, t))
        else:
            measurements = yield from self.offload(lambda: errata.measure_fnn(net, X, Z))
        applicable = [item for item in measurements if item.relative_error is not None]
        equations = [f"eq. {item.equation}" for item in applicable]
        errors = np.array([float(item.relative_error) for item in applicable])
        self._pipe.send((equations, np.maximum(errors, FLOOR)))
        yield
        rows = []
        for item in measurements:
            error = "n/a" if item.relative_error is None else f"{item.relative_error:.2e}"
            rows.append(
                f"| {item.equation} | {item.statement} | {item.case} | **{error}** "
                f"| {item.holds_when} |"
            )
        self._table.object = (
            "| equation | what the paper states | measured on | relative error now | holds when |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows)
        )
        self.arrays = {"relative_error": np.array([
            np.nan if item.relative_error is None else item.relative_error
            for item in measurements
        ])}
        net = session.net
        smooth = not (net.activation_of(1).piecewise_linear
                      and net.activation_of(net.n_layers).piecewise_linear)
        advice = ("Smooth activations: the printed formulas part from the exact Hessian."
                  if smooth else "Switch to sigmoid, tanh or softplus to see the printed "
                  "formulas part from the exact Hessian; with ReLU most of them coincide.")
        self.set_note(f"Activation {net.activation}, output {net.output_activation}, on the "
                      f"current mini-batch. {advice}")
