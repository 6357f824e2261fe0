"""The sidebar's TensorFlow Playground conveniences
(``app/configuration/playground_settings.py``): data sets
as thumbnails, Regenerate data, "discretize output", a menu of round learning rates beside
the slider, and the L1 strength beside the L2 weight decay.

Each widget is one value with its setting, both ways, and holds no state: a thumbnail sets
``dataset`` (the menu of data sets stays and follows), Regenerate data counts ``data_seed``
up (the model is kept: the network goes on training on the new sample), the menu and the
slider of the learning rate both follow ``learning_rate``. Stable CSS classes (each wraps a
``button``, ``select`` or ``input``): ``dataset-thumbnails`` and ``dataset-thumb-<name>``
(the one in use is ``primary``), ``regenerate-data``, ``regenerate-note``, ``discretize``,
``learning-rate-menu``, ``l1-strength``.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import panel as pn

from app.configuration.classification_settings import UPLOAD
from app.configuration.playground_settings import L1_STRENGTHS, ROUND_LEARNING_RATES
from app.views.regions import CLASS_COLOURS

#: the side of a thumbnail (CSS pixels) and the points drawn in it: the six fit in one row
#: of the sidebar
THUMBNAIL_SIDE = 34
THUMBNAIL_POINTS = 120
#: what Regenerate data does, said beside the button
REGENERATE_NOTE = ("A new sample of the same data set (data_seed in the address); the model "
                   "is kept and goes on training on the new points. Reset starts it over.")


@cache
def thumbnail_svg(name: str) -> str:
    """A small SVG picture of the built-in data set ``name`` (its two-class sample of seed
    0; the regression's points (x, z)), as its thumbnail shows it.

    >>> thumbnail_svg("xor").startswith("<svg") and thumbnail_svg("xor").count("<circle")
    120
    """
    from app.configuration.classification_settings import is_plane_dataset
    from app.data.classification import make_classification_data
    from app.data.datasets import make_fnn_dataset

    if is_plane_dataset(name):
        data = make_classification_data(name, THUMBNAIL_POINTS, 2, 0.1, 0)
        points, classes = data.points, np.asarray(data.class_labels, dtype=int)
    else:
        data = make_fnn_dataset(name, THUMBNAIL_POINTS, 0.1, 0)
        points, classes = np.concatenate([data.X, data.Z], axis=1), np.zeros(data.size, int)
    low, high = points.min(axis=0), points.max(axis=0)
    scaled = 2 + (THUMBNAIL_SIDE - 4) * (points - low) / np.where(high > low, high - low, 1)
    circles = "".join(
        f'<circle cx="{x:.1f}" cy="{THUMBNAIL_SIDE - y:.1f}" r="1.4" '
        f'fill="{CLASS_COLOURS[c % len(CLASS_COLOURS)]}"/>'
        for (x, y), c in zip(scaled, classes, strict=True))
    side = THUMBNAIL_SIDE
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
            f'viewBox="0 0 {side} {side}"><rect width="{side}" height="{side}" '
            f'fill="#f4f4f4"/>{circles}</svg>')


def round_rate_options(value: float) -> dict[str, float]:
    """The menu of round learning rates, with ``value`` added when it is not one of them
    (a slider stop such as 0.05, or a link's value), so the menu always shows the rate.

    >>> list(round_rate_options(0.1))[:3], "0.05" in round_rate_options(0.05)
    (['0.0001', '0.001', '0.003'], True)
    """
    options = {f"{rate:g}": rate for rate in ROUND_LEARNING_RATES}
    if float(value) not in options.values():
        options = dict(sorted({**options, f"{value:g}": float(value)}.items(),
                              key=lambda item: item[1]))
    return options


def nearest_l1(value: float) -> float:
    """The L1 stop closest to ``value`` on a log scale (0 only for 0).

    >>> nearest_l1(0.0), nearest_l1(0.012)
    (0.0, 0.01)
    """
    if value <= 0:
        return 0.0
    stops = [stop for stop in L1_STRENGTHS if stop > 0]
    return min(stops, key=lambda stop: abs(math.log(stop) - math.log(value)))


class DatasetThumbnails(pn.viewable.Viewer):
    """One button per built-in data set, its picture as the icon (its name in the tooltip and
    in the menu above); the one in use is highlighted (``primary``). A click sets
    ``settings.dataset``."""

    def __init__(self, settings, names, **params):
        super().__init__(**params)
        self.settings = settings
        self.buttons = {}
        for name in names:
            button = pn.widgets.Button(
                label="", icon=thumbnail_svg(name), icon_size=f"{THUMBNAIL_SIDE}px",
                width=THUMBNAIL_SIDE + 10, height=THUMBNAIL_SIDE + 10, margin=(2, 1),
                css_classes=[f"dataset-thumb-{name}"], description=f"the {name} data set",
                stylesheets=[":host .bk-btn {padding: 3px;}"])
            button.on_click(lambda event, name=name: self.choose(name))
            self.buttons[name] = button
        self.grid = pn.Row(*self.buttons.values(), css_classes=["dataset-thumbnails"],
                           margin=(0, 8))
        settings.param.watch(self.highlight, "dataset")
        self.highlight()

    def __panel__(self):
        return self.grid

    def choose(self, name: str) -> None:
        if self.settings.dataset != name:
            self.settings.dataset = name

    def highlight(self, *events) -> None:
        for name, button in self.buttons.items():
            color = "primary" if name == self.settings.dataset else "default"
            if button.color != color:
                button.color = color


class PlaygroundControls:
    """The widgets of this module's conveniences, for :class:`app.controls.sidebar.Controls` to
    place: ``thumbnails``, ``regenerate`` (with ``regenerate_note``), ``discretize``,
    ``learning_rate_menu`` and ``l1``."""

    def __init__(self, settings, dataset_names):
        self.settings = settings
        s, p = settings, settings.param
        stretch = {"sizing_mode": "stretch_width"}
        self.thumbnails = DatasetThumbnails(settings, dataset_names)
        self.regenerate = pn.widgets.Button(label="↻ Regenerate data", color="default",
                                            css_classes=["regenerate-data"], **stretch)
        self.regenerate.on_click(lambda event: self.new_sample())
        self.regenerate_note = pn.pane.HTML(REGENERATE_NOTE, css_classes=["regenerate-note"],
                                            styles={"font-size": "0.85em", "color": "#555"},
                                            margin=(0, 10), **stretch)
        self.discretize = pn.widgets.Checkbox.from_param(
            p.discretize, label="discretize output (hard classes)",
            css_classes=["discretize"])
        self.learning_rate_menu = pn.widgets.Select(
            label="round learning rates", options=round_rate_options(s.learning_rate),
            value=float(s.learning_rate), css_classes=["learning-rate-menu"], **stretch)
        self.learning_rate_menu.param.watch(self._rate_chosen, "value")
        self.l1 = pn.widgets.DiscreteSlider(
            label="L1 strength λ₁ (subgradient λ₁·sign(W))", options=list(L1_STRENGTHS),
            value=nearest_l1(s.l1), css_classes=["l1-strength"], **stretch)
        self.l1.param.watch(lambda event: setattr(s, "l1", event.new), "value")
        s.param.watch(self._settings_changed, ["learning_rate", "l1", "dataset", "model"])
        self.show_dataset()

    def new_sample(self) -> None:
        """Regenerate data: the next sample of the data set (``data_seed`` + 1)."""
        self.settings.data_seed = (self.settings.data_seed + 1) % (
            self.settings.param["data_seed"].bounds[1] + 1)

    def _rate_chosen(self, event) -> None:
        if self.settings.learning_rate != event.new:
            self.settings.learning_rate = event.new

    def _settings_changed(self, *events) -> None:
        for event in events:
            if event.name == "learning_rate":
                options = round_rate_options(event.new)
                if self.learning_rate_menu.options != options:
                    self.learning_rate_menu.options = options
                if self.learning_rate_menu.value != event.new:
                    self.learning_rate_menu.value = float(event.new)
            elif event.name == "l1":
                stop = nearest_l1(event.new)
                if self.l1.value != stop:
                    self.l1.value = stop
            else:
                self.show_dataset()

    def show_dataset(self) -> None:
        """An uploaded file has no other sample: Regenerate data is off while one is used."""
        uploaded = self.settings.dataset == UPLOAD and self.settings.model == "fnn"
        self.regenerate.disabled = uploaded
