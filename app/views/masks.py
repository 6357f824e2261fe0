"""ReLU masks: f'(y^(k)) per level, the binary F^(k) = f'(y) f'(y)^T, dead and always-active units.

For ReLU f' is 0 or 1 and f'' = 0 (Corollary 2, eq. 43-44): the mask F^(k) selects which
entries of W^(k+1)T C~^(k+1) W^(k+1) survive into C~^(k). A unit whose f' is 0 for every
sample is dead (its rows of the gradient and Hessian vanish); one whose f' is positive for
every sample always passes its input. For smooth activations the f'(y) values are drawn.
Derivatives come from the core (``net.activation_of(k).df``). All levels share one image,
side by side, separated by a blank (NaN) column.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from .common import IMAGE_OPTIONS, MASK, View, block_average, matrix_image, plot_pane

COUNT_LIMIT = 1000  # dead/active units are counted over at most this many data samples


class MasksView(View):
    key = "masks"
    title = "ReLU masks"

    def build(self) -> None:
        self._levels = hv.streams.Pipe(data=None)
        self._mask = hv.streams.Pipe(data=None)
        options = dict(IMAGE_OPTIONS, cmap=MASK, clim=(0.0, 1.0),
                       clipping_colors={"NaN": "#ffe9a8"},
                       min_height=260)
        levels = hv.DynamicMap(
            lambda data: matrix_image(data, "f'(y)"), streams=[self._levels]
        ).opts(**options)
        mask = hv.DynamicMap(
            lambda data: matrix_image(data, "F"), streams=[self._mask]
        ).opts(**options)
        self._levels_caption = pn.pane.Markdown("", margin=(0, 10))
        self._mask_caption = pn.pane.Markdown("", margin=(0, 10))
        self._counts = pn.pane.Markdown("", css_classes=["mask-counts"])
        self._body.objects = [
            self._levels_caption,
            plot_pane(levels.opts(
                min_height=300, title="f'(y^(k)) for every level k (left to right)"),
                sizing_mode="stretch_width", min_height=310),
            pn.Row(
                pn.Column(self._mask_caption, plot_pane(
                    mask.opts(title="F^(k) = f'(y) f'(y)ᵀ", responsive=False, min_height=None,
                              frame_width=300, frame_height=300)),
                    sizing_mode="stretch_width"),
                self._counts, sizing_mode="stretch_width",
            ),
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
            kind = "piecewise linear" if activation.piecewise_linear else "smooth"
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
                binary = "binary (0/1) " if activation.piecewise_linear else ""
                self._mask_caption.object = (
                    f"{binary}F^({k}) = f' f'ᵀ of sample {p}{when}: entry (i, j) is 1 when units "
                    "i and j are both active."
                )
        height = images[0].shape[0]
        width = sum(image.shape[1] for image in images) + len(images) - 1
        combined = np.full((height, width), np.nan)
        column = 0
        for image in images:
            combined[:, column : column + image.shape[1]] = image
            column += image.shape[1] + 1
        self._levels.send(block_average(combined)[0])
        yield
        self._mask.send(mask)
        yield
        if session.is_rnn:
            which = f"sample {p}" if settings.scope == "sample" else "batch mean"
            rows_are = f"time s = 1..{height} ({which})"
        else:
            rows_are = (f"sample {p}" if settings.scope == "sample"
                        else f"the {height} samples of the batch")
        self._levels_caption.object = (
            f"Rows: {rows_are}. Columns: the units of levels 1..{net.n_layers}, left to right "
            "(yellow columns separate levels). Black = f' = 1 (unit passes its input), "
            "white = f' = 0 (blocked)."
        )
        self._counts.object = (
            f"Counted over {'all ' if counted.shape[0] == session.data.size else 'the first '}"
            f"{counted.shape[0]} samples of the data set"
            + (" and all time steps" if session.is_rnn else "") + ".\n\n"
            "| level | activation | units | dead (f' = 0 always) | always active |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows)
        )
        self.arrays = arrays
        piecewise = net.activation_of(1).piecewise_linear
        self.set_note("" if piecewise else
                      "Smooth activation: the f'(y) values are drawn (grey levels); "
                      "no unit is ever exactly dead.")
