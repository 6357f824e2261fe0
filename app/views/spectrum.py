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

Zero. An eigenvalue counts as zero when |lambda| <= 10 N eps s (N eigenvalues, eps the float64
machine epsilon), with s the larger of max |lambda| and the size of the factors before any
cancellation: the mean over the terms of ||z||^2 times prod_{j>k} ||W^(j)||_2^2 (the loss
Hessian's own parts, I or diag(p) and p p^T, have norm <= 1), and the weight decay. The second
matters for softmax cross-entropy: diag(p) - p p^T is a difference of numbers near 1 whose
result is tiny once p is nearly one-hot, so its exact zero eigenvalue (rows sum to 0) comes out
at eps ||z||^2, which a threshold relative to max |lambda| alone would count as curvature.

Counting the zeros. For one FNN sample eq. (46) gives m(n - 1) zeros from z z^T, plus one per
zero eigenvalue of C~^(k). At the last level under softmax cross-entropy C~ = diag(p) - p p^T
(with the chain rule's factors) annihilates the all-ones vector, so C~ has rank M - 1 and one
more zero: m(n - 1) + 1 in all (``expected_zeros``). A batch of r (R = r t terms through time)
has at least m(n - min(R, n)) zeros.

Stability: plain gradient descent with step alpha diverges along directions where the
Hessian has an eigenvalue above 2/alpha. The top eigenvalue of one layer's Hessian is a lower
bound for the top eigenvalue of the whole Hessian (Cauchy interlacing: H^(k) is a principal
submatrix of the whole Hessian, and a principal submatrix's largest eigenvalue is at most the
whole matrix's), so the plot over training shows both: lambda_max(H^(k)) and the whole
Hessian's lambda_max (``net.whole_hessian(...).top_eigenvalues(1)``, Lanczos on its
matrix-vector products, computed on the worker thread with the layer's spectrum). With
formula = paper the layer block is the paper's, not the exact principal submatrix, and the
bound need not hold.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, Range1d

from app.views.common import EIGEN_LIMIT, View, superscript, symlog
from app.views.decay import decay_text
from app.views.figures import (
    OKABE_ITO,
    add_legend,
    empty_columns,
    fit_log_range,
    fit_range,
    fit_symlog_plot,
    line_figure,
    pane,
    set_text,
    threshold_steps,
)
from app.views.masks import dead_level_warning

EXACT, PREDICTED, BAND, WHOLE = OKABE_ITO[0], OKABE_ITO[1], "#F5C77E", OKABE_ITO[2]
#: the legend of the two top eigenvalues over training
LAYER_LABEL = "top λ of H⁽ᵏ⁾ (≤ the whole H's)"
WHOLE_LABEL = "top λ of the whole Hessian"
#: c in the zero threshold |lambda| <= c N eps s (see the module)
ZERO_FACTOR = 10.0


def factor_scale(net, hessian, layer: int) -> float:
    """Size of H^(k)'s factors before cancellation: the mean over samples of
    (sum_s ||z_s||)^2 (||z||^2 for an FNN) times prod_{j>k} ||W^(j)||_2^2."""
    inputs = np.asarray(hessian.inputs, dtype=float)  # (r, T, n)
    if inputs.size == 0:
        return 0.0
    inputs = inputs.reshape(inputs.shape[0], -1, inputs.shape[-1])
    size = float(np.mean(np.sum(np.linalg.norm(inputs, axis=-1), axis=-1) ** 2))
    for W in net.weights[layer:]:
        size *= float(np.linalg.norm(np.asarray(W, dtype=float), 2)) ** 2
    return size


def zero_tolerance(eigenvalues: np.ndarray, shift: float, factors: float) -> tuple[float, float]:
    """(tolerance, s): eigenvalues with |lambda| <= tolerance = ZERO_FACTOR N eps s are zero.

    >>> zero_tolerance(np.array([0.0, 1e-16, 1e-4]), 0.0, 2.0)[1]
    2.0
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    top = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    scale = max(top, abs(float(shift)), float(factors), 1e-300)
    return ZERO_FACTOR * max(eigenvalues.size, 1) * float(np.finfo(float).eps) * scale, scale


def softmax_null(session, layer: int, m: int) -> int:
    """Zero eigenvalues of C~^(k) that the configuration forces: 1 at the last level of an FNN
    trained with softmax cross-entropy on M >= 2 classes (C~ 1 = 0), else 0."""
    return int(not session.is_rnn and session.loss_name == "cross_entropy"
               and session.settings.output_activation == "identity"
               and layer == session.net.n_layers and m >= 2)


def expected_zeros(session, layer: int, m: int, n: int, terms: int) -> tuple[int, str]:
    """The number of zero eigenvalues the mathematics gives H^(k) for ``terms`` Kronecker
    terms (r samples times t steps), and the sum in words.

    One term: m(n - 1) from z z^T, plus the zeros that C~^(k) has by construction
    (``softmax_null``). Several: at least m(n - min(terms, n)) (the Gram reduction)."""
    if terms == 1:
        extra = softmax_null(session, layer, m)
        base = f"m(n − 1) = {m}·{n - 1} = {m * (n - 1)} from z zᵀ"
        if extra:
            return (m * (n - 1) + extra,
                    f"{base} plus {extra} from C̃ (softmax: C̃ 1 = 0, rank M − 1 = {m - 1})")
        return m * (n - 1), base
    q = min(terms, n)
    return m * (n - q), f"at least m(n − min(r·t, n)) = {m}·{n - q} = {m * (n - q)}"


def whole_top(net, X, Z, t: int | None = None) -> float:
    """The whole Hessian's top eigenvalue for the loss of the layer Hessian ``net.hessian(X,
    Z, t=t)`` (E, or E^(t) of an RNN): an upper bound of H^(k)'s (Cauchy interlacing)."""
    whole = net.whole_hessian(X, Z) if t is None else net.whole_hessian(X, Z, t=t)
    return float(np.asarray(whole.top_eigenvalues(1))[-1])


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
        for source in (self.points, self.prediction, self.band, self.top, self.top_threshold):
            source.data = {name: np.zeros(0) for name in source.data}
        self._top_rows: dict[str, list[float]] = {"step": [], "top": [], "whole": [],
                                                  "threshold": []}
        self._prediction_item.label = value(prediction_label(self.session.is_rnn))
        set_text(self._caption, "")
        set_text(self._counts, "")
        self.counts: dict = {}

    def _make_figures(self) -> None:
        predicted = prediction_label(self.session.is_rnn)
        self.points = ColumnDataSource(empty_columns("index", "y", "value"))
        self.prediction = ColumnDataSource(empty_columns("index", "y", "value"))
        self.band = ColumnDataSource(empty_columns("index", "lower", "upper"))
        plot = line_figure("sorted eigenvalues of H⁽ᵏ⁾", "index q (ascending)", "eigenvalue λ",
                           height=400, x_range=Range1d(0.5, 1.5), y_range=Range1d(-1.0, 1.0))
        plot.varea(x="index", y1="lower", y2="upper", source=self.band, fill_color=BAND,
                   fill_alpha=0.6, legend_label="Weyl band (eq. 101/103)")
        exact = plot.scatter(x="index", y="y", source=self.points, size=8, color=EXACT,
                             line_color="white", legend_label="exact")
        paper = plot.scatter(x="index", y="y", source=self.prediction, marker="x", size=12,
                             line_width=2, color=PREDICTED, legend_label=predicted)
        plot.add_tools(HoverTool(renderers=[exact, paper],
                                 tooltips=[("q", "@index"), ("λ", "@value{0.0000e}")]))
        add_legend(plot)
        self._prediction_item = next(item for item in plot.legend[0].items
                                     if paper in item.renderers)
        plot.yaxis.ticker = FixedTicker(ticks=[0.0])
        self.spectrum_plot = plot
        self.top = ColumnDataSource(empty_columns("step", "top", "whole", "threshold"))
        top = line_figure("top eigenvalue over training", "step", "eigenvalue", y_log=True,
                          height=280, x_range=Range1d(0.0, 1.0), y_range=Range1d(0.1, 100.0))
        top.line(x="step", y="whole", source=self.top, line_width=2, color=WHOLE,
                 legend_label=WHOLE_LABEL)
        top.scatter(x="step", y="whole", source=self.top, size=4, color=WHOLE,
                    legend_label=WHOLE_LABEL)  # a single point (step 0) shows too
        top.line(x="step", y="top", source=self.top, line_width=2, color=EXACT,
                 legend_label=LAYER_LABEL)
        self.top_threshold = ColumnDataSource(empty_columns("step", "threshold"))
        top.line(x="step", y="threshold", source=self.top_threshold, line_width=2,
                 color=PREDICTED, line_dash="dashed", legend_label="2 / learning rate")
        top.scatter(x="step", y="top", source=self.top, size=6, color=EXACT,
                    legend_label=LAYER_LABEL)
        add_legend(top)
        self.top_plot = top
        self._caption = pn.pane.Markdown("", css_classes=["spectrum-caption"], margin=(0, 10),
                                         sizing_mode="stretch_width")
        self._counts = pn.pane.Markdown("", css_classes=["spectrum-counts"],
                                        sizing_mode="stretch_width")
        self._body.objects = [
            self._caption,
            pane(plot, css_classes=["spectrum-plot"]),
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
                    np.asarray(term_eigenvalues(hessian)),  # terms: (r, T, m)
                    whole_top(net, X, Z, options.get("t")))

        hessian, eigenvalues, lower, upper, terms, whole = yield from self.offload(compute)
        self._body.visible = True
        m, n = hessian.n_outputs, hessian.n_inputs
        p = 0 if settings.scope == "sample" else self.sample_index()
        anchor = terms[p, -1]
        prediction = np.sort(np.concatenate([anchor, np.zeros(m * n - anchor.size)]))
        shift = float(getattr(hessian, "shift", 0.0))  # weight decay lam: H + lam I
        prediction = prediction + shift
        tolerance, scale = zero_tolerance(eigenvalues, shift, factor_scale(net, hessian, k))
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
        # the axes fit what is shown now, never an earlier model's or lesson's extent
        fit_symlog_plot(self.spectrum_plot, everything, linear, 0.5, eigenvalues.size + 0.5)
        set_text(self._caption, (
            f"Eigenvalues of H{superscript(k)} ({m * n} of them; r = {r}"
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
        rows["whole"].append(max(whole, 1e-12))
        rows["threshold"].append(threshold)
        self.top.data = {name: np.asarray(values) for name, values in rows.items()}
        shown = np.concatenate([rows["top"], rows["whole"], rows["threshold"]])
        fit_range(self.top_plot.x_range, rows["step"][0], max(rows["step"][-1],
                                                              rows["step"][0] + 1.0))
        self.top_threshold.data = threshold_steps(rows["step"], rows["threshold"],
                                                  self.top_plot.x_range.end)
        fit_log_range(self.top_plot.y_range, float(np.min(shown)), float(np.max(shown)))
        yield
        inside = bool(np.all(eigenvalues >= lower - tolerance)
                      and np.all(eigenvalues <= upper + tolerance))
        terms_count = r * (self.time_step() if session.is_rnn else 1)
        expected, why = expected_zeros(session, k, m, n, 1)
        at = f" at λ_wd = {shift:g}" if shift else ""
        data_zeros = int(np.sum(np.abs(eigenvalues - shift) <= tolerance))
        crosses = int(np.sum(np.abs(prediction - shift) <= tolerance))
        if data_zeros == m * n:
            vanished = (f" Here all {m * n} eigenvalues of the data term are zero: training has "
                        "driven its factors (C̃ or the level's input z) to zero, so "
                        f"H{superscript(k)} "
                        + ("is λ_wd·I" if shift else "is 0") + ".")
        else:
            vanished = ""
        scale_words = ("the larger of max|λ| and the size of H's factors before cancellation, "
                       f"mean ‖z‖² times ∏‖W⁽j⁾‖² over the levels j > {k}"
                       + (", and λ_wd" if shift else ""))
        if terms_count == 1:
            predicts = f"{alone} predicts {expected} zeros{at}: {why}."
        else:
            _, words = expected_zeros(session, k, m, n, terms_count)
            predicts = (f"{alone} predicts {expected} zeros{at} for sample {sample}'s term alone "
                        f"({why}); the sum of {terms_count} terms has {words}{at}.")
        set_text(self._counts, (
            "| negative | zero | positive |\n|---|---|---|\n"
            f"| {negative} | {zero} | {positive} |\n\n"
            f"*Zero means |λ| ≤ 10·N·ε·s = {tolerance:.1e}, with N = {eigenvalues.size} "
            f"eigenvalues, ε = 2.2e-16 and s = {scale:.3g}, {scale_words}: round-off, not "
            "curvature.*\n\n"
            f"{predicts} Its crosses (which also show any further zero of C̃) have {crosses} "
            f"at{at or ' 0'}.{vanished} "
            f"Top eigenvalue **{top:.4g}** of H{superscript(k)}; of the whole Hessian "
            f"**{whole:.4g}**, "
            f"never less (Cauchy interlacing: H{superscript(k)} is one of its diagonal blocks"
            + (", for the exact formula; the paper's block is not one" if settings.formula ==
               "paper" else "")
            + f"); 2/α = **{threshold:.4g}**. "
            f"All eigenvalues inside the Weyl band: **{'yes' if inside else 'no'}**."
            + (f"\n\n{decay_text(eigenvalues, shift, tolerance, expected)}" if shift else "")
        ))
        self.arrays = {"eigenvalues": eigenvalues, "weyl_lower": lower, "weyl_upper": upper,
                       "eq46_prediction": prediction, "term_eigenvalues": terms.reshape(-1, m),
                       "whole_top_eigenvalue": np.array([whole])}
        self.counts = {"negative": negative, "zero": zero, "positive": positive,
                       "expected_zeros": expected, "data_zeros": data_zeros,
                       "tolerance": tolerance, "inside_weyl": inside}
        if session.is_rnn:
            look = ("**Look at:** the orange × of the single term s = ζ = t (eq. 105) against "
                    "the exact eigenvalues (blue): the other t² − 1 terms move them within the "
                    "Weyl band.")
        elif r == 1:
            sign = (f", the other {m - 1} positive, none negative (diag(p) − p pᵀ is positive "
                    "semi-definite)" if softmax_null(session, k, m) else "")
            more = (f"; here {data_zeros}, {data_zeros - expected} more from zero eigenvalues "
                    "of C̃" if expected < data_zeros < m * n else "")
            look = (f"**Look at:** one sample: the orange × of eq. (46) sit on the blue dots, "
                    f"with {expected} zeros{at} ({why}){more}{sign}.{vanished}")
        else:
            look = ("**Look at:** eq. (46) describes one sample's term (orange ×); the batch "
                    "sum's eigenvalues (blue) stay inside the Weyl band.")
        warning = dead_level_warning(session, X)
        if warning:
            self.set_note(f"{warning}\n\n{look}")
        else:
            self.set_note(look)
