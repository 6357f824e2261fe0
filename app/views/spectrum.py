"""Spectrum: sorted eigenvalues of H^(k) with eq. (46)'s prediction and the Weyl band.

Eq. (46): one FNN sample has
lambda(H_W^(k)) = {0 (multiplicity (n-1) m), ||z^(k-1)||^2 lambda_i(C~^(k))};
for RNNs the s = zeta = t term obeys the same (eq. 105). A batch, or the other t^2 - 1
terms through time, move the eigenvalues within the Weyl bounds of eq. (101)/(103)
(``LayerHessian.weyl_bounds()``). The eigenvalues come from ``LayerHessian.eigvalsh()``
(Kronecker factors, never the dense matrix where structure exists). The vertical axis is a
symmetric log scale, sign(lambda) log10(1 + |lambda| / epsilon), so that negative, zero and
positive eigenvalues all show.

Stability: plain gradient descent with step alpha diverges along directions where the
Hessian has an eigenvalue above 2/alpha. The top eigenvalue of one layer's Hessian is a lower
bound for the top eigenvalue of the whole Hessian (Cauchy interlacing).
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from .common import EIGEN_LIMIT, View, plot_pane, symlog

COLORS = {"exact": "#1f77b4", "eq. (46)": "#2ca02c"}
MARKERS = {"exact": "circle", "eq. (46)": "x"}
SIZES = {"exact": 6, "eq. (46)": 11}


class SpectrumView(View):
    key = "spectrum"
    title = "Spectrum"

    def build(self) -> None:
        self._pipe = hv.streams.Pipe(data=None)
        self._top = hv.streams.Buffer(
            {"step": np.zeros(0), "top": np.zeros(0), "threshold": np.zeros(0)}, length=2000,
            index=False,
        )
        points = hv.DynamicMap(self._draw, streams=[self._pipe]).opts({
            "Scatter": dict(
                color=hv.dim("kind").categorize(COLORS), marker=hv.dim("kind").categorize(MARKERS),
                size=hv.dim("kind").categorize(SIZES), tools=["hover"], framewise=True,
            ),
            "Area": dict(color="#ffbb78", alpha=0.55, line_alpha=0, framewise=True),
            "Overlay": dict(responsive=True, min_height=380, framewise=True, padding=(0.03, 0.05),
                            title="sorted eigenvalues: exact (blue), eq. (46) (green ×), "
                                  "Weyl band (orange)"),
        })
        top = hv.DynamicMap(
            lambda data: hv.Curve(data, "step", "top", label="top eigenvalue of H^(k)")
            * hv.Curve(data, "step", "threshold", label="2 / learning rate"),
            streams=[self._top],
        ).opts({"Curve": dict(framewise=True, line_width=2)})
        self._caption = pn.pane.Markdown("", margin=(0, 10))
        self._counts = pn.pane.Markdown("", css_classes=["spectrum-counts"])
        self._body.objects = [
            pn.Row(
                pn.Column(
                    self._caption,
                    plot_pane(points, sizing_mode="stretch_width", min_height=390),
                    sizing_mode="stretch_width",
                ),
                pn.Column(
                    self._counts,
                    plot_pane(
                        top.opts(responsive=True, min_height=240, logy=True,
                                 legend_position="bottom_right",
                                 title="top eigenvalue over training vs 2/α"),
                        sizing_mode="stretch_width", min_height=250,
                    ),
                    sizing_mode="stretch_width",
                ),
                sizing_mode="stretch_width",
            )
        ]

    @staticmethod
    def _draw(data):
        label = "sign(λ)·log10(1 + |λ|/ε)"
        if data is None:
            empty = np.zeros(0)
            data = ((empty, empty, empty), (empty, empty, empty, np.zeros(0, dtype=str)))
        band, points = data
        return hv.Area(band, "index q", [label, "upper"]) * hv.Scatter(
            points, "index q", [label, "λ", "kind"]
        )

    def update(self):
        from hessian_core.spectra import term_eigenvalues

        session, settings = self.session, self.settings
        X, Z = self.batch()
        options = self.hessian_options(X)
        if options is None:
            return
        k = options["layer"]
        size = self.eigenproblem_size(X)
        if size > EIGEN_LIMIT:
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
        m, n = hessian.n_outputs, hessian.n_inputs
        p = 0 if settings.scope == "sample" else self.sample_index()
        anchor = terms[p, -1]
        prediction = np.sort(np.concatenate([anchor, np.zeros(m * n - anchor.size)]))
        scale = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
        tolerance = max(scale, 1e-300) * eigenvalues.size * np.finfo(float).eps * 10
        negative = int(np.sum(eigenvalues < -tolerance))
        positive = int(np.sum(eigenvalues > tolerance))
        zero = eigenvalues.size - negative - positive
        sample = self.sample_index()
        r = X.shape[0]
        alone = "eq. (46)" if not session.is_rnn else "eq. (105), term s = ζ = t"
        linear = max(scale * 1e-4, 1e-12)
        x = np.arange(1, eigenvalues.size + 1, dtype=float)
        self._pipe.send((
            (x, symlog(lower, linear), symlog(upper, linear)),
            (
                np.concatenate([x, x]),
                symlog(np.concatenate([eigenvalues, prediction]), linear),
                np.concatenate([eigenvalues, prediction]),
                np.array(["exact"] * x.size + ["eq. (46)"] * x.size),
            ),
        ))
        self._caption.object = (
            f"Eigenvalues of H^({k}) ({m * n} of them; r = {r}"
            + (f", t = {self.time_step()}" if session.is_rnn else "")
            + f"). Green ×: {alone} for sample {sample} alone. Vertical axis: "
            f"sign(λ)·log10(1 + |λ|/ε) with ε = {linear:.1e}."
        )
        yield
        top = float(eigenvalues[-1]) if eigenvalues.size else 0.0
        self._top.send({
            "step": np.array([float(session.step)]), "top": np.array([max(top, 1e-12)]),
            "threshold": np.array([2.0 / float(settings.learning_rate)]),
        })
        yield
        inside = bool(np.all(eigenvalues >= lower - tolerance)
                      and np.all(eigenvalues <= upper + tolerance))
        self._counts.object = (
            "| negative | zero | positive |\n|---|---|---|\n"
            f"| {negative} | {zero} | {positive} |\n\n"
            f"Top eigenvalue **{top:.4g}** vs 2/α = **{2.0 / settings.learning_rate:.4g}**. "
            f"All eigenvalues inside the Weyl band: **{'yes' if inside else 'no'}**. "
            f"eq. (46) predicts {m * (n - 1)} zeros for one sample."
        )
        self.arrays = {"eigenvalues": eigenvalues, "weyl_lower": lower, "weyl_upper": upper,
                       "eq46_prediction": prediction, "term_eigenvalues": terms.reshape(-1, m)}
        self.set_note(
            f"Zero means |λ| ≤ {tolerance:.1e}. "
            + ("One sample: eq. (46) should match the eigenvalues exactly."
               if r == 1 and not session.is_rnn else
               "Several Kronecker terms: eq. (46) describes one term; "
               "the Weyl band bounds the sum.")
        )
