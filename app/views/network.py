"""Network: the FNN drawn as TensorFlow Playground draws it, and coloured by its curvature.

Each neuron i of level k is a small heatmap of its output z_i^(k)(x) = f(y_i^(k)(x)) over
the input plane (x1, x2) of the data (a strip over x for 1-D data); the input neurons show
the network's inputs (the features of the point, :mod:`app.data.classification`). An RNN is
drawn by its levels, W^(k) as edges, without heatmaps (its inputs are sequences); its
feedback matrices U^(k) are in the downloads, and H is that of E^(t) at the chosen t. Each heatmap
is scaled by its own largest |z| (the hover gives the range), blue negative, red positive.

Each edge j -> i of level k is one weight w_ij of W^(k) (m x n). Its colour (blue < 0 < red)
and width (proportional to |value| / the largest |value| of the diagram) show, by choice:

- ``W``: the weight w_ij itself;
- ``G``: the gradient (G_W^(k))_ij, G_W^(k) = V^(k) Z^(k-1)T (Lemma 1; eq. (14)-(15)) of
  the current mini-batch, plus lam w_ij with weight decay lam (``hessian_core.losses``);
- ``H``: the diagonal of the level's Hessian, d^2E / dw_ij^2 = (H_W^(k))_{i n + j, i n + j}
  (row-major vec). From the Kronecker form H_W^(k) = sum_p A_p (x) z_p z_p^T + lam I
  (Theorem 1, exact pre-activation blocks A_p with the batch's 1/r; eq. (46) for one
  sample) and diag(A (x) B) = diag(A) (x) diag(B):

      d^2E / dw_ij^2 = sum_p (A_p)_ii (z_p,j)^2 + lam,

  for RNNs summed over the time pairs (s, zeta) of the blocks (:func:`hessian_diagonal`),
  never forming the (mn) x (mn) matrix.

Bias values (and their gradients, or the diagonal of H_b, i.e. sum_p (A_p)_ii) are in the
neurons' hover. Drawing: one Bokeh figure built once; a redraw assigns the data of its
three ``ColumnDataSource`` objects (heatmaps, edges, labels). The core work of a redraw
(forward pass over the grid, gradients, layer Hessians) runs in ``self.offload``.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, DataRange1d, HoverTool, LinearColorMapper
from bokeh.plotting import figure

from app.views.architecture_buttons import ArchitectureButtons
from app.views.common import DIVERGING, View

#: heatmap resolution per axis
PIXELS = 24
#: widest level drawn (units); wider networks get a note instead of an unreadable diagram
MAX_UNITS = 32
#: horizontal distance between levels, vertical distance between units, heatmap side
LEVEL_GAP, UNIT_GAP, SIDE = 3.0, 1.2, 0.9
#: blue (negative) - white (0) - red (positive), 256 steps (ColorBrewer RdBu)
PALETTE = tuple(DIVERGING)
QUANTITIES = {"W": "weights W", "G": "gradient G_W = V Zᵀ", "H": "Hessian diagonal"}
MIN_WIDTH, MAX_WIDTH = 0.4, 6.0


def hessian_diagonal(hessian) -> np.ndarray:
    """diag of ``hessian.dense()`` as an (m, n) array (row-major vec), from its Kronecker
    factors: sum over p, s, zeta of blocks[p, s, i, zeta, i] z_{p,s,j} z_{p,zeta,j}, plus the
    diagonal of a remainder (the exact RNN H_U) and the shift lam."""
    blocks = np.asarray(hessian.blocks, dtype=float)  # (r, T, m, T, m)
    inputs = np.asarray(hessian.inputs, dtype=float)  # (r, T, n)
    m, n = blocks.shape[2], inputs.shape[2]
    unit_blocks = np.einsum("psizi->pszi", blocks)  # (A_{p,s,zeta})_ii
    diagonal = np.einsum("pszi,psj,pzj->ij", unit_blocks, inputs, inputs)
    if hessian.remainder is not None:
        diagonal = diagonal + np.diag(np.asarray(hessian.remainder, dtype=float)).reshape(m, n)
    return diagonal + float(hessian.shift)


def colour_of(values: np.ndarray, scale: float) -> list[str]:
    """Palette colour of each value, ``-scale`` blue, 0 white, ``+scale`` red."""
    scale = scale or 1.0
    index = np.clip(np.round((np.asarray(values) / scale + 1.0) * 127.5), 0, 255).astype(int)
    return [PALETTE[i] for i in index]


def unit_positions(sizes: tuple[int, ...]) -> list[np.ndarray]:
    """Centre height of each unit of each level (levels 0..l), every level centred on 0."""
    return [(np.arange(size) - (size - 1) / 2.0)[::-1] * UNIT_GAP for size in sizes]


class NetworkView(View):
    key = "network"
    title = "Network"

    def __init__(self, session, settings, **params):
        super().__init__(session, settings, **params)
        # the setting ``network_shows`` (in the URL; a change redraws through the dashboard)
        self._choice = pn.widgets.RadioButtonGroup.from_param(
            settings.param.network_shows,
            options={label: key for key, label in QUANTITIES.items()},
            color="light", css_classes=["network-quantity"],
        )
        # +/- for levels and units, as Playground has them beside its diagram
        self._editor = ArchitectureButtons(settings)

    @property
    def quantity(self) -> str:
        """What the edges show now: "W", "G" or "H" (``settings.network_shows``)."""
        return self.settings.network_shows

    # --- the plane of the inputs --------------------------------------------------------
    def plane(self):
        """(grid points in the data's plane, the network inputs at them, image shape), or
        None when the inputs are not a function of at most two coordinates."""
        data = self.session.data
        points = getattr(data, "points", None)
        features = getattr(data, "features", None)
        if points is None:
            points = data.X
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] not in (1, 2):
            return None
        low, high = points.min(axis=0) - 0.1, points.max(axis=0) + 0.1
        if points.shape[1] == 1:
            grid = np.linspace(low[0], high[0], PIXELS)[:, None]
            return grid, grid, (1, PIXELS)
        xs, ys = np.linspace(low[0], high[0], PIXELS), np.linspace(low[1], high[1], PIXELS)
        gx, gy = np.meshgrid(xs, ys)  # row 0 at the bottom (Bokeh images grow upwards)
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        if features is not None:
            from app.data.classification import feature_map

            return grid, feature_map(grid, features), (PIXELS, PIXELS)
        return grid, grid, (PIXELS, PIXELS)

    def input_names(self) -> list[str]:
        """The inputs' names: an upload's column names (as text), else x1, ..., or the
        features of the plane (x₁, x₁x₂, ...)."""
        features = getattr(self.session.data, "features", None)
        uploaded = getattr(self.session, "uploaded", None)
        if uploaded is not None:
            from app.data.upload import input_names

            return input_names(uploaded, features)
        if features is not None:
            from app.data.classification import FEATURE_LABELS

            return [FEATURE_LABELS[name] for name in features]
        return [f"x{j + 1}" for j in range(self.session.layer_sizes[0])]

    # --- life cycle ---------------------------------------------------------------------
    plot = None

    def build(self) -> None:
        """The figure is made once and kept across model rebuilds (a new figure put into a
        served page misses its first data); a rebuild empties its sources and refits it."""
        sizes = self.session.layer_sizes
        if self.plot is None:
            self.make_figure()
        for source in (self.units, self.edges, self.labels, self.input_labels):
            source.data = {name: [] for name in source.data}
        self.outlines.data = self.frames(sizes)
        height = int(min(900, max(320, 52 * max(sizes) + 90)))
        if self.plot.height != height:
            self.plot.height = height
        self._pane.visible = max(sizes) <= MAX_UNITS
        self._body.objects = [self._choice, self._editor, self._caption, self._pane]

    def make_figure(self) -> None:
        self.units = ColumnDataSource({name: [] for name in (
            "image", "x", "y", "dw", "dh", "unit", "output_range", "bias", "bias_value")})
        self.edges = ColumnDataSource({name: [] for name in (
            "x0", "y0", "x1", "y1", "colour", "width", "edge", "value", "weight")})
        self.labels = ColumnDataSource({"x": [], "y": [], "text": []})
        self.input_labels = ColumnDataSource({"x": [], "y": [], "text": []})
        self.outlines = ColumnDataSource({"x": [], "y": []})
        self._caption = pn.pane.Markdown("", css_classes=["network-caption"], margin=(0, 10),
                                         sizing_mode="stretch_width")
        plot = figure(
            title="", match_aspect=True,  # square heatmaps: ranges follow the data
            x_range=DataRange1d(range_padding=0.12), y_range=DataRange1d(range_padding=0.08),
            tools="pan,wheel_zoom,reset,save", height=320, sizing_mode="stretch_width",
            min_width=360, toolbar_location="right",
        )
        plot.toolbar.logo = None
        plot.axis.visible = False
        plot.grid.visible = False
        plot.outline_line_color = None
        edges = plot.segment(x0="x0", y0="y0", x1="x1", y1="y1", line_color="colour",
                             line_width="width", line_alpha=0.85, source=self.edges)
        mapper = LinearColorMapper(palette=list(PALETTE), low=-1.0, high=1.0)
        units = plot.image(image="image", x="x", y="y", dw="dw", dh="dh", color_mapper=mapper,
                           source=self.units)
        plot.rect(x="x", y="y", width=SIDE, height=SIDE, fill_alpha=0, line_color="#444444",
                  source=self.outlines)
        plot.text(x="x", y="y", text="text", source=self.labels, text_align="center",
                  text_font_size="13px", text_color="#333333")
        plot.text(x="x", y="y", text="text", source=self.input_labels, text_align="right",
                  text_baseline="middle", text_font_size="13px", text_color="#333333")
        plot.add_tools(
            HoverTool(renderers=[edges], tooltips=[("edge", "@edge"), ("shown", "@value{0.000e}"),
                                                   ("weight", "@weight{0.0000}")]),
            HoverTool(renderers=[units], tooltips=[("unit", "@unit"), ("z", "@output_range"),
                                                   ("bias", "@bias = @bias_value{0.000e}")]),
        )
        plot.title.text_font_size = "14px"
        self.plot = plot
        self._pane = pn.pane.Bokeh(plot, sizing_mode="stretch_width")

    @staticmethod
    def frames(sizes) -> dict[str, list[float]]:
        """Centres of the outlines around every heatmap."""
        xs, ys = [], []
        for level, heights in enumerate(unit_positions(sizes)):
            xs += [level * LEVEL_GAP + SIDE / 2] * heights.size
            ys += list(heights)
        return {"x": xs, "y": ys}

    def update(self):
        session = self.session
        sizes = session.layer_sizes
        if max(sizes) > MAX_UNITS:
            self.set_note(f"The network diagram draws levels of at most {MAX_UNITS} units; "
                          f"this network has {max(sizes)}: choose narrower levels.")
            return
        plane = self.plane()
        quantity = self.quantity
        X, Z = self.batch()
        if quantity == "H" and self.blocks_too_large(X):
            self.set_note(self.blocks_too_large(X))
            return
        net = session.net
        rnn = session.is_rnn
        keywords = session.loss_keywords() if hasattr(session, "loss_keywords") else {}
        t = self.time_step() if rnn else None

        def compute():
            shown, biases = [], []
            if quantity == "G":
                for g in net.gradients(X, Z, **keywords):
                    shown.append(np.asarray(g.W))
                    biases.append(np.asarray(g.b))
            elif quantity == "H" and rnn:  # E^(t) at the chosen output time t
                for k in range(1, net.n_layers + 1):
                    shown.append(hessian_diagonal(net.hessian(X, Z, layer=k, t=t, wrt="W")))
                    biases.append(hessian_diagonal(net.hessian(X, Z, layer=k, t=t,
                                                               wrt="b"))[:, 0])
            elif quantity == "H":
                forward = net.forward(X)
                adjoints = net.adjoints(forward, Z)
                for k in range(1, net.n_layers + 1):
                    shown.append(hessian_diagonal(net.hessian_from(forward, adjoints, k)))
                    biases.append(hessian_diagonal(net.hessian_from(forward, adjoints, k,
                                                                    wrt="b"))[:, 0])
            else:
                shown = [np.asarray(W) for W in net.weights]
                biases = [np.asarray(b) for b in net.biases]
            outputs = None
            if plane is not None:
                forward = net.forward(plane[1])
                outputs = [np.asarray(z) for z in forward.activations]
            elif rnn:  # each unit's output over the time steps of one sequence
                p = min(self.sample_index(), X.shape[0] - 1)
                outputs = [np.asarray(z)[0] for z in net.forward(X[p : p + 1]).activations]
            return shown, biases, outputs

        shown, biases, outputs = yield from self.offload(compute)
        self.draw_edges(sizes, shown, [np.asarray(W) for W in net.weights], quantity)
        if rnn:
            self.arrays.update({f"U{k}": np.asarray(U)
                                for k, U in enumerate(net.recurrent, start=1)})
        yield
        self.draw_units(sizes, outputs, plane, biases, quantity)
        yield
        self.write_caption(sizes, shown, plane, quantity)

    # --- drawing ------------------------------------------------------------------------
    def draw_edges(self, sizes, shown, weights, quantity: str) -> None:
        heights = unit_positions(sizes)
        scale = max((float(np.max(np.abs(values))) for values in shown), default=0.0)
        x0, y0, x1, y1, names, values, plain = [], [], [], [], [], [], []
        for k, (values_k, W) in enumerate(zip(shown, weights, strict=True), start=1):
            m, n = values_k.shape
            rows, cols = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
            rows, cols = rows.ravel(), cols.ravel()  # row-major: edge i*n + j is w_ij
            x0.append(np.full(m * n, (k - 1) * LEVEL_GAP + SIDE))
            x1.append(np.full(m * n, k * LEVEL_GAP))
            y0.append(heights[k - 1][cols])
            y1.append(heights[k][rows])
            names += [f"level {k}: unit {j + 1} → unit {i + 1}" for i, j in zip(rows, cols,
                                                                                strict=True)]
            values.append(values_k.ravel())
            plain.append(W.ravel())
        values_all = np.concatenate(values)
        relative = np.abs(values_all) / (scale or 1.0)
        self.edges.data = {
            "x0": np.concatenate(x0), "y0": np.concatenate(y0), "x1": np.concatenate(x1),
            "y1": np.concatenate(y1), "colour": colour_of(values_all, scale),
            "width": MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * relative, "edge": names,
            "value": values_all, "weight": np.concatenate(plain),
        }
        key = {"W": "W", "G": "G_W", "H": "H_W_diagonal"}[quantity]
        self.arrays = {f"{key}{k}": values_k for k, values_k in enumerate(shown, start=1)}

    def draw_units(self, sizes, outputs, plane, biases, quantity: str) -> None:
        heights = unit_positions(sizes)
        names = self.input_names()
        bias_label = {"W": "b", "G": "G_b", "H": "d²E/db²"}[quantity]
        columns = {name: [] for name in self.units.data}
        for level, size in enumerate(sizes):
            for i in range(size):
                if outputs is None:
                    image, low, high = np.zeros((1, 1)), 0.0, 0.0
                else:
                    values = outputs[level][:, i]
                    low, high = float(values.min()), float(values.max())
                    top = max(abs(low), abs(high)) or 1.0
                    shape = plane[2] if plane is not None else (1, values.size)
                    image = (values / top).reshape(shape).astype(np.float32)
                columns["image"].append(image)
                columns["x"].append(level * LEVEL_GAP)
                columns["y"].append(heights[level][i] - SIDE / 2)
                columns["dw"].append(SIDE)
                columns["dh"].append(SIDE)
                columns["unit"].append(names[i] if level == 0 else
                                       f"level {level}, unit {i + 1}")
                columns["output_range"].append(f"{low:.3g} … {high:.3g}")
                columns["bias"].append("" if level == 0 else bias_label)
                columns["bias_value"].append(np.nan if level == 0 else
                                             float(biases[level - 1][i]))
        self.units.data = columns
        self.labels.data = {
            "x": [level * LEVEL_GAP + SIDE / 2 for level in range(len(sizes))],
            "y": [max(h.max() for h in heights) + SIDE / 2 + 0.25] * len(sizes),
            "text": ["input"] + [f"level {k}" for k in range(1, len(sizes))],
        }
        self.input_labels.data = {"x": [-0.1] * sizes[0], "y": list(heights[0]),
                                  "text": names}
        if outputs is not None and plane is not None:  # the downloads keep float64
            self.arrays["grid_points"] = plane[0]
            for level in range(1, len(sizes)):
                self.arrays[f"z{level}_on_grid"] = outputs[level]
        elif outputs is not None:
            for level in range(1, len(sizes)):
                self.arrays[f"z{level}_over_time"] = outputs[level]

    def write_caption(self, sizes, shown, plane, quantity: str) -> None:
        session = self.session
        scale = max(float(np.max(np.abs(values))) for values in shown)
        what = {
            "W": "the weights w_ij",
            "G": f"the gradient G_W⁽ᵏ⁾ = V Zᵀ of this mini-batch (r = {self.batch()[0].shape[0]})"
                 + (" plus λ_wd·W" if getattr(session.net, "weight_decay", 0.0) else ""),
            "H": "the diagonal of each level's Hessian, d²E/dw_ij² = Σ_p (A_p)_ii z_pj²"
                 + (" + λ_wd" if getattr(session.net, "weight_decay", 0.0) else "")
                 + ", from the Kronecker factors",
        }[quantity]
        text = (f"Edges: {what}; blue < 0 < red, width ∝ |value| (largest {scale:.3g}). "
                "Neurons: each unit's output over the input plane, scaled to its own largest "
                "|z|. Hover an edge or a neuron for the numbers.")
        if session.is_rnn:
            text = text.replace("over the input plane", "over time")
            text += (f" RNN: each neuron is a strip of its output z at s = 1..τ (left to right) "
                     f"for sequence {min(self.sample_index(), self.batch()[0].shape[0] - 1)}; "
                     "the feedback matrices U⁽ᵏ⁾ are not drawn (they are in the downloads)"
                     + (f"; H is the Hessian of E⁽ᵗ⁾ at t = {self.time_step()}"
                        if quantity == "H" else "") + ".")
        elif plane is None:
            text += " (No heatmaps: the inputs are not points of a plane.)"
        if self._caption.object != text:
            self._caption.object = text
        look = {
            "W": "**Look at:** which units the thick edges feed, and the shapes each level "
                 "builds from the one before.",
            "G": "**Look at:** the gradient is V Zᵀ: edges leaving an input or unit that is 0 "
                 "on this batch (a dead ReLU) carry no gradient.",
            "H": "**Look at:** the curvature of each weight alone; a unit that never fires on "
                 "this batch has (A_p)_ii = 0, so all its incoming edges vanish.",
        }[quantity]
        self.set_note(f"{'-'.join(map(str, sizes))} network, step {session.step}. {look}")
