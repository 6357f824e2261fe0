"""The sidebar card of the classification settings
(``app/configuration/classification_settings.py``):
loss, classes, input features, L2 weight decay, the train/test split, "show test data" and
the CSV upload. Each widget is one value with its setting (both ways); it holds no state.
"""

from __future__ import annotations

import panel as pn

from app import page_css
from app.configuration.classification_settings import UPLOAD, WEIGHT_DECAYS, is_plane_dataset
from app.data.classification import FEATURE_LABELS, FEATURES, check_features

LOSS_TITLES = {"squared (paper)": "mse", "cross-entropy (softmax)": "cross_entropy"}


def nearest_decay(value: float) -> float:
    """The weight-decay stop closest to ``value`` (0 only for 0).

    >>> nearest_decay(0.0), nearest_decay(0.012), nearest_decay(5e-5)
    (0.0, 0.01, 0.0001)
    """
    if value <= 0:
        return 0.0
    import math

    stops = [stop for stop in WEIGHT_DECAYS if stop > 0]
    return min(stops, key=lambda stop: abs(math.log(stop) - math.log(value)))


class ClassificationControls(pn.viewable.Viewer):
    """Widgets of the classification settings, and the upload control if given."""

    def __init__(self, settings, upload=None, **params):
        super().__init__(**params)
        self.settings = settings
        s, p = settings, settings.param
        stretch = {"sizing_mode": "stretch_width"}
        w = pn.widgets
        self.loss = w.RadioButtonGroup.from_param(p.loss, options=LOSS_TITLES,
                                                  css_classes=["loss-choice"], **stretch)
        self.classes = w.IntSlider.from_param(p.classes, label="classes K",
                                              css_classes=["classes-slider"], **stretch)
        self.features = w.CheckButtonGroup(
            label="input features", options={FEATURE_LABELS[key]: key for key in FEATURES},
            value=list(check_features(s.features)), css_classes=["feature-choice"],
            orientation="horizontal", stylesheets=[page_css.BUTTON_GROUP], **stretch)
        self.features.param.watch(self._features_chosen, "value")
        self.features_label = pn.pane.HTML("input features (N = their number)",
                                           margin=(0, 10))
        self.weight_decay = w.DiscreteSlider(
            label="L2 weight decay λ_wd", options=list(WEIGHT_DECAYS),
            value=nearest_decay(s.weight_decay), css_classes=["weight-decay"], **stretch)
        self.weight_decay.param.watch(lambda event: setattr(s, "weight_decay", event.new),
                                      "value")
        self.test_fraction = w.FloatSlider.from_param(
            p.test_fraction, label="test data (share of each class)", step=0.05,
            css_classes=["test-fraction"], **stretch)
        self.show_test = w.Checkbox.from_param(p.show_test, label="show test data",
                                               css_classes=["show-test"])
        s.param.watch(self._settings_changed, [name for name in (
            "features", "weight_decay", "dataset", "model") if name in s.param])
        self.upload = upload
        objects = [self.loss, self.classes, self.features_label, self.features,
                   self.weight_decay, self.test_fraction, self.show_test]
        if upload is not None:
            objects.append(upload)
        self.card = pn.Card(*objects, title="Classification and regularisation",
                            css_classes=["classification-card"], **stretch)
        self.show_dataset()

    def __panel__(self):
        return self.card

    def _features_chosen(self, event) -> None:
        if not event.new:  # at least one feature: give the last one back
            self.features.value = list(event.old)
            return
        text = ",".join(check_features(event.new))
        if self.settings.features != text:
            self.settings.features = text

    def _settings_changed(self, *events) -> None:
        for event in events:  # several at once when settings are applied in one batch
            if event.name == "features":
                chosen = list(check_features(event.new))
                if list(self.features.value) != chosen:
                    self.features.value = chosen
            elif event.name == "weight_decay":
                stop = nearest_decay(event.new)
                if self.weight_decay.value != stop:
                    self.weight_decay.value = stop
            else:
                self.show_dataset()

    def show_dataset(self) -> None:
        """Classes, features and the split only for the 2-D classification sets of the
        FNN and an uploaded file (whose classes are the file's: shown, not chosen); the loss
        and the upload for FNNs; weight decay for both kinds."""
        fnn = getattr(self.settings, "model", "fnn") == "fnn"
        uploaded = fnn and self.settings.dataset == UPLOAD
        plane = fnn and is_plane_dataset(self.settings.dataset) or uploaded
        for widget in (self.classes, self.features_label, self.features, self.test_fraction,
                       self.show_test):
            widget.visible = plane
        self.classes.disabled = uploaded
        self.loss.visible = fnn
        if self.upload is not None:
            self.upload.__panel__().visible = fnn
