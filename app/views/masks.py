"""ReLU masks: f'(y^(k)) per level, the binary F^(k) = f'(y) f'(y)^T, dead and always-active units.

For ReLU f' is 0 or 1 and f'' = 0 (Corollary 2, eq. 43-44): the mask F^(k) selects which
entries of W^(k+1)T C~^(k+1) W^(k+1) survive into C~^(k). A unit whose f' is 0 for every
sample is dead (its rows of the gradient and Hessian vanish); one whose f' is positive for
every sample always passes its input. For smooth activations the f'(y) values are drawn.
Derivatives come from the core (``net.activation_of(k).df``). All levels share one image,
side by side, separated by a blank (NaN) column.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import FixedTicker

from app.views.common import View, block_average, superscript
from app.views.figures import MatrixPlot, pane, set_fixed_ticks, set_text

COUNT_LIMIT = 1000  # dead/active units are counted over at most this many data samples
MASK_LABELS = ("f' = 0: unit blocked", "f' = 1: unit passes")


def dead_levels(net, X) -> list[int]:
    """The levels k (1-based) of a piecewise-linear activation whose units all have
    f'(y^(k)) = 0 for every sample (and time step) of ``X``: nothing flows through them."""
    from hessian_core.backend import namespace_of

    forward = net.forward(X)
    dead = []
    for k in range(1, net.n_layers + 1):
        activation = net.activation_of(k)
        if not activation.piecewise_linear:
            continue
        y = forward.pre_activations[k - 1]
        if not np.any(np.asarray(activation.df(namespace_of(y), y))):
            dead.append(k)
    return dead


def dead_level_warning(session, X) -> str:
    """A warning naming the dead levels of ``session.net`` on the batch ``X`` and what to
    do about them, or "" when no level is dead."""
    dead = dead_levels(session.net, X)
    if not dead:
        return ""
    levels = ", ".join(str(k) for k in dead)
    which = f"Level {levels} is" if len(dead) == 1 else f"Levels {levels} are"
    return (f"**⚠ {which} dead:** every unit gives f'(y) = 0 for every sample of this batch, "
            "so no gradient flows through it and the gradients and Hessians here are exactly "
            "0. Lower the learning rate and press Reset, or choose another activation "
            "(tanh, softplus).")


class MasksView(View):
    key = "masks"
    title = "ReLU masks"

    levels_plot: MatrixPlot | None = None

    def build(self) -> None:
        """The figures are made once per session and switched between a binary mask
        (piecewise-linear activations) and f'(y) values for each model: new Bokeh models put
        into a live page after a rebuild would miss their first data."""
        net = self.session.net
        self._binary = all(net.activation_of(k).piecewise_linear
                           for k in range(1, net.n_layers + 1))
        kind = "binary" if self._binary else "sequential"
        if self.levels_plot is None:
            self._make_figures(kind)
        for plot in (self.levels_plot, self.mask_plot):
            plot.set_kind(kind)
            plot.set(np.full((1, 1), np.nan), limits=(0.0, 1.0))

    def _make_figures(self, kind: str) -> None:
        self.levels_plot = MatrixPlot("f'(y⁽ᵏ⁾) of every level k", kind=kind, side=None,
                                      height=300, labels=MASK_LABELS, value_name="f'(y)")
        self.levels_plot.figure.xaxis.visible = True
        self.levels_plot.figure.xaxis.ticker = FixedTicker(ticks=[])
        self.levels_plot.figure.xaxis.major_tick_line_color = None
        self.mask_plot = MatrixPlot("F⁽ᵏ⁾ = f'(y) f'(y)ᵀ", kind=kind, side=280,
                                    labels=("0: not both pass", "1: both units pass"),
                                    value_name="F")
        self._levels_caption = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width")
        self._mask_caption = pn.pane.Markdown("", margin=(0, 10), width=360)
        self._counts = pn.pane.Markdown("", css_classes=["mask-counts"],
                                        sizing_mode="stretch_width")
        self._body.objects = [
            self._levels_caption,
            pane(self.levels_plot.figure, css_classes=["mask-levels"]),
            # the table below the mask: beside it, a 1024 px screen cuts its last column
            pn.Column(self._mask_caption, pane(self.mask_plot.figure)),
            self._counts,
        ]

    def update(self):
        from hessian_core.backend import namespace_of

        session, settings = self.session, self.settings
        net = session.net
        X, _ = self.batch()
        forward = net.forward(X)
        counted = session.data.X[:COUNT_LIMIT]
        everything = net.forward(counted)
        p, t = self.sample_index(), self.time_step()
        selected = self.layer()
        rows, arrays, images = [], {}, []
        for k in range(1, net.n_layers + 1):
            activation = net.activation_of(k)
            y = forward.pre_activations[k - 1]
            derivative = np.asarray(activation.df(namespace_of(y), y))
            all_y = everything.pre_activations[k - 1]
            per_unit = np.asarray(activation.df(namespace_of(all_y), all_y))
            per_unit = per_unit.reshape(-1, per_unit.shape[-1])
            dead = int(np.sum(np.all(per_unit == 0, axis=0)))
            active = int(np.sum(np.all(per_unit > 0, axis=0)))
            if session.is_rnn:
                image = derivative[0] if settings.scope == "sample" else derivative.mean(axis=0)
            else:
                image = derivative
            images.append(image)
            arrays[f"fprime_{k}"] = derivative
            kind = ("linear" if activation.name == "identity" else
                    "piecewise linear" if activation.piecewise_linear else "smooth")
            rows.append(
                f"| {k} | {activation.name} ({kind}) | {per_unit.shape[1]} | {dead} | {active} |"
            )
            if k == selected:
                index = 0 if settings.scope == "sample" else min(p, derivative.shape[0] - 1)
                vector = derivative[index, t - 1] if session.is_rnn else derivative[index]
                F = np.outer(vector, vector)
                arrays[f"F_{k}"] = F
                mask = block_average(F)[0]
                when = f", time t = {t}" if session.is_rnn else ""
                set_text(self._mask_caption, (
                    f"F{superscript(k)} = f' f'ᵀ of sample {p}{when}: entry (i, j) is "
                    + ("1 when units i and j both pass." if self._binary else
                       "f'(y_i) f'(y_j).")
                ))
        height = images[0].shape[0]
        width = sum(image.shape[1] for image in images) + len(images) - 1
        combined = np.full((height, width), np.nan)
        column, centres = 0, []
        for image in images:
            combined[:, column : column + image.shape[1]] = image
            centres.append(column + image.shape[1] / 2)
            column += image.shape[1] + 1
        shown, factor = block_average(combined)
        top = float(np.nanmax(combined)) if np.any(np.isfinite(combined)) else 1.0
        limits = (0.0, 1.0) if self._binary else (0.0, max(top, 1e-12))
        self.levels_plot.set(shown, limits=limits)
        axis = self.levels_plot.figure.xaxis[0]
        ticks = [c / factor for c in centres]
        set_fixed_ticks(axis, ticks, {tick: f"level {k}" for k, tick in
                                      enumerate(ticks, start=1)})
        yield
        self.mask_plot.set(mask, limits=(0.0, 1.0) if self._binary else None)
        yield
        if session.is_rnn:
            which = f"sample {p}" if settings.scope == "sample" else "batch mean"
            rows_are = f"time s = 1..{height} ({which})"
        else:
            rows_are = (f"sample {p}" if settings.scope == "sample"
                        else f"the {height} samples of the batch")
        colours = ("Blue = f' = 1 (the unit passes its input), grey = f' = 0 (blocked)."
                   if self._binary else "Colour = the value of f'(y) (see the colour bar).")
        set_text(self._levels_caption, (
            f"Rows: {rows_are}. Columns: the units of levels 1..{net.n_layers}, left to right, "
            f"separated by a white gap. {colours}"
        ))
        set_text(self._counts, (
            f"Counted over {'all ' if counted.shape[0] == session.data.size else 'the first '}"
            f"{counted.shape[0]} samples of the data set"
            + (" and all time steps" if session.is_rnn else "") + ".\n\n"
            "| level | activation | units | dead (f' = 0 always) | always active |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows)
        ))
        self.arrays = arrays
        look = ("**Look at:** the columns that stay grey for every row — dead units — and how "
                "the pattern changes as training runs." if self._binary else
                "**Look at:** smooth activation: the f'(y) values are drawn; no unit is ever "
                "exactly dead.")
        warning = dead_level_warning(session, X)
        self.set_note(f"{warning}\n\n{look}" if warning else look)
