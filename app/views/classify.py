"""The training view's classification part: decision regions by class (``regions.py``) and
the loss and accuracy on all training and test rows (``metrics.py``), with a one-line
summary, for a :class:`app.data.classification.ClassDataset`. Built once per model; ``update``
redraws both from the session's current network (the metrics at most every
``METRICS_INTERVAL_S`` while training runs) and shows or hides the test points as
``settings.show_test`` says (a change of it redraws, through the dashboard, so every Bokeh
change is made in a frame).
"""

from __future__ import annotations

import time

import numpy as np
import panel as pn
from bokeh.models import PlainText

from app.data.upload import plane_names
from app.outside_text import MARKDOWN_TEXT_OPTIONS, markdown_text
from app.views.metrics import MetricsPlot
from app.views.regions import DecisionRegions

#: while training runs, the loss and accuracy on all rows are recorded at most this often
#: (seconds): one evaluation of every row per redraw would cost each frame ~0.4 ms
METRICS_INTERVAL_S = 0.5


def is_classification(data) -> bool:
    """True for data with classes (a ClassDataset)."""
    return getattr(data, "class_labels", None) is not None


class ClassificationPanel:
    """Regions (when the data has a plane) and metrics of one classification run.

    ``regions=False`` leaves the regions out (no figure built, none redrawn): the training
    view then draws the network's one output over the plane itself (``training.py``).
    """

    def __init__(self, session, settings, height: int = 330, regions: bool = True):
        data = session.data
        self.session, self.settings = session, settings
        self.regions = (DecisionRegions(data, height=height)
                        if regions and data.points is not None else None)
        self.metrics = MetricsPlot(data)
        uploaded = getattr(session, "uploaded", None)
        if self.regions is not None:
            self.regions.show_test(getattr(settings, "show_test", True))
            if uploaded is not None:  # the plane of the file's two columns, named as text
                axes = (self.regions.figure.xaxis[0], self.regions.figure.yaxis[0])
                for axis, name in zip(axes, plane_names(uploaded), strict=True):
                    axis.axis_label = PlainText(name)
        self.caption = pn.pane.Markdown(caption(data, self.regions is not None),
                                        margin=(0, 10), sizing_mode="stretch_width",
                                        **MARKDOWN_TEXT_OPTIONS)
        self._recorded_at = -float("inf")

    def region_pane(self):
        """The regions figure (or the caption alone, for data without a plane)."""
        if self.regions is None:
            return self.caption
        return pn.Column(self.caption, pn.pane.Bokeh(self.regions.figure,
                                                     sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

    def metrics_pane(self):
        return pn.Column(
            self.metrics.summary,
            pn.Row(pn.pane.Bokeh(self.metrics.loss_figure, sizing_mode="stretch_width"),
                   pn.pane.Bokeh(self.metrics.accuracy_figure, sizing_mode="stretch_width"),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width")

    def update(self) -> dict[str, np.ndarray]:
        """Redraw from the current network; the arrays behind the plots."""
        net = self.session.net
        arrays = {}
        if self.regions is not None:
            self.regions.show_test(getattr(self.settings, "show_test", True))
            discrete = bool(getattr(self.settings, "discretize", False))
            text = caption(self.regions.data, True, discrete)
            if self.caption.object != text:
                self.caption.object = text
            arrays = self.regions.update(net, discrete)
        now = time.monotonic()
        playing = bool(getattr(self.session, "running", False))
        if not playing or now - self._recorded_at >= METRICS_INTERVAL_S:
            self.metrics.record(self.session.step, net)
            self._recorded_at = now
        arrays.update(self.metrics.arrays())
        return arrays

def caption(data, plane: bool, discrete: bool = False) -> str:
    """The Markdown line above the regions; the class names (an upload's labels) as text."""
    names = markdown_text(", ".join(data.class_names))
    test = (f" and {data.test_size} held-out test points (hollow triangles)"
            if data.test_size else "")
    if not plane:
        return (f"{data.size} training rows{test}, {data.classes} classes ({names}); the "
                f"data has {data.input_width} input columns, so no plane to draw regions on.")
    shade = (" (output discretized: hard classes)" if discrete
             else ", paler where it wins narrowly")
    return (f"Colour: the class the network predicts at each point of the plane{shade}. "
            f"{data.size} training points (filled){test}; "
            f"{data.classes} classes ({names}).")
