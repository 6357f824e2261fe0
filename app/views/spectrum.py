"""Spectrum: sorted eigenvalues of H^(k) with eq. (46)'s prediction and the Weyl band.

Eq. (46): one FNN sample has
lambda(H_W^(k)) = {0 (multiplicity (n-1) m), ||z^(k-1)||^2 lambda_i(C~^(k))};
for RNNs the s = zeta = t term obeys the same (eq. 105). A batch, or the other t^2 - 1
terms through time, move the eigenvalues within the Weyl bounds of eq. (101)/(103)
(``LayerHessian.weyl_bounds()``). The eigenvalues come from ``LayerHessian.eigvalsh()``
(Kronecker factors, never the dense matrix where structure exists). The vertical axis is a
symmetric log scale, sign(lambda) log10(1 + |lambda| / epsilon), labelled with real eigenvalues
(``figures.set_symlog_axis``), so that negative, zero and positive eigenvalues all show and
each can be read off; the hover tool gives the exact value.

Stability: plain gradient descent with step alpha diverges along directions where the
Hessian has an eigenvalue above 2/alpha. The top eigenvalue of one layer's Hessian is a lower
bound for the top eigenvalue of the whole Hessian (Cauchy interlacing).
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool

from .common import EIGEN_LIMIT, View, symlog
from .decay import decay_text
from .figures import (
    OKABE_ITO,
    add_legend,
    empty_columns,
    line_figure,
    pane,
    set_symlog_axis,
    set_text,
)
from .masks import dead_level_warning

EXACT, PREDICTED, BAND = OKABE_ITO[0], OKABE_ITO[1], "#F5C77E"


def prediction_label(is_rnn: bool) -> str:
    """The paper's equation for one Kronecker term's eigenvalues: (46) FNN, (105) RNN."""
    return "eq. (105), term s = ζ = t" if is_rnn else "eq. (46)"


class SpectrumView(View):
    key = "spectrum"
    title = "Spectrum"

    spectrum_plot = None

    def build(self) -> None:
        """The figures are made once per session; each model clears them and names its
        equation in the legend: new Bokeh models put into a live page after a rebuild would
        miss their first data."""
        if self.spectrum_plot is None:
            self._make_figures()
        for source in (self.points, self.prediction, self.band, self.top):
            source.data = {name: np.zeros(0) for name in source.data}
        self._top_rows: dict[str, list[float]] = {"step": [], "top": [], "threshold": []}
        self._prediction_item.label = value(prediction_label(self.session.is_rnn))
        set_text(self._caption, "")
        set_text(self._counts, "")

    def _make_figures(self) -> None:
        predicted = prediction_label(self.session.is_rnn)
        self.points = ColumnDataSource(empty_columns("index", "y", "value"))
        self.prediction = ColumnDataSource(empty_columns("index", "y", "value"))
        self.band = ColumnDataSource(empty_columns("index", "lower", "upper"))
        plot = line_figure("sorted eigenvalues of H^(k)", "index q (ascending)", "eigenvalue λ",
                           height=400)
        plot.varea(x="index", y1="lower", y2="upper", source=self.band, fill_color=BAND,
                   fill_alpha=0.6, legend_label="Weyl band (eq. 101/103)")
        exact = plot.scatter(x="index", y="y", source=self.points, size=8, color=EXACT,
                             line_color="white", legend_label="exact")
        paper = plot.scatter(x="index", y="y", source=self.prediction, marker="x", size=12,
                             line_width=2, color=PREDICTED, legend_label=predicted)
        plot.add_tools(HoverTool(renderers=[exact, paper],
                                 tooltips=[("q", "@index"), ("λ", "@value{0.0000e}")]))
        add_legend(plot, "top_left")
        self._prediction_item = next(item for item in plot.legend[0].items
                                     if paper in item.renderers)
        plot.yaxis.ticker = FixedTicker(ticks=[0.0])
        self.spectrum_plot = plot
        self.top = ColumnDataSource(empty_columns("step", "top", "threshold"))
        top = line_figure("top eigenvalue over training", "step", "eigenvalue", y_log=True,
                          height=280)
        top.line(x="step", y="top", source=self.top, line_width=2, color=EXACT,
                 legend_label="top λ of H^(k)")
        top.line(x="step", y="threshold", source=self.top, line_width=2, color=PREDICTED,
                 line_dash="dashed", legend_label="2 / learning rate")
        top.scatter(x="step", y="top", source=self.top, size=6, color=EXACT,
                    legend_label="top λ of H^(k)")
        add_legend(top, "center_right")  # the data run along the top and the bottom
        self.top_plot = top
        self._caption = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width")
        self._counts = pn.pane.Markdown("", css_classes=["spectrum-counts"],
                                        sizing_mode="stretch_width")
        self._body.objects = [
            self._caption,
            pane(plot),
            pn.Row(
                pn.Column(self._counts, sizing_mode="stretch_width"),
                pn.Column(pane(top), sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
        ]

    def update(self):
        from hessian_core.spectra import term_eigenvalues

        session, settings = self.session, self.settings
        X, Z = self.batch()
        options = self.hessian_options(X)
        if options is None:
            self._body.visible = False
            return
        k = options["layer"]
        size = self.eigenproblem_size(X)
        if size > EIGEN_LIMIT:
            self._body.visible = False
            self.set_note(f"The spectrum of this Hessian needs a {size}×{size} eigenproblem, too "
                          "large to solve live: choose a narrower level, one sample or a smaller "
                          "batch.")
            return
        net = session.net

        def compute():
            hessian = net.hessian(X, Z, **options)
            lower, upper = hessian.weyl_bounds()
            return (hessian, np.asarray(hessian.eigvalsh()), np.asarray(lower), np.asarray(upper),
                    np.asarray(term_eigenvalues(hessian)))  # terms: (r, T, m)

        hessian, eigenvalues, lower, upper, terms = yield from self.offload(compute)
        self._body.visible = True
        m, n = hessian.n_outputs, hessian.n_inputs
        p = 0 if settings.scope == "sample" else self.sample_index()
        anchor = terms[p, -1]
        prediction = np.sort(np.concatenate([anchor, np.zeros(m * n - anchor.size)]))
        shift = float(getattr(hessian, "shift", 0.0))  # weight decay lam: H + lam I
        prediction = prediction + shift
        scale = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
        tolerance = max(scale, 1e-300) * eigenvalues.size * np.finfo(float).eps * 10
        negative = int(np.sum(eigenvalues < -tolerance))
        positive = int(np.sum(eigenvalues > tolerance))
        zero = eigenvalues.size - negative - positive
        sample = self.sample_index()
        r = X.shape[0]
        alone = prediction_label(session.is_rnn)
        everything = np.concatenate([eigenvalues, prediction, lower, upper])
        biggest = float(np.max(np.abs(everything))) if everything.size else 0.0
        linear = max(biggest * 1e-4, 1e-12)
        x = np.arange(1, eigenvalues.size + 1, dtype=float)
        self.band.data = {"index": x, "lower": symlog(lower, linear),
                          "upper": symlog(upper, linear)}
        self.points.data = {"index": x, "y": symlog(eigenvalues, linear), "value": eigenvalues}
        self.prediction.data = {"index": x, "y": symlog(prediction, linear), "value": prediction}
        set_symlog_axis(self.spectrum_plot, float(np.max(everything, initial=0.0)), linear,
                        float(np.min(everything, initial=0.0)))
        set_text(self._caption, (
            f"Eigenvalues of H^({k}) ({m * n} of them; r = {r}"
            + (f", t = {self.time_step()}" if session.is_rnn else "")
            + f"). Orange ×: {alone} for sample {sample} alone. Vertical axis: symmetric "
            "log scale (linear near 0), ticks at real eigenvalues; hover for exact values."
        ))
        yield
        top = float(eigenvalues[-1]) if eigenvalues.size else 0.0
        step, threshold = float(session.step), 2.0 / float(settings.learning_rate)
        rows = self._top_rows
        if rows["step"] and rows["step"][-1] >= step:  # redrawn without training: replace
            for column in rows.values():
                column.pop()
        rows["step"].append(step)
        rows["top"].append(max(top, 1e-12))
        rows["threshold"].append(threshold)
        self.top.data = {name: np.asarray(values) for name, values in rows.items()}
        yield
        inside = bool(np.all(eigenvalues >= lower - tolerance)
                      and np.all(eigenvalues <= upper + tolerance))
        set_text(self._counts, (
            "| negative | zero | positive |\n|---|---|---|\n"
            f"| {negative} | {zero} | {positive} |\n\n"
            f"Top eigenvalue **{top:.4g}** vs 2/α = **{threshold:.4g}**. "
            f"All eigenvalues inside the Weyl band: **{'yes' if inside else 'no'}**. "
            f"{alone} predicts {m * (n - 1)} zeros for one sample"
            + (" (at λ_wd with weight decay)" if shift else "") + ". Zero here means "
            f"|λ| ≤ {tolerance:.1e}."
            + (f"\n\n{decay_text(eigenvalues, shift, tolerance)}" if shift else "")
        ))
        self.arrays = {"eigenvalues": eigenvalues, "weyl_lower": lower, "weyl_upper": upper,
                       "eq46_prediction": prediction, "term_eigenvalues": terms.reshape(-1, m)}
        if session.is_rnn:
            look = ("**Look at:** the orange × of the single term s = ζ = t (eq. 105) against "
                    "the exact eigenvalues (blue): the other t² − 1 terms move them within the "
                    "Weyl band.")
        elif r == 1:
            look = ("**Look at:** one sample: the orange × of eq. (46) should sit on every "
                    "blue eigenvalue, with m(n − 1) zeros.")
        else:
            look = ("**Look at:** eq. (46) describes one sample's term (orange ×); the batch "
                    "sum's eigenvalues (blue) stay inside the Weyl band.")
        warning = dead_level_warning(session, X)
        if warning:
            self.set_note(f"{warning}\n\n{look}")
        else:
            self.set_note(look)
