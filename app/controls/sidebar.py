"""The settings panel: Play/Step/Reset with the speed, the counters, messages and every control.

:class:`Controls` builds the sidebar's widgets from a
:class:`~app.configuration.settings.Settings` (most
with ``from_param``, so a widget and its setting are one value) and shows what the dashboard
tells it (messages, the status, the model's sizes); it holds no training state. The data
choice (data set for an FNN, task for an RNN) sits right below the model kind, where a
student sees it without scrolling at 1024x768. The stable CSS classes are listed in
``app/page/dashboard.py``.
"""

from __future__ import annotations

import panel as pn

from app import page_css
from app.configuration.lessons import BY_KEY, LESSONS
from app.configuration.settings import (
    FNN_DATASETS,
    LEARNING_RATES,
    SPARSE_SETTINGS,
    SPARSE_TITLES,
    UPLOAD,
    UPLOAD_LOST,
    nearest_learning_rate,
)
from app.controls.classification_controls import ClassificationControls
from app.controls.playground_controls import PlaygroundControls
from app.controls.upload_panel import UploadPanel
from app.outside_text import MARKDOWN_TEXT_OPTIONS, html_text, markdown_text

#: the speed control: most SGD steps between two frames (0 = as fast as the machine allows)
FASTEST = 0
SPEEDS = {
    "fastest": FASTEST,
    "300 steps / frame": 300,
    "100 steps / frame": 100,
    "30 steps / frame": 30,
    "10 steps / frame": 10,
    "3 steps / frame": 3,
    "1 step / frame": 1,
}
#: the sidebar cards' margin (px: top and bottom, left and right)
CARD_MARGIN = (6, 5)


def speed_options(value: int) -> dict[str, int]:
    """The speed menu, with ``value`` added when a link asks for a speed not in it."""
    options = dict(SPEEDS)
    if value not in options.values():
        options[f"{value} steps / frame"] = value
    return options


class Controls(pn.viewable.Viewer):
    """The sidebar of one dashboard; ``readouts`` (the step counter and the loss, which the
    live loop changes every frame, :class:`app.live.receipts.FrameReadouts`) sits below Play."""

    def __init__(self, settings, readouts, on_play, on_step, on_reset, on_lesson,
                 on_upload=None, **params):
        super().__init__(**params)
        self.settings = settings
        self.on_upload = on_upload  # hands an uploaded data set (or None) to the dashboard
        s, p = settings, settings.param
        self.play_button = pn.widgets.Button(
            label="▶ Play", color="success", css_classes=["play-button"], width=90
        )
        self.step_button = pn.widgets.Button(
            label="Step", color="primary", css_classes=["step-button"], width=70
        )
        self.reset_button = pn.widgets.Button(
            label="Reset", color="warning", css_classes=["reset-button"], width=70
        )
        self.play_button.on_click(lambda event: on_play())
        self.step_button.on_click(lambda event: on_step())
        self.reset_button.on_click(lambda event: on_reset())
        self.speed_select = pn.widgets.Select(
            label="training speed", options=speed_options(s.speed), value=s.speed,
            css_classes=["speed-select"], sizing_mode="stretch_width",
        )
        self.speed_select.param.watch(lambda event: setattr(s, "speed", event.new), "value")
        # "fastest" in one click, and back to the watchable default in one more
        self.fastest_button = pn.widgets.Toggle(
            label="▶▶ fastest", value=s.speed == FASTEST, css_classes=["fastest-toggle"],
            width=100, align="end", color="light")
        self.fastest_button.param.watch(self._fastest_toggled, "value")
        s.param.watch(self._speed_changed, "speed")
        self.readouts = readouts
        self.status = pn.pane.Alert("", alert_type="warning", visible=False,
                                    css_classes=["status-message"], sizing_mode="stretch_width")
        self.url_message = pn.pane.Alert("", alert_type="danger", visible=False,
                                         css_classes=["settings-message"],
                                         sizing_mode="stretch_width", **MARKDOWN_TEXT_OPTIONS)
        self.architecture_input = pn.widgets.TextInput.from_param(
            p.architecture, label="architecture (widths N-m1-…-M)",
            css_classes=["architecture-input"], sizing_mode="stretch_width",
        )
        self.architecture_message = pn.pane.HTML(
            "", css_classes=["architecture-message"], visible=False,
            styles={"color": "#b00020", "font-size": "0.9em"}, margin=(0, 10),
        )
        options = {"— choose a lesson —": ""}
        options.update({lesson.title: lesson.key for lesson in LESSONS})
        self.lesson_select = pn.widgets.Select(
            label="Lesson", options=options, value=s.lesson if s.lesson in BY_KEY else "",
            css_classes=["lesson-select"], sizing_mode="stretch_width",
        )
        self._showing_lesson = False  # the menu is told what runs (show_lesson), not chosen
        self.lesson_select.param.watch(
            lambda event: None if self._showing_lesson else on_lesson(event.new), "value")
        self.learning_rate_slider = pn.widgets.DiscreteSlider(
            label="learning rate α (log scale)", options=list(LEARNING_RATES),
            value=nearest_learning_rate(s.learning_rate), css_classes=["learning-rate"],
            sizing_mode="stretch_width",
        )
        self.learning_rate_slider.param.watch(
            lambda event: setattr(s, "learning_rate", event.new), "value"
        )
        s.param.watch(self._learning_rate_changed, "learning_rate")
        self.sparse_message = pn.pane.HTML(
            "", css_classes=["sparse-message"], visible=False,
            styles={"color": "#b00020", "font-size": "0.9em"}, margin=(0, 10),
        )
        self.widgets = self._setting_widgets()
        self._fit_batch_box()
        s.param.watch(self._fit_batch_box, "samples")
        self._layout = self._build_layout()

    def __panel__(self):
        return self._layout

    def _setting_widgets(self) -> dict:
        p = self.settings.param
        stretch = {"sizing_mode": "stretch_width"}
        w = pn.widgets
        return {
            "model": w.RadioButtonGroup.from_param(p.model, options={"FNN": "fnn", "RNN": "rnn"},
                                                   css_classes=["model-kind"], **stretch),
            "activation": w.Select.from_param(p.activation, **stretch),
            "output_activation": w.Select.from_param(p.output_activation, label="output activation",
                                                     **stretch),
            "levels": w.IntSlider.from_param(p.levels, label="hidden levels", **stretch),
            "hidden_width": w.IntSlider.from_param(p.hidden_width, label="hidden width m",
                                                   **stretch),
            "tau": w.IntSlider.from_param(p.tau, label="sequence length τ", **stretch),
            "output_from": w.IntSlider.from_param(p.output_from, label="outputs from a", **stretch),
            "dataset": w.Select.from_param(p.dataset, label="data set", css_classes=["dataset"],
                                           options=self.dataset_options(), **stretch),
            "task": w.Select.from_param(p.task, label="sequence task", css_classes=["task"],
                                        **stretch),
            "delay": w.IntSlider.from_param(p.delay, label="echo delay", **stretch),
            "noise": w.FloatSlider.from_param(p.noise, step=0.01, **stretch),
            "samples": w.IntInput.from_param(p.samples, label="samples", **stretch),
            "seed": w.IntInput.from_param(p.seed, **stretch),
            "momentum": w.FloatSlider.from_param(p.momentum, step=0.01, **stretch),
            "clip_norm": w.FloatInput.from_param(
                p.clip_norm, label="clip gradient norm at (0 = off)", step=0.5, **stretch
            ),
            "batch_size": w.IntInput.from_param(p.batch_size, label="batch size r", **stretch),
            "layer": w.IntSlider.from_param(p.layer, label="level k", end=4,
                                            css_classes=["layer-slider"], **stretch),
            "time_step": w.IntSlider.from_param(p.time_step,
                                                label="output time t (0: the last step, τ)", end=8,
                                                **stretch),
            "scope": w.RadioButtonGroup.from_param(p.scope, options={"whole batch": "batch",
                                                                     "one sample": "sample"},
                                                   **stretch),
            "sample": w.IntSlider.from_param(p.sample, label="sample p", end=15, **stretch),
            "formula": w.RadioButtonGroup.from_param(p.formula, options={"exact": "exact",
                                                                         "paper": "paper"},
                                                     css_classes=["formula"], **stretch),
            "wrt": w.RadioButtonGroup.from_param(p.wrt, options={"H w.r.t. W": "W",
                                                                 "H w.r.t. U": "U"}, **stretch),
            "sparse": w.Select.from_param(
                p.sparse, label="backward pass",
                options={title: key for key, title in SPARSE_TITLES.items()},
                css_classes=["sparse-rule"], **stretch),
            "topk": w.TextInput.from_param(
                p.topk, label="top-k: entries kept per v (count, or fraction e.g. 0.05)",
                css_classes=["sparse-topk"], **stretch),
            "truncate": w.IntSlider.from_param(
                p.truncate, label="truncate BPTT to the last K steps", end=8,
                css_classes=["sparse-truncate"], **stretch),
            "backtrack": w.TextInput.from_param(
                p.backtrack, label="selected steps: largest:K, or steps e.g. 1,4,8",
                css_classes=["sparse-backtrack"], **stretch),
        }

    def _build_layout(self):
        c = self.widgets
        self.playground = playground = PlaygroundControls(self.settings, FNN_DATASETS)
        self.fnn_only = [self.architecture_input, self.architecture_message, c["dataset"],
                         playground.thumbnails.grid, playground.discretize]
        self.rnn_only = [c["levels"], c["hidden_width"], c["tau"], c["output_from"], c["task"],
                         c["delay"], c["time_step"], c["wrt"]]
        transport = pn.Column(
            pn.Row(self.play_button, self.step_button, self.reset_button),
            pn.Row(self.speed_select, self.fastest_button, sizing_mode="stretch_width"),
            self.readouts,
            self.status, self.url_message, sizing_mode="stretch_width",
        )
        model = pn.Card(
            c["model"], c["dataset"], playground.thumbnails.grid, c["task"], playground.regenerate,
            playground.regenerate_note, self.architecture_input,
            self.architecture_message, c["levels"], c["hidden_width"], c["tau"],
            c["output_from"], c["activation"], c["output_activation"],
            title="Model and data", sizing_mode="stretch_width", collapsible=True,
        )
        data = pn.Card(c["delay"], c["noise"], c["samples"], c["seed"],
                       title="Data details", sizing_mode="stretch_width", collapsed=False)
        training = pn.Card(self.learning_rate_slider, playground.learning_rate_menu,
                           c["momentum"], c["clip_norm"],
                           c["batch_size"], title="Training", sizing_mode="stretch_width")
        show = pn.Card(c["layer"], c["time_step"], c["scope"], c["sample"], c["formula"],
                       c["wrt"], playground.discretize, title="What the views show",
                       sizing_mode="stretch_width")
        upload = None
        if self.on_upload is not None:
            upload = UploadPanel(self.on_upload)
        self.classification = ClassificationControls(self.settings, upload)
        card = self.classification.card  # L1 right below the L2 weight decay
        card.insert(card.objects.index(self.classification.weight_decay) + 1, playground.l1)
        self.upload = upload
        if upload is not None:
            upload.param.watch(self._show_datasets, "in_use_name")
        self.settings.param.watch(self._show_datasets, "dataset")
        sparse = pn.Card(c["sparse"], c["topk"], c["truncate"], c["backtrack"],
                         self.sparse_message, title="Sparse backprop",
                         sizing_mode="stretch_width", css_classes=["sparse-card"])
        for card in (model, show, training, self.classification.card, sparse, data):
            card.margin = CARD_MARGIN  # room for each card's shadow, the same for all
        return pn.Column(transport, self.lesson_select, model, show, training,
                         self.classification, sparse, data,
                         width=340, css_classes=["sidebar"], stylesheets=[page_css.SIDEBAR])

    def dataset_options(self) -> dict[str, str]:
        """The data set menu: the built-in sets, and the uploaded file while one is in use
        ("uploaded: name.csv"; an option's label is text)."""
        options = {name: name for name in FNN_DATASETS}
        name = getattr(getattr(self, "upload", None), "in_use_name", "")
        if name or self.settings.dataset == UPLOAD:
            options[f"uploaded: {name or 'a CSV file'}"] = UPLOAD
        return options

    def _show_datasets(self, *events) -> None:
        options = self.dataset_options()
        select = self.widgets["dataset"]
        if select.options != options:
            select.options = options
        if select.value != self.settings.dataset:  # a value set before its option was there
            select.value = self.settings.dataset

    # --- showing what the dashboard says -----------------------------------------------
    def show_running(self, running: bool) -> None:
        self.play_button.label = "❚❚ Pause" if running else "▶ Play"
        self.play_button.color = "default" if running else "success"

    def show_status(self, text: str) -> None:
        self.status.object = text
        self.status.visible = bool(text)

    def show_model(self, session, messages: dict) -> None:
        """Slider ranges and the controls of the model kind, after a rebuild."""
        s, c = self.settings, self.widgets
        n_layers = session.net.n_layers
        c["layer"].end = max(n_layers, 2)
        c["time_step"].end = s.tau
        c["output_from"].end = s.tau
        c["truncate"].end = max(s.tau, 2)
        c["sample"].end = max(session.batch_size - 1, 1)
        rnn = s.model == "rnn"
        for widget in self.fnn_only:
            widget.visible = not rnn and (widget is not self.architecture_message
                                          or bool(messages.get("architecture")))
        for widget in self.rnn_only:
            widget.visible = rnn
        self.show_sparse_controls()

    def show_sparse_controls(self) -> None:
        rule = self.settings.sparse
        for name in ("topk", "truncate", "backtrack"):
            self.widgets[name].visible = rule == name

    def show_messages(self, messages: dict) -> None:
        """``{setting: reason}``: the architecture's and the sparse rule's next to their
        controls, the others in the banner. Names and reasons are plain text (they may quote
        a link's values): each is escaped where it is put into HTML or Markdown."""
        messages = dict(messages)
        rnn = self.settings.model == "rnn"
        architecture = messages.pop("architecture", "")
        self.architecture_message.object = html_text(architecture)
        self.architecture_message.visible = bool(architecture) and not rnn
        sparse = "<br>".join(html_text(reason if name == "sparse" else f"{name}: {reason}")
                             for name in SPARSE_SETTINGS
                             if (reason := messages.pop(name, "")))
        self.sparse_message.object = sparse
        self.sparse_message.visible = bool(sparse)
        if architecture and rnn:
            messages["architecture"] = architecture
        text = "\n".join(f"- **{markdown_text(name)}**: {markdown_text(reason)}"
                         for name, reason in messages.items())
        self.url_message.object = "Some settings were not applied:\n" + text if text else ""
        self.url_message.visible = bool(text)
        if messages.get("dataset") == UPLOAD_LOST and self.upload is not None:
            self.classification.card.collapsed = False  # the upload, offered again

    def show_lesson(self, key: str) -> None:
        """The menu shows the lesson in force. Only a student's choice applies a lesson's
        settings: a lesson that arrives with an address (Back, Forward) comes with its own
        values, which the lesson's defaults must not overwrite."""
        if self.lesson_select.value != key:
            self._showing_lesson = True
            try:
                self.lesson_select.value = key
            finally:
                self._showing_lesson = False

    def _fit_batch_box(self, *events) -> None:
        """The batch box goes up to the number of samples, and its label says so: the page
        itself refuses a larger batch (BokehJS keeps the value in force), so the server never
        has to cut one. A cut value sent back could reach the box after the student had typed
        the next number, and the box would then disagree with what runs and the address."""
        box = self.widgets["batch_size"]
        box.end = largest = min(self.settings.samples,
                                self.settings.param["batch_size"].bounds[1])
        box.label = f"batch size r (1 to {largest})"

    # --- settings changed elsewhere (URL, lessons) --------------------------------------
    def _learning_rate_changed(self, event) -> None:
        nearest = nearest_learning_rate(event.new)
        if self.learning_rate_slider.value != nearest:
            self.learning_rate_slider.value = nearest

    def _speed_changed(self, event) -> None:
        if event.new not in self.speed_select.options.values():
            self.speed_select.options = speed_options(event.new)
        if self.speed_select.value != event.new:
            self.speed_select.value = event.new
        if self.fastest_button.value != (event.new == FASTEST):
            self.fastest_button.value = event.new == FASTEST

    def _fastest_toggled(self, event) -> None:
        """Pressed: as fast as the machine allows; released: the default pace."""
        s = self.settings
        if event.new and s.speed != FASTEST:
            s.speed = FASTEST
        elif not event.new and s.speed == FASTEST:
            s.speed = s.param.speed.default
