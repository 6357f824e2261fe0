"""Gradient rank: singular values of G_W^(k) (and G_U^(k)) per level against the paper's bound.

Lemma 1 / Corollary 1: G_W^(k) = V^(k) Z^(k-1)T has rank <= 1 for one sample, <= r for a
batch of r. Lemma 2 / Corollary 3 (RNN, loss E^(t) at output time t): rank <= t for one
sample, <= r t for a batch. The numerical rank counts singular values above
max(m, n) * eps * sigma_max (``hessian_core.rank.numerical_rank``).

The rank history is kept by the view, which lives as long as the browser session: it goes on
across tab changes and restarts only when the model is rebuilt (Reset, a new architecture).
It records the rank of G_W^(k) of every level at each redraw, and shows the chosen level.

A bound binds a gradient only when it is below min(m, n), the most singular values the
gradient has: the dashed line (and its legend entry) is drawn only then. An RNN batch of
r = 4 through t = 8 steps has r t = 32, above the 8 singular values of an 8 x 8 gradient:
the table says so and no line is drawn, in either plot.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Range1d

from app.views.common import View, superscript
from app.views.figures import (
    OKABE_ITO,
    add_legend,
    arrange_legend,
    empty_columns,
    fit_range,
    line_figure,
    pane,
    set_text,
)
from app.views.masks import dead_level_warning

FLOOR = 1e-20  # singular values below this (exact zeros) are drawn at the floor
#: scatter renderers made with the figure (one per gradient); deeper models add more
POOL = 8
SPREAD = 0.4  # the points of the gradients at one index i spread over i +- SPREAD/2
MARKERS = ("circle", "square", "triangle", "diamond", "inverted_triangle", "hex", "star",
           "plus")


class RankView(View):
    key = "rank"
    title = "Gradient rank"

    spectra_plot = None

    def build(self) -> None:
        """The figures are made once per session; each model relabels a pool of scatter
        renderers (one per gradient, grown when a deeper model needs more) and clears the
        history: new figures put into a live page after a rebuild would miss their first
        data."""
        session = self.session
        names = ("W", "U") if session.is_rnn else ("W",)
        self.labels = [f"G_{name}{superscript(k)}" for k in range(1, session.net.n_layers + 1)
                       for name in names]
        if self.spectra_plot is None:
            self._make_figures()
        while len(self._pool) < len(self.labels):
            self._add_gradient_renderer()
        self.spectra = {}
        for i, (source, renderer, item) in enumerate(self._pool):
            used = i < len(self.labels)
            source.data = empty_columns("index", "sigma")
            renderer.visible = item.visible = used
            if used:
                item.label = value(self.labels[i])
                self.spectra[self.labels[i]] = source
        arrange_legend(self._legend)
        self.bound.data = empty_columns("x", "y")
        #: (step, bound, {level: rank of G_W^(level)}) at each redraw, for this session's model
        self._history: list[tuple[float, float, dict[int, int]]] = []
        self.history.data = empty_columns("step", "rank", "bound")
        set_text(self._table, "")

    def _add_gradient_renderer(self) -> None:
        i = len(self._pool)
        source = ColumnDataSource(empty_columns("index", "sigma"))
        renderer = self.spectra_plot.scatter(
            x="index", y="sigma", source=source, size=9, marker=MARKERS[i % len(MARKERS)],
            color=OKABE_ITO[i % len(OKABE_ITO)], line_color="black", line_width=0.5)
        item = LegendItem(label=f"gradient {i + 1}", renderers=[renderer])
        self._legend.items.insert(i, item)
        self._hover.renderers = [*self._hover.renderers, renderer]
        self._pool.append((source, renderer, item))

    def _make_figures(self) -> None:
        plot = line_figure("singular values σ_i of each gradient", "index i",
                           "singular value σ_i", y_log=True, height=400,
                           x_range=Range1d(0.5, 1.5))
        self.spectra_plot = plot
        self.bound = ColumnDataSource(empty_columns("x", "y"))
        bound = plot.line(x="x", y="y", source=self.bound, color="black", line_dash="dashed",
                          line_width=2)
        self._bound_item = LegendItem(label="the paper's rank bound", renderers=[bound])
        self._legend = Legend(items=[self._bound_item])
        plot.add_layout(self._legend)
        self._hover = HoverTool(renderers=[],
                                tooltips=[("i", "@index{0}"), ("σ_i", "@sigma{0.000e}")])
        plot.add_tools(self._hover)
        self._pool: list[tuple[ColumnDataSource, object, LegendItem]] = []
        for _ in range(POOL):
            self._add_gradient_renderer()
        add_legend(plot)
        self.history = ColumnDataSource(empty_columns("step", "rank", "bound"))
        history = line_figure("numerical rank of G_W⁽ᵏ⁾ over training", "step",
                              "numerical rank", height=280, x_range=Range1d(0.0, 1.0),
                              y_range=Range1d(0.0, 1.0))
        history.line(x="step", y="rank", source=self.history, line_width=2,
                     color=OKABE_ITO[0], legend_label="rank of G_W⁽ᵏ⁾")
        history.scatter(x="step", y="rank", source=self.history, size=6, color=OKABE_ITO[0],
                        legend_label="rank of G_W⁽ᵏ⁾")
        history.line(x="step", y="bound", source=self.history, line_width=2, color="black",
                     line_dash="dashed", legend_label="bound")
        history.scatter(x="step", y="bound", source=self.history, size=5, color="black",
                        marker="dash", legend_label="bound")
        add_legend(history)
        self._history_bound_item = next(item for item in history.legend[0].items
                                        if item.label["value"] == "bound")
        self.history_plot = history
        self._table = pn.pane.Markdown("", css_classes=["rank-table"],
                                       sizing_mode="stretch_width")
        self._body.objects = [
            pane(plot, css_classes=["rank-singular-values"]),
            pn.Row(
                pn.Column(self._table, sizing_mode="stretch_width"),
                pn.Column(pane(history), sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
        ]

    def record(self, step: float, bound: float, ranks: dict[int, int],
               width: int | None = None) -> None:
        """Add one point to the rank history (a redraw at the same step replaces it) and
        show the chosen level's ranks. ``width`` is min(m, n) of the chosen level's G_W:
        the bound is drawn where it is below it (where it binds), and the axes fit what is
        drawn."""
        if self._history and self._history[-1][0] >= step:
            self._history.pop()
        self._history.append((step, bound, ranks))
        k = self.layer()
        steps = np.array([s for s, _, _ in self._history], float)
        ranks = np.array([r.get(k, np.nan) for _, _, r in self._history], float)
        bounds = np.array([b for _, b, _ in self._history], float)
        width = float(np.nanmax(ranks, initial=1.0)) if width is None else float(width)
        drawn = np.where(bounds < width, bounds, np.nan)
        self.history.data = {"step": steps, "rank": ranks, "bound": drawn}
        self._history_bound_item.visible = bool(np.any(np.isfinite(drawn)))
        fit_range(self.history_plot.x_range, steps[0], max(steps[-1], steps[0] + 1.0))
        top = max(float(np.nanmax(ranks, initial=0.0)), float(np.nanmax(drawn, initial=0.0)),
                  width)
        fit_range(self.history_plot.y_range, 0.0, top + 0.5)

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
            result = "Lemma 2" if r == 1 else "Corollary 3"
        else:
            gradients = session.net.gradients(X, Z)
            bound, bound_text = r, (f"r = {r}" if r > 1 else "1")
            names = ("W",)
            result = "Lemma 1" if r == 1 else "Corollary 1"
        decay = session.net.weight_decay
        rows, arrays, ranks, widths = [], {}, {}, {}
        largest_index, top = 1, FLOOR
        for g in gradients:
            k = g.layer
            for name in names:
                G = np.asarray(getattr(g, name))
                if decay:
                    # the lemma is about the loss term V Z^T; weight decay adds lam W (U),
                    # which is not low-rank: shown is the loss term, from its factors
                    V, factor = g.factors(name)
                    G = np.asarray(V) @ np.asarray(factor).T
                sigma = np.asarray(singular_values(G))
                rank = numerical_rank(G)
                label = f"G_{name}{superscript(k)}"
                # side by side around each index i, so that no gradient hides another
                offset = SPREAD * (len(self.labels) > 1) * (
                    self.labels.index(label) / max(len(self.labels) - 1, 1) - 0.5)
                self.spectra[label].data = {
                    "index": np.arange(1, sigma.size + 1, dtype=float) + offset,
                    "sigma": np.maximum(sigma, FLOOR)}
                largest_index = max(largest_index, sigma.size)
                top = max(top, float(np.max(sigma, initial=0.0)))
                arrays[f"sigma_{name}{k}"] = sigma
                holds = "yes" if rank <= bound else "**no**"
                binds = "yes" if bound < min(G.shape) else "no"
                rows.append(f"| {label} | {G.shape[0]}×{G.shape[1]} | {rank} | {holds} | "
                            f"{binds} |")
                if name == "W":
                    ranks[k], widths[k] = rank, min(G.shape)
        # the bound is drawn where it can be seen to bind: below the most singular values
        # any gradient has; above, it says nothing and is neither drawn nor listed
        binding = bound < largest_index
        where = bound + 0.5
        self.bound.data = ({"x": np.array([where, where]), "y": np.array([FLOOR, top * 10.0])}
                           if binding else empty_columns("x", "y"))
        self._bound_item.visible = binding
        self.spectra_plot.x_range.update(start=0.5, end=largest_index + 0.5)
        yield
        self.record(float(session.step), float(bound), ranks, widths.get(self.layer()))
        yield
        when = f", output time t = {self.time_step()}" if session.is_rnn else ""
        if binding:
            binds_text = ""
        else:
            binds_text = (f" It exceeds min(m, n) = {largest_index}, the most singular values "
                          "any gradient here has, so it does not bind: no dashed line is "
                          "drawn, and every σ_i may be nonzero.")
        decay_text = (f" With weight decay λ = {decay:g}, the gradient of E also has the term "
                      f"λ·{'/'.join(names)}⁽ᵏ⁾, which is not low-rank: shown here is the loss "
                      "term alone (V Zᵀ, from the gradient's factors), the one the bound is "
                      "about." if decay else "")
        set_text(self._table, (
            f"The paper's bound on the rank ({result}): **{bound_text}**"
            f" ({'one sample' if r == 1 else f'batch of r = {r}'}{when}).{binds_text}"
            f"{decay_text}\n\n"
            "| gradient | shape | numerical rank | rank ≤ bound | bound < min(m, n) |\n"
            "|---|---|---|---|---|\n"
            + "\n".join(rows)
            + f"\n\nThe curve follows G_W{superscript(self.layer())} (level k); its bound is drawn "
            "where it is below min(m, n)."
        ))
        self.arrays = arrays
        if binding:
            look = ("**Look at:** every σ_i right of the dashed line sits at round-off (or "
                    f"exactly 0): the rank bound of {result} at work. Log axis; exact zeros are "
                    "drawn at 1e-20.")
        else:
            look = (f"**Look at:** the bound {bound_text} of {result} exceeds min(m, n) = "
                    f"{largest_index}, so it does not bind here: lower the batch size"
                    + (" or the output time t" if session.is_rnn else "")
                    + " below the width to see it cut the singular values. Log axis; exact "
                    "zeros are drawn at 1e-20.")
        warning = dead_level_warning(session, X)
        self.set_note(f"{warning}\n\n{look}" if warning else look)
