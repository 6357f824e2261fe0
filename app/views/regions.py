"""Decision regions of a classifier over the input plane, with its training and test data.

Every pixel of a grid over the plane of the data (x1, x2) takes the colour of the class
the network predicts there (:func:`app.data.classification.predicted_classes`: argmax of the
outputs, or the output's side of the midpoint of the two label values for one output), and
an opacity that grows with how clearly it wins:

- K >= 2 outputs: confidence = (max_i p_i - 1/K) / (1 - 1/K), p = softmax(z) (the model's
  class probabilities for cross-entropy; a monotone score for the squared loss);
- one output: confidence = min(1, |z - middle| / (half the distance of the two labels)).

Training points are filled circles in their class colour, test points hollow triangles
(shown or hidden with :meth:`DecisionRegions.show_test`). Colours are Okabe & Ito's,
distinguishable with every colour-vision type. Built once; :meth:`DecisionRegions.update`
assigns the image's ``ColumnDataSource`` data (one (G, G) RGBA array).
"""

from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, DataRange1d, HoverTool
from bokeh.plotting import figure

from app.data.classification import feature_map, predicted_classes
from app.views.figures import add_legend

#: Okabe & Ito (2008): distinguishable with every colour-vision type
CLASS_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
#: grid resolution per axis
GRID = 64
#: opacity (0-255) of a pixel whose class just wins, and added for a certain one
LOW_ALPHA, ALPHA_RANGE = 30, 120


def confidence(outputs: np.ndarray, label_values: tuple[float, float]) -> np.ndarray:
    """How clearly the predicted class wins at each row of ``outputs`` (n, M), in [0, 1]."""
    outputs = np.asarray(outputs, dtype=float)
    if outputs.shape[1] == 1:
        low, high = label_values
        half = abs(high - low) / 2.0 or 1.0
        return np.clip(np.abs(outputs[:, 0] - (low + high) / 2.0) / half, 0.0, 1.0)
    K = outputs.shape[1]
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    top = shifted.max(axis=1) / shifted.sum(axis=1)
    return np.clip((top - 1.0 / K) / (1.0 - 1.0 / K), 0.0, 1.0)


def region_image(outputs: np.ndarray, label_values: tuple[float, float], shape: tuple[int, int],
                 discrete: bool = False) -> np.ndarray:
    """RGBA pixels (shape, uint32 for Bokeh's ``image_rgba``) of the decision regions;
    ``discrete``: hard classes, every pixel at the full opacity of a certain one."""
    classes = predicted_classes(outputs, label_values)
    certainty = (np.ones(classes.size) if discrete
                 else confidence(outputs, label_values))
    alpha = LOW_ALPHA + np.round(ALPHA_RANGE * certainty)
    rgb = np.array([[int(colour[i:i + 2], 16) for i in (1, 3, 5)] for colour in CLASS_COLOURS])
    pixels = np.empty((classes.size, 4), dtype=np.uint8)
    pixels[:, :3] = rgb[classes]
    pixels[:, 3] = alpha.astype(np.uint8)
    return pixels.view(np.uint32).reshape(shape)


def point_columns(points: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> dict:
    """Columns of a points source, ordered by class (so that the legend is)."""
    labels = np.asarray(labels).astype(int)
    order = np.argsort(labels, kind="stable")
    points, labels = points[order], labels[order]
    return {"x1": points[:, 0], "x2": points[:, 1],
            "colour": [CLASS_COLOURS[c] for c in labels],
            "class_name": [names[c] for c in labels]}


class DecisionRegions:
    """The regions plot of a :class:`app.data.classification.ClassDataset` with a plane."""

    def __init__(self, data, title: str = "decision regions and data", height: int = 340):
        if data.points is None:
            raise ValueError("decision regions need 2-D points: this data has no plane")
        self.data = data
        every = data.points if data.test_points is None else np.concatenate(
            [data.points, data.test_points])
        low, high = every.min(axis=0) - 0.2, every.max(axis=0) + 0.2
        xs, ys = np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)
        gx, gy = np.meshgrid(xs, ys)  # row 0 at the bottom, as Bokeh draws images
        self.grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        self.inputs = self.grid if data.features is None else feature_map(self.grid,
                                                                            data.features)
        self.source = ColumnDataSource({"image": [np.zeros((GRID, GRID), dtype=np.uint32)],
                                        "x": [low[0]], "y": [low[1]], "dw": [high[0] - low[0]],
                                        "dh": [high[1] - low[1]]})
        # equal units on both axes (the ranges follow the image): circles are drawn round
        plot = figure(title=title, x_range=DataRange1d(range_padding=0),
                      y_range=DataRange1d(range_padding=0), match_aspect=True, height=height,
                      sizing_mode="stretch_width", min_width=300,
                      tools="pan,wheel_zoom,reset,save", x_axis_label="x₁", y_axis_label="x₂")
        plot.toolbar.logo = None
        plot.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source)
        names = data.class_names
        self.train = ColumnDataSource(point_columns(data.points, data.class_labels, names))
        trained = plot.scatter(x="x1", y="x2", source=self.train, size=6, fill_color="colour",
                               line_color="black", line_width=0.5, legend_field="class_name")
        self.test = ColumnDataSource(point_columns(
            np.zeros((0, 2)) if data.test_points is None else data.test_points,
            np.zeros(0) if data.test_labels is None else data.test_labels, names))
        self.test_renderer = plot.scatter(x="x1", y="x2", source=self.test, marker="triangle",
                                          size=8, fill_color="white", line_color="colour",
                                          line_width=2)
        plot.add_tools(HoverTool(renderers=[trained, self.test_renderer],
                                 tooltips=[("class", "@class_name"), ("x", "(@x1, @x2)")]))
        plot.legend.title = "class"
        add_legend(plot)
        plot.title.text_font_size = "14px"
        self.figure = plot
        self.show_test(True)

    def show_test(self, visible: bool) -> None:
        """Show or hide the test points (hollow triangles)."""
        visible = bool(visible) and self.data.test_size > 0
        if self.test_renderer.visible != visible:
            self.test_renderer.visible = visible

    def update(self, net, discrete: bool = False) -> dict[str, np.ndarray]:
        """Colour the regions by ``net``'s prediction over the grid (``discrete``: hard
        classes, no paler margins); returns the arrays behind them (grid points, outputs,
        predicted classes) for the downloads."""
        outputs = np.asarray(net.forward(self.inputs).output)
        image = region_image(outputs, self.data.labels, (GRID, GRID), discrete)
        self.source.patch({"image": [(0, image)]})
        return {"grid_points": self.grid, "grid_outputs": outputs,
                "grid_classes": predicted_classes(outputs, self.data.labels)}
