"""Paper vs exact: each erratum's relative error at the current weights, live.

``hessian_core.errata.measure_fnn`` / ``measure_rnn`` evaluate, for the running network and
the current mini-batch, each equation of the paper that differs from the exact derivative
(docs/errata.md) and report ||paper - exact||_F / ||exact||_F. A bar at round-off level
means the paper's statement holds here (for example a ReLU network, where f'' = 0); a large
bar means it does not. Errata that do not apply to this network are listed as n/a.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, FactorRange, HoverTool, Span

from app.views.common import EIGEN_LIMIT, View, typeset
from app.views.figures import OKABE_ITO, add_legend, line_figure, pane, set_text

FLOOR = 1e-18  # relative errors at exactly 0 are drawn at the floor of the log axis
#: a relative error at or below this is round-off: the paper's equation holds here
ROUND_OFF = 1e-10
HOLDS, DIFFERS = OKABE_ITO[2], OKABE_ITO[1]


class ErrataView(View):
    key = "errata"
    title = "Paper vs exact"

    plot = None

    def build(self) -> None:
        """The figure is made once per session and cleared for each model: new figures put
        into a live page after a rebuild would miss their first data."""
        if self.plot is None:
            self._make_figures()
        for source in self.sources.values():
            source.data = {"equation": [], "error": [], "value": [], "bottom": []}
        set_text(self._table, "")

    def _make_figures(self) -> None:
        plot = line_figure("‖paper − exact‖ / ‖exact‖ now", "equation of the paper",
                           "relative error", y_log=True, height=340,
                           x_range=FactorRange(factors=["—"]))
        plot.y_range.start, plot.y_range.end = FLOOR, 10.0
        plot.tools = [tool for tool in plot.tools if type(tool).__name__ in ("SaveTool",)]
        self.sources = {}
        renderers = []
        for label, colour in (("holds here (round-off)", HOLDS),
                              ("differs from the exact Hessian", DIFFERS)):
            source = ColumnDataSource({"equation": [], "error": [], "value": [], "bottom": []})
            self.sources[label] = source
            plot.vbar(x="equation", top="error", bottom="bottom", width=0.5, source=source,
                      color=colour, alpha=0.35)
            renderers.append(plot.scatter(x="equation", y="error", source=source, size=16,
                                          marker="square", color=colour, line_color="black",
                                          legend_label=label))
        plot.add_layout(Span(location=ROUND_OFF, dimension="width", line_dash="dashed",
                             line_color="#666666", line_width=1.5))
        plot.add_tools(HoverTool(renderers=renderers,
                                 tooltips=[("equation", "@equation"),
                                           ("relative error", "@value")]))
        plot.xgrid.visible = False
        add_legend(plot)
        self.plot = plot
        self._table = pn.pane.Markdown("", css_classes=["errata-table"],
                                       sizing_mode="stretch_width")
        self._body.objects = [pane(plot, css_classes=["errata-bars"]), self._table]

    def update(self):
        from hessian_core import errata

        session = self.session
        X, Z = self.batch()
        too_large = self.blocks_too_large(X)
        if too_large:
            self._body.visible = False
            self.set_note(too_large)
            return
        widest = max(session.layer_sizes[1:])
        size = widest * widest if session.is_rnn else widest * min(X.shape[0], widest)
        if size > EIGEN_LIMIT:
            self._body.visible = False
            self.set_note(f"Measuring the errata here needs {size}×{size} matrices, too large to "
                          "do live: choose narrower levels or a smaller batch.")
            return
        net, t = session.net, self.time_step()
        if session.is_rnn:
            measurements = yield from self.offload(lambda: errata.measure_rnn(net, X, Z, t))
        else:
            measurements = yield from self.offload(lambda: errata.measure_fnn(net, X, Z))
        self._body.visible = True
        applicable = [item for item in measurements if item.relative_error is not None]
        factors = [f"eq. {item.equation}" for item in applicable] or ["—"]
        if list(self.plot.x_range.factors) != factors:
            self.plot.x_range.factors = factors
        for label, source in self.sources.items():
            chosen = [item for item in applicable
                      if (float(item.relative_error) <= ROUND_OFF) == label.startswith("holds")]
            errors = np.array([float(item.relative_error) for item in chosen])
            source.data = {
                "equation": [f"eq. {item.equation}" for item in chosen],
                "error": np.maximum(errors, FLOOR),
                "value": [f"{error:.3e}" for error in errors],
                "bottom": np.full(errors.size, FLOOR),
            }
        yield
        rows = []
        for item in measurements:
            if item.relative_error is None:
                error, now = "n/a", "n/a"
            else:
                error = f"{item.relative_error:.2e}"
                now = "yes" if item.relative_error <= ROUND_OFF else "**no**"
            rows.append(
                f"| {item.equation} | {typeset(item.statement)} | {typeset(item.case)} "
                f"| **{error}** | {now} | {typeset(item.holds_when)} |"
            )
        set_text(self._table, (
            "| equation | what the paper states | measured on | relative error now "
            "| holds here now | holds when |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows)
        ))
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
        when = f" at output time t = {t}" if session.is_rnn else ""
        self.set_note(f"**Look at:** which equations sit at round-off (green, below the dashed "
                      f"line: the paper holds here) and which differ (orange){when}. "
                      f"Activation {net.activation}, output {net.output_activation}, on the "
                      f"current mini-batch. {advice}")
