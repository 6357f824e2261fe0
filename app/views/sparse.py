"""Sparse vs full: the sparse back-propagation rule against the full gradient, live.

The run is trained with the rule chosen under "Sparse backprop" (meProp top-k, truncated
BPTT, selected steps; ``hessian_core.sparse`` through ``net.gradients(..., topk=,
truncate=, backtrack=)``), and a twin started from the same weights is trained with full
back-propagation on the same mini-batches (``TrainingSession``). This view shows

1. the cosine similarity between the rule's gradient and the full gradient at the same
   weights and batch, for G_W^(k) (and G_U^(k)) of every level, at every step (streamed; the
   session records it as it trains, for the loss the run is trained on);
2. the loss curves of the sparse run and the full run side by side (streamed);
3. the singular values and numerical rank (``hessian_core.rank``) of both gradients of the
   chosen level k at the current weights, for the chosen scope, and for RNNs for E^(t) at the
   chosen output time t, as in the Gradient rank view: truncation to K steps leaves r*K of
   the r*t terms of eq. (55), selected steps |S| of them.

Views draw; the numbers come from the core (gradients, singular values, ranks).
"""

from __future__ import annotations

import bisect
import time

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, HoverTool, Label, Legend, LegendItem, Range1d

from app.views.common import View, superscript
from app.views.figures import (
    OKABE_ITO,
    add_legend,
    arrange_legend,
    empty_columns,
    fit_log_range,
    fit_range,
    line_figure,
    pane,
    set_text,
)

FLOOR = 1e-20  # singular values below this (exact zeros) are drawn at the floor
#: between redraws the two streamed plots receive their new points at most this often
#: (a stream sends only the new points; the period bounds the messages per second)
STREAM_PERIOD_S = 0.2
#: most points kept in the streamed curves
ROLLOVER = 5000
COLOURS = OKABE_ITO
FULL, SPARSE = "#000000", OKABE_ITO[1]
#: cosine lines made with the figure (one per gradient); deeper models add more
POOL = 8
#: said in the two curve plots until the first training step gives their first line
WAITING = "press Step or Play:\nthe curves start here"


def rule_at_time(rule: dict, t: int) -> tuple[dict, str]:
    """The rule's core keywords for the loss E^(t) of one output time (K and the chosen steps
    cannot go past t), and a remark when they had to be narrowed ("" otherwise)."""
    if "truncate" in rule:
        K = int(rule["truncate"])
        return {"truncate": min(K, t)}, ("" if K <= t else f"K = {K} ≥ t: nothing is cut")
    if "backtrack" in rule:
        chosen = rule["backtrack"]
        if isinstance(chosen, str):
            K = int(chosen.partition(":")[2])
            return {"backtrack": f"largest:{min(K, t)}"}, ""
        kept = sorted(s for s in chosen if s <= t)
        if not kept:
            return {}, "none of the selected steps lies at or before t"
        dropped = "" if len(kept) == len(chosen) else "steps after t play no part in E⁽ᵗ⁾"
        return {"backtrack": set(kept)}, dropped
    return dict(rule), ""


class SparseView(View):
    key = "sparse"
    title = "Sparse vs full"

    loss: ColumnDataSource | None = None

    def build(self) -> None:
        """The figures are made once per session; each model restarts the curves and
        relabels a pool of cosine lines (one per gradient, grown for deeper models): new
        figures put into a live page after a rebuild would miss their first data."""
        session = self.session
        start = session.loss if np.isfinite(session.loss) and session.loss > 0 else 1.0
        self._names = session.gradient_names()
        self._sent = 0
        self._streamed_at = 0.0
        if self.loss is None:
            self._make_figures()
        while len(self._lines) < len(self._names):
            self._add_cosine_line()
        #: the cosine source's column of each gradient name ("W1", "U1", ...)
        self.column_of = {name: f"c{i}" for i, name in enumerate(self._names)}
        for i, (renderer, item) in enumerate(self._lines):
            used = i < len(self._names)
            renderer.visible = item.visible = used
            if used:
                name = self._names[i]
                item.label = value(f"G_{name[0]}{superscript(name[1:])}")
                renderer.glyph.line_dash = "solid" if name[0] == "W" else "dotted"
        arrange_legend(self._cosine_legend)
        self.loss.data = {"step": np.zeros(1), "full": np.array([start]),
                          "sparse": np.array([start])}
        self._loss_extent = (start, start)
        fit_log_range(self.loss_plot.y_range, start, start)
        self.cosine.data = empty_columns("step", *self._columns())
        self.fit_steps()
        self.show_waiting(True)
        for source in self.sigma.values():
            source.data = empty_columns("index", "sigma")
        set_text(self._table, "")

    def _columns(self) -> list[str]:
        return [f"c{i}" for i in range(len(self._lines))]

    def _add_cosine_line(self) -> None:
        i = len(self._lines)
        column = f"c{i}"
        if column not in self.cosine.data:
            self.cosine.data = {**self.cosine.data,
                                column: np.full(len(self.cosine.data["step"]), np.nan)}
        renderer = self.cosine_plot.line(x="step", y=column, source=self.cosine,
                                         color=COLOURS[i % len(COLOURS)], line_width=2)
        item = LegendItem(label=f"gradient {i + 1}", renderers=[renderer])
        self._cosine_legend.items.append(item)
        self._lines.append((renderer, item))

    def _make_figures(self) -> None:
        self.loss = ColumnDataSource({"step": np.zeros(1), "full": np.ones(1),
                                      "sparse": np.ones(1)})
        self.cosine = ColumnDataSource({"step": np.zeros(0)})
        # step axes fitted to the steps shown (``fit_steps``), never an earlier run's
        loss_plot = line_figure("loss of each mini-batch", "step", "loss", y_log=True,
                                x_range=Range1d(0.0, 1.0), y_range=Range1d(0.01, 1.0))
        self.loss_plot = loss_plot
        # the full run is drawn dashed over the sparse one, so both show where they agree
        loss_plot.line(x="step", y="sparse", source=self.loss, color=SPARSE, line_width=3,
                       legend_label="sparse rule")
        loss_plot.line(x="step", y="full", source=self.loss, color=FULL, line_width=2,
                       line_dash="dashed", legend_label="full backprop")
        add_legend(loss_plot)
        cosine_plot = line_figure("cos(sparse, full gradient)", "step", "cosine similarity",
                                  x_range=Range1d(0.0, 1.0))
        cosine_plot.y_range.start, cosine_plot.y_range.end = -1.05, 1.05
        self.cosine_plot = cosine_plot
        self._cosine_legend = Legend(items=[])
        cosine_plot.add_layout(self._cosine_legend)
        self._lines: list[tuple[object, LegendItem]] = []
        for _ in range(POOL):
            self._add_cosine_line()
        add_legend(cosine_plot)
        # before the first step a line holds one point and draws nothing: say what will come
        self._waiting = [Label(x=0.5, y=0.0, text=WAITING, text_align="center",
                               text_font_size="12px", text_color="#555555"),
                         Label(x=0.5, y=1.0, text=WAITING, text_align="center",
                               text_font_size="12px", text_color="#555555")]
        cosine_plot.add_layout(self._waiting[0])
        loss_plot.add_layout(self._waiting[1])
        self.sigma = {label: ColumnDataSource(empty_columns("index", "sigma"))
                      for label in ("full", "sparse")}
        spectra = line_figure("singular values of G⁽ᵏ⁾, level k", "index i", "singular value",
                              y_log=True, x_range=Range1d(0.5, 1.5))
        renderers = [
            spectra.scatter(x="index", y="sigma", source=self.sigma["full"], size=10,
                            color=FULL, marker="circle", legend_label="full backprop"),
            spectra.scatter(x="index", y="sigma", source=self.sigma["sparse"], size=10,
                            color=SPARSE, marker="triangle", line_color="black",
                            legend_label="sparse rule"),
        ]
        spectra.add_tools(HoverTool(renderers=renderers,
                                    tooltips=[("i", "@index{0}"), ("σ_i", "@sigma{0.000e}")]))
        add_legend(spectra)
        self.spectra_plot = spectra
        # a wide table scrolls inside its half of the row rather than widening the page
        self._table = pn.pane.Markdown("", css_classes=["sparse-table"],
                                       sizing_mode="stretch_width",
                                       styles={"overflow-x": "auto"})
        column = dict(sizing_mode="stretch_width")
        self._body.objects = [
            # the cosine and the singular values first: what the meProp and truncated-BPTT
            # lessons point at stays above the fold on a 1024x768 projector
            pn.Row(pn.Column(pane(cosine_plot, css_classes=["sparse-cosine"]), **column),
                   pn.Column(pane(spectra, css_classes=["sparse-singular-values"]), **column),
                   **column),
            # the table below the loss curves: beside them, a 1024 px screen cuts its last
            # column
            pn.Row(pn.Column(pane(loss_plot), **column), pn.Spacer(**column), **column),
            self._table,
        ]

    # --- streaming (every tick while visible) ------------------------------------------
    def stream(self, force: bool = False) -> None:
        """Send the loss and similarity points recorded since the last call (between
        redraws at most every STREAM_PERIOD_S seconds)."""
        now = time.perf_counter()
        if not force and now - self._streamed_at < STREAM_PERIOD_S:
            return
        self._streamed_at = now
        session = self.session
        steps = session.loss_steps
        first = bisect.bisect_right(steps, self._sent)
        if first >= len(steps):
            return
        new_steps = np.asarray(steps[first:], float)
        self.loss.stream({
            "step": new_steps,
            "full": np.asarray(session.full_loss_values[first:], float),
            "sparse": np.asarray(session.loss_values[first:], float),
        }, rollover=ROLLOVER)
        values = np.asarray(session.similarity_values[first:], float).reshape(
            len(new_steps), len(self._names))
        columns = {column: np.full(len(new_steps), np.nan) for column in self._columns()}
        for i, name in enumerate(self._names):
            columns[self.column_of[name]] = np.ascontiguousarray(values[:, i])
        self.cosine.stream({"step": new_steps, **columns}, rollover=ROLLOVER)
        losses = np.concatenate([session.full_loss_values[first:], session.loss_values[first:]])
        losses = np.asarray(losses, float)
        losses = losses[np.isfinite(losses) & (losses > 0)]
        if losses.size:
            low, high = self._loss_extent
            self._loss_extent = (min(low, float(losses.min())), max(high, float(losses.max())))
            fit_log_range(self.loss_plot.y_range, *self._loss_extent)
        self._sent = steps[-1]
        self.fit_steps()
        self.show_waiting(False)

    def show_waiting(self, waiting: bool) -> None:
        """Show the line that says what the empty curve plots will show (before a step)."""
        for label in self._waiting:
            if label.visible != waiting:
                label.visible = waiting
        if waiting:  # in the middle of the loss axis, whatever the first loss
            start = float(self.loss.data["full"][0]) if len(self.loss.data["full"]) else 1.0
            if self._waiting[1].y != start:
                self._waiting[1].y = start

    def fit_steps(self) -> None:
        """Fit both step axes to the steps the loss curves hold now."""
        shown = self.loss.data["step"]
        first = float(shown[0]) if len(shown) else 0.0
        last = float(shown[-1]) if len(shown) else 0.0
        for plot in (self.loss_plot, self.cosine_plot):
            fit_range(plot.x_range, first, max(last, first + 1.0))

    # --- the snapshot at the current weights -------------------------------------------
    def update(self):
        from hessian_core.rank import numerical_rank, singular_values

        session = self.session
        self.stream(force=self._sent == 0)
        yield
        net = session.net
        X, Z = self.batch()
        r, k = X.shape[0], self.layer()
        rule, remark = dict(session.rule), ""
        names = ("W", "U") if session.is_rnn else ("W",)
        shown = self.settings.wrt if session.is_rnn else "W"
        if session.is_rnn:
            t = self.time_step()
            rule, remark = rule_at_time(rule, t)
            full = net.gradients(X, Z, t=t)
            sparse = net.gradients(X, Z, t=t, **rule)
            bound = f"r·t = {r * t}" if r > 1 else f"t = {t}"
        else:
            full = net.gradients(X, Z)
            sparse = net.gradients(X, Z, **rule)
            bound = f"r = {r}"
        rows, arrays, right = [], {}, 1
        for g, h in zip(sparse, full, strict=True):
            level = g.layer
            V = np.asarray(g.V)
            kept = float(np.count_nonzero(V)) / max(V.size, 1)
            for name in names:
                G_sparse, G_full = np.asarray(getattr(g, name)), np.asarray(getattr(h, name))
                sigma_sparse = np.asarray(singular_values(G_sparse))
                sigma_full = np.asarray(singular_values(G_full))
                rank_sparse, rank_full = numerical_rank(G_sparse), numerical_rank(G_full)
                cosine = session.similarities([g], [h])[0 if name == "W" else 1]
                norm_full = float(np.linalg.norm(G_full))
                ratio = float(np.linalg.norm(G_sparse)) / norm_full if norm_full else float("nan")
                rows.append(f"| G_{name}{superscript(level)} | {cosine:.4f} | {ratio:.3f} "
                            f"| {rank_full} | {rank_sparse} | {kept:.0%} |")
                arrays[f"sigma_full_{name}{level}"] = sigma_full
                arrays[f"sigma_sparse_{name}{level}"] = sigma_sparse
                arrays[f"cosine_{name}{level}"] = np.array([cosine])
                arrays[f"rank_{name}{level}"] = np.array([rank_full, rank_sparse], float)
                if level == k and name == shown:
                    for label, sigma in (("full", sigma_full), ("sparse", sigma_sparse)):
                        self.sigma[label].data = {
                            "index": np.arange(1, sigma.size + 1)
                            + (-0.12 if label == "full" else 0.12),
                            "sigma": np.maximum(sigma, FLOOR),
                        }
                        right = max(right, sigma.size)
        self.spectra_plot.x_range.update(start=0.5, end=right + 0.5)
        yield
        when = f" for E⁽ᵗ⁾ at t = {self.time_step()}" if session.is_rnn else ""
        scope = "one sample" if r == 1 else f"batch of r = {r}"
        set_text(self._table, (
            f"**Rule in force:** {session.rule_text}. Singular values shown: "
            f"G_{shown}{superscript(k)}.\n\n"
            f"At the current weights ({scope}{when}; the paper's bound for the full gradient: "
            f"rank ≤ {bound}):\n\n"
            "| gradient | cos(sparse, full) | ‖sparse‖/‖full‖ | rank full | rank sparse "
            "| nonzeros of V (sparse) |\n|---|---|---|---|---|---|\n" + "\n".join(rows)
            + (f"\n\n*{remark}.*" if remark else "")
        ))
        self.arrays = arrays
        twin = ("a twin trained with full backprop from the same initial weights on the same "
                "batches" if session.full_net is not None else
                "no twin is needed with full backprop: both curves are the same run")
        self.set_note(
            "**Look at:** how far the cosine curves fall below 1 and whether the sparse run's "
            f"loss keeps up with the full run's. Training with **{session.rule_text}**; "
            f"{twin}. The curves follow every training "
            f"step (the loss being trained, all levels). Below, level k = {k} at the current "
            "weights" + (", the rule applied to E⁽ᵗ⁾ at the chosen t, as in the Gradient rank "
                         "view." if session.is_rnn else ".")
        )

    def download_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the last snapshot, and the loss of both runs and the cosine
        similarities of every recorded step up to now. The history (up to
        ``app.training.session.HISTORY_LIMIT`` steps) is made into arrays here, on a download, not
        at
        every redraw."""
        session = self.session
        steps = np.asarray(session.loss_steps, float)
        return {
            **self.arrays,
            "loss_step": steps,
            "loss_sparse": np.asarray(session.loss_values, float),
            "loss_full": np.asarray(session.full_loss_values, float),
            "similarity": np.asarray(session.similarity_values, float).reshape(
                steps.size, len(self._names)),
        }
