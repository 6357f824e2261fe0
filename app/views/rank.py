"""Gradient rank: singular values of G_W^(k) (and G_U^(k)) per level against the paper's bound.

Lemma 1 / Corollary 1: G_W^(k) = V^(k) Z^(k-1)T has rank <= 1 for one sample, <= r for a
batch of r. Lemma 2 / Corollary 3 (RNN, loss E^(t) at output time t): rank <= t for one
sample, <= r t for a batch. The numerical rank counts singular values above
max(m, n) * eps * sigma_max (``hessian_core.rank.numerical_rank``).
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from .common import View, plot_pane

FLOOR = 1e-20  # singular values below this (exact zeros) are drawn at the floor


class RankView(View):
    key = "rank"
    title = "Gradient rank"

    def build(self) -> None:
        self._spectra = hv.streams.Pipe(data=None)
        self._history = hv.streams.Buffer(
            {"step": np.zeros(0), "rank": np.zeros(0)}, length=2000, index=False
        )
        spectra = hv.DynamicMap(self._draw_spectra, streams=[self._spectra]).opts({
            "Scatter": dict(color="gradient", cmap="Category10", size=8, tools=["hover"],
                            show_legend=True, framewise=True),
            "VLines": dict(color="black", line_dash="dashed", line_width=2),
            "Overlay": dict(logy=True, ylim=(FLOOR, None), legend_position="right",
                            responsive=True, min_height=360, framewise=True,
                            title="singular values σ_i of each gradient "
                                  "(dashed: the paper's bound)"),
        })
        history = hv.DynamicMap(
            lambda data: hv.Curve(data, "step", "rank"), streams=[self._history]
        ).opts(responsive=True, min_height=220, framewise=True, color="#1f77b4", line_width=2,
               title="numerical rank of G_W^(k) over training", tools=["hover"])
        self._table = pn.pane.Markdown("", css_classes=["rank-table"])
        self._body.objects = [
            pn.Row(
                plot_pane(spectra, sizing_mode="stretch_width", min_height=370),
                pn.Column(self._table, plot_pane(history, sizing_mode="stretch_width",
                                                         min_height=230),
                          sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            )
        ]

    @staticmethod
    def _draw_spectra(data):
        if data is None:
            data = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=str), 0.5)
        index, values, labels, bound = data
        largest = float(index.max()) if index.size else 1.0
        right = max(largest, bound) if bound <= 2.0 * largest + 2.0 else largest
        axis = hv.Dimension("index i", range=(0.5, right + 0.5))
        points = hv.Scatter((index, values, labels), axis, ["singular value", "gradient"])
        return points * hv.VLines([bound])

    def update(self):
        from hessian_core.rank import numerical_rank, singular_values

        session = self.session
        X, Z = self.batch()
        r = X.shape[0]
        if session.is_rnn:
            t = self.time_step()
            gradients = session.net.gradients(X, Z, t=t)
            bound, bound_text = r * t, (f"r·t = {r}·{t} = {r * t}" if r > 1 else f"t = {t}")
            names = ("W", "U")
        else:
            gradients = session.net.gradients(X, Z)
            bound, bound_text = r, (f"r = {r}" if r > 1 else "1 (one sample)")
            names = ("W",)
        rows, index, values, labels, arrays = [], [], [], [], {}
        history = None
        for g in gradients:
            k = g.layer
            for name in names:
                G = np.asarray(getattr(g, name))
                sigma = np.asarray(singular_values(G))
                rank = numerical_rank(G)
                label = f"G_{name}^({k})"
                index.append(np.arange(1, sigma.size + 1))
                values.append(np.maximum(sigma, FLOOR))
                labels.append(np.full(sigma.size, label))
                arrays[f"sigma_{name}{k}"] = sigma
                holds = "yes" if rank <= bound else "**no**"
                rows.append(f"| {label} | {G.shape[0]}×{G.shape[1]} | {rank} | {holds} |")
                if k == self.layer() and name == "W":
                    history = {"step": np.array([float(session.step)]),
                               "rank": np.array([float(rank)])}
        self._spectra.send(
            (np.concatenate(index), np.concatenate(values), np.concatenate(labels), bound + 0.5)
        )
        yield
        if history is not None:
            self._history.send(history)
            yield
        when = f", output time t = {self.time_step()}" if session.is_rnn else ""
        self._table.object = (
            f"The paper's bound on the rank: **{bound_text}**"
            f" ({'one sample' if r == 1 else f'batch of r = {r}'}{when}).\n\n"
            "| gradient | shape | numerical rank | rank ≤ bound |\n|---|---|---|---|\n"
            + "\n".join(rows)
            + f"\n\nThe curve below follows G_W^({self.layer()}) (level k)."
        )
        self.arrays = arrays
        self.set_note(
            "Singular values on a log axis: every σ_i right of the dashed line sits at "
            "round-off (or exactly 0), the rank bound of Lemma 1/2 at work."
        )
