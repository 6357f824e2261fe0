"""Whole Hessian: every parameter at once, the blocks between levels included (beyond the paper).

The paper derives the diagonal blocks H^(k) of one level's W, U or b. This view shows the
Hessian of the mini-batch's loss E with respect to all P parameters, in
``net.parameter_vector()`` order (for k = 1..l: vec(W^(k)) row-major, [vec(U^(k))], b^(k)),
from ``net.whole_hessian(X, Z)`` (:mod:`hessian_core.whole`):

- the P x P matrix ``H.dense()`` as an image (block means above ``MAX_IMAGE_SIDE``), its
  blocks W^(k), U^(k), b^(k) outlined and labelled from ``net.parameter_layout()``; the
  diagonal blocks are the paper's layer Hessians, the others couple two arrays;
- its eigenvalues beside those of its Gauss-Newton part GGN = J^T (d^2E/dz dz) J
  (``H.gauss_newton()``, positive semi-definite), and ||H - GGN||_F / ||H||_F, the share of
  the residual term that carries f'' and the adjoints;
- the sharpness, the top eigenvalue lambda_max(H) (``H.top_eigenvalues(1)``, Lanczos on
  ``H.matvec``), over training against 2/alpha: gradient descent with step alpha is stable on
  a quadratic only where lambda_max < 2/alpha, and full-batch gradient descent drives the
  sharpness up to 2/alpha and keeps it there (the edge of stability, Cohen et al. 2021).

Up to ``WHOLE_DENSE_LIMIT`` parameters the matrix is formed (P products) and both spectra are
complete. Above it no matrix is drawn: the top ``LANCZOS_COUNT`` eigenvalues of H and of GGN
come from Lanczos on the matrix-vector products, and ||H - GGN||_F / ||H||_F is estimated
from ``PROBES`` random sign vectors (E ||A v||^2 = ||A||_F^2 for v of independent +-1 entries).

While training plays, the sharpness is computed at every redraw (on the session's worker
thread); the matrix and the spectra, P products and two P x P eigenproblems, at most once
every ``DENSE_SPACING`` times their last cost, and at every redraw after Pause or a change.
"""

from __future__ import annotations

import time

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, LabelSet, Range1d

from app.views.common import View, block_average, superscript, symlog
from app.views.figures import (
    OKABE_ITO,
    MatrixPlot,
    add_legend,
    empty_columns,
    fit_range,
    fit_symlog_plot,
    line_figure,
    pane,
    set_text,
    threshold_steps,
)
from app.views.spectrum import zero_tolerance

#: largest number of parameters P whose whole Hessian is formed and drawn live
#: (P matrix-vector products and two P x P eigenproblems)
WHOLE_DENSE_LIMIT = 600
#: eigenvalues of H and of GGN computed by Lanczos above the limit
LANCZOS_COUNT = 12
#: random sign vectors of the estimate of ||H - GGN||_F / ||H||_F above the limit
PROBES = 8
#: while playing, the matrix and spectra are recomputed no sooner than this many times
#: their last cost after the last time
DENSE_SPACING = 4.0
HESSIAN, GAUSS_NEWTON = OKABE_ITO[0], OKABE_ITO[1]
#: frame side (px) of the matrix image
SIDE = 420


def block_labels(network) -> list[tuple[str, int, int]]:
    """(label, first index, end index) of every parameter array in theta, from
    ``net.parameter_layout()``.

    >>> from hessian_core import FNN
    >>> block_labels(FNN.random((2, 3, 1), seed=0))
    [('W⁽¹⁾', 0, 6), ('b⁽¹⁾', 6, 9), ('W⁽²⁾', 9, 12), ('b⁽²⁾', 12, 13)]
    """
    labels, offset = [], 0
    for k, kind, shape in network.parameter_layout():
        size = int(np.prod(shape))
        labels.append((f"{kind}{superscript(k)}", offset, offset + size))
        offset += size
    return labels


def whole_spectra(hessian, dense: bool, seed: int = 0) -> dict:
    """Eigenvalues of H and of its Gauss-Newton part and ||H - GGN||_F / ||H||_F: all of them
    from the dense matrices, or (``dense`` False) the top ``LANCZOS_COUNT`` by Lanczos and the
    ratio estimated from ``PROBES`` random sign vectors."""
    gauss_newton = hessian.gauss_newton()
    P = hessian.size
    if dense:
        H = np.asarray(hessian.dense())
        G = np.asarray(gauss_newton.dense())
        norm = float(np.linalg.norm(H))
        return {"H": H, "GGN": G, "eigenvalues": np.linalg.eigvalsh(H),
                "gauss_newton_eigenvalues": np.linalg.eigvalsh(G),
                "residual_share": float(np.linalg.norm(H - G)) / norm if norm else 0.0,
                "complete": True}
    count = min(LANCZOS_COUNT, P)
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(P, PROBES))
    HV = np.asarray(hessian.matvec(signs))
    GV = np.asarray(gauss_newton.matvec(signs))
    norm = float(np.linalg.norm(HV))
    return {"H": None, "GGN": None,
            "eigenvalues": np.asarray(hessian.top_eigenvalues(count)),
            "gauss_newton_eigenvalues": np.asarray(gauss_newton.top_eigenvalues(count)),
            "residual_share": float(np.linalg.norm(HV - GV)) / norm if norm else 0.0,
            "complete": False}


class WholeView(View):
    key = "whole"
    title = "Whole Hessian"
    #: the sharpness is one Lanczos run: a point every 0.2 s at most
    min_redraw_interval = 0.2

    matrix_plot = None

    def build(self) -> None:
        """The figures are made once per session and emptied for each model: new Bokeh
        models put into a live page after a rebuild would miss their first data."""
        if self.matrix_plot is None:
            self._make_figures()
        self.matrix_plot.set(np.full((1, 1), np.nan))
        self.labels.data = empty_columns("x", "y", "text")
        for source in (self.points, self.gauss_newton_points, self.sharpness,
                       self.threshold_line):
            source.data = {name: np.zeros(0) for name in source.data}
        self._history: dict[str, list[float]] = {"step": [], "sharpness": [], "threshold": []}
        self._dense_at = -np.inf  # when the matrix and spectra were last computed
        self._dense_seconds = 0.0
        self.spectra: dict = {}
        self.counts: dict = {}
        for text in (self._matrix_caption, self._table, self._blocks):
            set_text(text, "")

    def _make_figures(self) -> None:
        self.matrix_plot = MatrixPlot("whole Hessian H (P×P)", side=SIDE)
        self.labels = ColumnDataSource(empty_columns("x", "y", "text"))
        self.matrix_plot.figure.add_layout(LabelSet(
            x="x", y="y", text="text", source=self.labels, text_font_size="11px",
            text_align="center", text_baseline="middle", background_fill_color="white",
            background_fill_alpha=0.7))
        self.points = ColumnDataSource(empty_columns("index", "y", "value"))
        self.gauss_newton_points = ColumnDataSource(empty_columns("index", "y", "value"))
        plot = line_figure("sorted eigenvalues of H and of GGN",
                           "index q (ascending)", "eigenvalue λ", height=360,
                           x_range=Range1d(0.5, 1.5), y_range=Range1d(-1.0, 1.0))
        whole = plot.scatter(x="index", y="y", source=self.points, size=7, color=HESSIAN,
                             line_color="white", legend_label="H (whole Hessian)")
        gauss = plot.scatter(x="index", y="y", source=self.gauss_newton_points, marker="x",
                             size=10, line_width=2, color=GAUSS_NEWTON,
                             legend_label="GGN (Gauss-Newton part)")
        plot.add_tools(HoverTool(renderers=[whole, gauss],
                                 tooltips=[("q", "@index"), ("λ", "@value{0.0000e}")]))
        add_legend(plot)
        plot.yaxis.ticker = FixedTicker(ticks=[0.0])
        self.spectrum_plot = plot
        self.sharpness = ColumnDataSource(empty_columns("step", "sharpness", "threshold"))
        sharp = line_figure("sharpness over training", "step", "top eigenvalue of H",
                            height=300, x_range=Range1d(0.0, 1.0), y_range=Range1d(0.0, 1.0))
        sharp.line(x="step", y="sharpness", source=self.sharpness, line_width=2,
                   color=HESSIAN, legend_label="sharpness λ_max(H)")
        sharp.scatter(x="step", y="sharpness", source=self.sharpness, size=4, color=HESSIAN,
                      legend_label="sharpness λ_max(H)")
        self.threshold_line = ColumnDataSource(empty_columns("step", "threshold"))
        sharp.line(x="step", y="threshold", source=self.threshold_line, line_width=2,
                   color=GAUSS_NEWTON, line_dash="dashed", legend_label="2 / learning rate")
        add_legend(sharp)
        self.sharpness_plot = sharp
        self._matrix_caption = pn.pane.Markdown("", margin=(0, 10), width=SIDE + 100)
        self._blocks = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width")
        self._table = pn.pane.Markdown("", css_classes=["whole-table"],
                                       sizing_mode="stretch_width")
        self._matrix_column = pn.Column(self._matrix_caption, pane(self.matrix_plot.figure))
        # one column: the sharpness first (what training changes, above the fold on a
        # 1024x768 projector), its table, then the matrix and the spectra, each as wide as
        # the view allows
        self._body.objects = [
            pane(sharp, css_classes=["sharpness-plot"]), self._table, self._matrix_column,
            self._blocks, pane(plot),
        ]

    # --- the data behind the drawing ------------------------------------------------------
    def whole_hessian(self, net=None):
        """The whole Hessian of the loss that training descends, on the current mini-batch:
        E for an FNN, E summed over t = a..tau for an RNN."""
        session = self.session
        net = session.net if net is None else net
        if session.is_rnn:
            return net.whole_hessian(session.X, session.Z, t=None,
                                     outputs_from=session.output_from)
        return net.whole_hessian(session.X, session.Z)

    def download_arrays(self) -> dict[str, np.ndarray]:
        """The arrays behind the last drawing and the sharpness history."""
        arrays = dict(self.arrays)
        for name, values in getattr(self, "_history", {}).items():
            arrays[f"sharpness_{name}"] = np.asarray(values, dtype=float)
        return arrays

    def _dense_due(self) -> bool:
        """Whether this redraw recomputes the matrix and spectra (see the module)."""
        if self._inline or not self.session.running or not self.spectra:
            return True
        return time.perf_counter() - self._dense_at >= DENSE_SPACING * self._dense_seconds

    # --- drawing ----------------------------------------------------------------------------
    def update(self):
        session, settings = self.session, self.settings
        net = session.net
        labels = block_labels(net)
        P = labels[-1][2]
        dense = P <= WHOLE_DENSE_LIMIT
        redo = self._dense_due()

        def compute():
            start = time.perf_counter()
            hessian = self.whole_hessian(net)
            top = float(np.asarray(hessian.top_eigenvalues(1))[-1])
            spectra = None
            if redo:
                begun = time.perf_counter()
                spectra = whole_spectra(hessian, dense, seed=session.step)
                spectra["seconds"] = time.perf_counter() - begun
            return top, spectra, time.perf_counter() - start

        top, spectra, _ = yield from self.offload(compute)
        self._add_sharpness(float(session.step), top, 2.0 / float(settings.learning_rate))
        yield
        if spectra is None:
            return
        self._dense_at, self._dense_seconds = time.perf_counter(), spectra.pop("seconds")
        self.spectra = spectra
        self._draw_matrix(spectra, labels, P)
        yield
        self._draw_spectra(spectra, P)
        yield
        self._write_text(spectra, labels, P, top)

    def _add_sharpness(self, step: float, top: float, threshold: float) -> None:
        history = self._history
        if history["step"] and history["step"][-1] >= step:  # redrawn without training
            history["sharpness"][-1], history["threshold"][-1] = top, threshold
            last = len(history["step"]) - 1
            self.sharpness.patch({"sharpness": [(last, top)], "threshold": [(last, threshold)]})
        else:
            history["step"].append(step)
            history["sharpness"].append(top)
            history["threshold"].append(threshold)
            self.sharpness.stream({"step": [step], "sharpness": [top], "threshold": [threshold]})
        steps = history["step"]
        fit_range(self.sharpness_plot.x_range, steps[0], max(steps[-1], steps[0] + 1.0))
        self.threshold_line.data = threshold_steps(steps, history["threshold"],
                                                   self.sharpness_plot.x_range.end)
        shown = np.concatenate([history["sharpness"], history["threshold"]])
        shown = shown[np.isfinite(shown)]
        if shown.size:
            low, high = min(float(np.min(shown)), 0.0), float(np.max(shown))
            fit_range(self.sharpness_plot.y_range, low, high * 1.1 if high > 0 else 1.0)

    def _draw_matrix(self, spectra: dict, labels: list, P: int) -> None:
        visible = spectra["H"] is not None
        self._matrix_column.visible = visible
        if not visible:
            self.matrix_plot.set(np.full((1, 1), np.nan))
            self.labels.data = empty_columns("x", "y", "text")
            set_text(self._matrix_caption, "")
            return
        shown, factor = block_average(spectra["H"])
        self.matrix_plot.set(shown)
        side = shown.shape[0]
        edges = np.array([start for _, start, _ in labels[1:]], dtype=float) / factor
        self.matrix_plot.grid.data = {
            "x0": np.concatenate([edges, np.zeros_like(edges)]),
            "y0": np.concatenate([np.zeros_like(edges), side - edges]),
            "x1": np.concatenate([edges, np.full_like(edges, side)]),
            "y1": np.concatenate([np.full_like(edges, side), side - edges]),
        }
        centres = np.array([(start + end) / 2.0 for _, start, end in labels]) / factor
        self.labels.data = {"x": centres, "y": side - centres,
                            "text": [label for label, _, _ in labels]}
        set_text(self._matrix_caption, (
            f"**Whole Hessian H**, {P}×{P}, rows and columns in parameter order"
            + (f" — drawn as means of {factor}×{factor} cells" if factor > 1 else "")
            + ". Blue < 0 < red; the diagonal blocks are the paper's layer Hessians, the "
            "others couple two parameter arrays."))

    def _draw_spectra(self, spectra: dict, P: int) -> None:
        eigenvalues, gauss = spectra["eigenvalues"], spectra["gauss_newton_eigenvalues"]
        everything = np.concatenate([eigenvalues, gauss])
        biggest = float(np.max(np.abs(everything))) if everything.size else 0.0
        linear = max(biggest * 1e-4, 1e-12)
        first = P - eigenvalues.size + 1
        x = np.arange(first, P + 1, dtype=float)
        self.points.data = {"index": x, "y": symlog(eigenvalues, linear), "value": eigenvalues}
        self.gauss_newton_points.data = {"index": x, "y": symlog(gauss, linear), "value": gauss}
        fit_symlog_plot(self.spectrum_plot, everything, linear, first - 0.5, P + 0.5)

    def _write_text(self, spectra: dict, labels: list, P: int, top: float) -> None:
        eigenvalues, gauss = spectra["eigenvalues"], spectra["gauss_newton_eigenvalues"]
        complete = spectra["complete"]
        shift = float(self.session.net.weight_decay)
        tolerance, _ = zero_tolerance(eigenvalues, shift, 0.0)
        if complete:
            negative = int(np.sum(eigenvalues < -tolerance))
            gauss_negative = int(np.sum(gauss < -tolerance))
            counts = (negative, gauss_negative)
        else:
            counts = ("—", "—")
        threshold = 2.0 / float(self.settings.learning_rate)
        ratio = spectra["residual_share"]
        estimated = "" if complete else f" (estimated from {PROBES} random ±1 vectors)"
        set_text(self._table, (
            "| | top eigenvalue | negative eigenvalues |\n|---|---|---|\n"
            f"| H | {float(eigenvalues[-1]):.5g} | {counts[0]} |\n"
            f"| GGN | {float(gauss[-1]):.5g} | {counts[1]} |\n\n"
            f"‖H − GGN‖_F / ‖H‖_F = **{ratio:.3g}**{estimated}. "
            f"Sharpness **{top:.4g}** vs 2/α = **{threshold:.4g}**."))
        set_text(self._blocks, "Parameter order (rows and columns of H): " + ", ".join(
            f"{label} {start}–{end - 1}" for label, start, end in labels) + ".")
        self.arrays = {"eigenvalues": eigenvalues, "gauss_newton_eigenvalues": gauss,
                       "block_starts": np.array([start for _, start, _ in labels], dtype=float)}
        if complete:
            self.arrays.update(hessian=spectra["H"], gauss_newton=spectra["GGN"])
        self.counts = {"negative": counts[0], "gauss_newton_negative": counts[1],
                       "top": float(eigenvalues[-1]), "residual_share": ratio,
                       "tolerance": tolerance}
        beyond = ("Beyond the paper: the paper derives the diagonal blocks H⁽ᵏ⁾ of one level; "
                  "here are all P parameters together, the blocks between levels included, "
                  "and the Gauss-Newton part GGN = Jᵀ (∂²E/∂z∂z) J (positive semi-definite; "
                  "H − GGN is the residual term with f'' and the adjoints).")
        if complete:
            scope = (f"All {P} eigenvalues of both (dense, P ≤ {WHOLE_DENSE_LIMIT}).")
        else:
            scope = (f"P = {P} is above {WHOLE_DENSE_LIMIT}, the largest whole Hessian formed "
                     f"live: no matrix is drawn; the top {eigenvalues.size} eigenvalues of H "
                     "and of GGN come from Lanczos on matrix-vector products.")
        self.set_note(
            f"{beyond} {scope}\n\n**Look at:** the sharpness λ_max(H), the line at the top (a "
            "point at every redraw), against the dashed 2/α: with full-batch gradient descent "
            "(batch = samples, momentum 0) it rises to 2/α, may swing around it for a while, "
            "then stays near it — the edge of stability.")
