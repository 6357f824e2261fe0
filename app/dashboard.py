"""The dashboard: controls, the training loop and the seven views, for one session.

One :class:`Dashboard` per browser session (``app/main.py``) or per notebook cell. It owns
a :class:`~app.settings.Settings`, a :class:`~app.training.TrainingSession` and one object
per view; nothing is shared between sessions. Training runs in a single periodic callback
(:meth:`Dashboard.tick`) created on the first Play: each tick takes at most
``steps_per_tick`` SGD steps within a time budget, is skipped if the previous one is still
running, and refreshes only the visible view, every ``refresh_every`` ticks, with the
updates grouped by ``pn.io.hold()``. When the browser session ends the callback is stopped
and the arrays are dropped.

Stable CSS classes for browser tests (Panel renders each component in a shadow root; the
text of an HTML pane is in its inner ``div``, e.g. ``.step-counter div`` reads "step 12"):
``play-button``, ``step-button``, ``reset-button`` (each wraps a ``button``),
``step-counter``, ``loss-value``, ``status-message`` (why training paused),
``settings-message`` (refused URL or lesson values), ``architecture-input`` (wraps an
``input``), ``architecture-message``, ``model-kind`` (FNN/RNN buttons), ``formula``,
``layer-slider``, ``lesson-select``, ``lesson-box``, ``view-tabs`` (tabs titled as in
``settings.VIEW_TITLES``), ``view`` and ``view-<key>`` on each view, ``view-note``,
``download-csv`` and ``download-npz`` on each view; the sparse back-propagation group:
``sparse-rule`` (the none / top-k / truncated / selected-steps buttons), ``sparse-topk``,
``sparse-truncate``, ``sparse-backtrack`` (the rule's parameter; the inputs wrap an
``input``), ``sparse-message`` (why a rule was refused, next to the group), ``sparse-table``
(in ``view-sparse``).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import panel as pn
import param

from .lessons import BY_KEY, LESSONS
from .settings import (
    LEARNING_RATES,
    SPARSE_SETTINGS,
    SPARSE_TITLES,
    STRUCTURAL,
    VIEW_TITLES,
    VIEWS,
    ArchitectureError,
    Settings,
    SparseRuleError,
    format_architecture,
    nearest_learning_rate,
    parse_architecture,
)
from .training import TrainingSession
from .views import VIEW_CLASSES
from .views.common import WAITING

TITLE = "hessian-lab"
TICK_PERIOD_MS = 50  # 20 ticks per second at most
TICK_BUDGET_S = 0.035  # SGD time per tick before the view refresh
# A redraw is skipped until the time since the last one is at least this many times its
# duration, so that an expensive view (a large RNN Hessian) redraws less often instead of
# slowing every tick: redraws take at most about 1/(1 + REDRAW_SPACING) of the time.
REDRAW_SPACING = 2.0
# One redraw is a sequence of plot updates; a tick performs them until this much time has
# passed since the tick began (always at least one), the rest in the following ticks.
REDRAW_BUDGET_S = 0.030
DISPLAY = ("layer", "time_step", "scope", "sample", "formula", "wrt")


class Dashboard(pn.viewable.Viewer):
    """Train an FNN or RNN live and watch its gradient and Hessian structure.

    Keyword arguments are settings (see :class:`app.settings.Settings`); invalid ones are
    reported in ``messages`` and left at their defaults. ``sync_url=True`` ties the
    settings to the page's query string (the served app does this).
    """

    messages = param.Dict(default={}, doc="{setting: reason} for refused values")

    def __init__(self, sync_url: bool = False, **values):
        super().__init__()
        self.settings = Settings()
        location = pn.state.location if sync_url else None
        if location is not None:
            # build from the URL's settings at once (no default model drawn first)
            known = set(self.settings.query_parameters())
            values = {**{name: value for name, value in location.query_params.items()
                         if name in known}, **values}
        errors = self.settings.apply(values) if values else {}
        self.session = TrainingSession(self.settings)
        self.views = {key: cls(self.session, self.settings) for key, cls in VIEW_CLASSES.items()}
        self._callback = None
        self._executor = None  # one worker thread for heavy core computations, while playing
        self._busy = False
        self._ticks = 0
        self.tick_seconds = 0.0
        self.redraw_seconds = 0.0
        self._last_redraw_end = 0.0
        self._pending = None  # the redraw in progress (a generator of plot updates)
        self._deferred = None  # inside apply_settings: None, or whether a redraw was asked
        self._pending_seconds = 0.0
        self._build_widgets()
        self._layout = self._build_layout()
        self._watch()
        if self.settings.lesson:
            self.settings.param.trigger("lesson")  # a link to a lesson shows its text
        self.messages = self._with_rule_message(errors)
        self._after_rebuild()
        if location is not None:
            # the URL's values are applied above, fitted together: sync from a clean query,
            # which location.sync then fills with them (it would re-apply the raw ones)
            location.search = ""
            self.sync_location(location)
        doc = pn.state.curdoc
        self._session_context = getattr(doc, "session_context", None)
        if doc is not None and doc.session_context is not None:
            pn.state.on_session_destroyed(self._on_session_destroyed)

    def __panel__(self):
        return self._layout

    # --- widgets -----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        s, p = self.settings, self.settings.param
        self.play_button = pn.widgets.Button(
            label="▶ Play", color="success", css_classes=["play-button"], width=90
        )
        self.step_button = pn.widgets.Button(
            label="Step", color="primary", css_classes=["step-button"], width=70
        )
        self.reset_button = pn.widgets.Button(
            label="Reset", color="warning", css_classes=["reset-button"], width=70
        )
        self.play_button.on_click(lambda event: self.toggle_play())
        self.step_button.on_click(lambda event: self.step())
        self.reset_button.on_click(lambda event: self.reset())
        self.step_counter = pn.pane.HTML("step 0", css_classes=["step-counter"], margin=(5, 10))
        self.loss_display = pn.pane.HTML("", css_classes=["loss-value"], margin=(5, 10))
        self.status = pn.pane.Alert("", alert_type="warning", visible=False,
                                    css_classes=["status-message"], sizing_mode="stretch_width")
        self.url_message = pn.pane.Alert("", alert_type="danger", visible=False,
                                         css_classes=["settings-message"],
                                         sizing_mode="stretch_width")
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
        self.lesson_select.param.watch(self._choose_lesson, "value")
        self.lesson_text = pn.pane.Markdown("", css_classes=["lesson-text"],
                                            sizing_mode="stretch_width")
        self.lesson_equation = pn.pane.LaTeX("", css_classes=["lesson-equation"],
                                             sizing_mode="stretch_width",
                                             styles={"font-size": "1.15em"})
        self.lesson_box = pn.Column(self.lesson_text, self.lesson_equation, visible=False,
                                    css_classes=["lesson-box"], sizing_mode="stretch_width",
                                    styles={"background": "#f4f8fb",
                                            "border-left": "4px solid #1f77b4"})
        self.learning_rate_slider = pn.widgets.DiscreteSlider(
            label="learning rate α (log scale)", options=list(LEARNING_RATES),
            value=nearest_learning_rate(s.learning_rate), css_classes=["learning-rate"],
            sizing_mode="stretch_width",
        )
        self.learning_rate_slider.param.watch(
            lambda event: setattr(self.settings, "learning_rate", event.new), "value"
        )
        self.sparse_message = pn.pane.HTML(
            "", css_classes=["sparse-message"], visible=False,
            styles={"color": "#b00020", "font-size": "0.9em"}, margin=(0, 10),
        )
        stretch = {"sizing_mode": "stretch_width"}
        w = pn.widgets
        self.controls = {
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
            "dataset": w.Select.from_param(p.dataset, label="data set", **stretch),
            "task": w.Select.from_param(p.task, label="sequence task", **stretch),
            "delay": w.IntSlider.from_param(p.delay, label="echo delay", **stretch),
            "noise": w.FloatSlider.from_param(p.noise, step=0.01, **stretch),
            "samples": w.IntInput.from_param(p.samples, label="samples", **stretch),
            "seed": w.IntInput.from_param(p.seed, **stretch),
            "momentum": w.FloatSlider.from_param(p.momentum, step=0.01, **stretch),
            "clip_norm": w.FloatInput.from_param(
                p.clip_norm, label="clip gradient norm at (0 = off)", step=0.5, **stretch
            ),
            "batch_size": w.IntInput.from_param(p.batch_size, label="batch size r", **stretch),
            "steps_per_tick": w.IntSlider.from_param(p.steps_per_tick, label="steps per tick",
                                                     end=50, **stretch),
            "refresh_every": w.IntSlider.from_param(p.refresh_every, label="redraw every n ticks",
                                                    end=20, **stretch),
            "layer": w.IntSlider.from_param(p.layer, label="level k", end=4,
                                            css_classes=["layer-slider"], **stretch),
            "time_step": w.IntSlider.from_param(p.time_step, label="time t (0 = τ)", end=8,
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
        self.tabs = pn.Tabs(
            *[(VIEW_TITLES[key], self.views[key]) for key in VIEWS],
            dynamic=True, active=VIEWS.index(s.view), css_classes=["view-tabs"],
            sizing_mode="stretch_width",
        )
        self.tabs.param.watch(self._tab_changed, "active")

    def _build_layout(self):
        c = self.controls
        self._fnn_only = [self.architecture_input, self.architecture_message, c["dataset"]]
        self._rnn_only = [c["levels"], c["hidden_width"], c["tau"], c["output_from"], c["task"],
                          c["delay"], c["time_step"], c["wrt"]]
        transport = pn.Column(
            pn.Row(self.play_button, self.step_button, self.reset_button),
            pn.Row(self.step_counter, self.loss_display),
            self.status, self.url_message, sizing_mode="stretch_width",
        )
        model = pn.Card(
            c["model"], self.architecture_input, self.architecture_message, c["levels"],
            c["hidden_width"], c["tau"], c["output_from"], c["activation"], c["output_activation"],
            title="Model", sizing_mode="stretch_width", collapsible=True,
        )
        data = pn.Card(c["dataset"], c["task"], c["delay"], c["noise"], c["samples"], c["seed"],
                       title="Data", sizing_mode="stretch_width", collapsed=False)
        training = pn.Card(self.learning_rate_slider, c["momentum"], c["clip_norm"],
                           c["batch_size"],
                           c["steps_per_tick"], c["refresh_every"], title="Training",
                           sizing_mode="stretch_width")
        show = pn.Card(c["layer"], c["time_step"], c["scope"], c["sample"], c["formula"],
                       c["wrt"], title="What the views show", sizing_mode="stretch_width")
        sparse = pn.Card(c["sparse"], c["topk"], c["truncate"], c["backtrack"],
                         self.sparse_message, title="Sparse backprop",
                         sizing_mode="stretch_width", css_classes=["sparse-card"])
        sidebar = pn.Column(transport, self.lesson_select, model, show, training, sparse, data,
                            width=340, css_classes=["sidebar"])
        header = pn.pane.HTML(
            f"<h1 style='margin:0'>{TITLE}</h1><div>Backpropagation and the Hessian in matrix "
            "form (Naumov 2017), live: press Play and watch the gradient rank, the Kronecker "
            "structure, the ReLU masks and the spectrum change.</div>",
            css_classes=["app-title"], sizing_mode="stretch_width",
        )
        main = pn.Column(self.lesson_box, self.tabs, sizing_mode="stretch_width")
        return pn.Column(header, pn.Row(sidebar, main, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width", css_classes=["hessian-lab"])

    # --- reacting to settings ----------------------------------------------------------
    def _watch(self) -> None:
        s = self.settings
        s.param.watch(self._structure_changed, list(STRUCTURAL))
        s.param.watch(self._sparse_changed, list(SPARSE_SETTINGS))
        s.param.watch(self._display_changed, list(DISPLAY))
        s.param.watch(self._view_changed, "view")
        s.param.watch(self._lesson_changed, "lesson")
        s.param.watch(self._learning_rate_changed, "learning_rate")
        s.param.watch(self._batch_changed, "batch_size")
        self.session.param.watch(self._running_changed, "running")
        self.session.param.watch(self._status_changed, "status")
        self.param.watch(self._messages_changed, "messages")

    def _structure_changed(self, *events) -> None:
        names = {event.name for event in events}
        s = self.settings
        if "tau" in names:
            s.output_from = min(s.output_from, s.tau)
            s.truncate = min(s.truncate, s.tau)
        if "dataset" in names and s.model == "fnn":
            fitted = self._architecture_for_data()
            if fitted is not None and fitted != s.architecture:
                s.architecture = fitted  # triggers this method again, which rebuilds
                return
        self.rebuild()

    def _architecture_for_data(self) -> str | None:
        """The architecture with its first and last width matched to the data set."""
        try:
            sizes = list(parse_architecture(self.settings.architecture))
        except ArchitectureError:
            return None
        data = self.session.make_data()
        sizes[0], sizes[-1] = data.input_width, data.output_width
        return format_architecture(tuple(sizes))

    def rebuild(self) -> str | None:
        """Rebuild model and data from the settings; keep the old model on failure."""
        error = self.session.rebuild()
        messages = dict(self.messages)
        messages.pop("architecture", None)
        messages.pop("model", None)
        if error:
            messages["architecture" if self.settings.model == "fnn" else "model"] = (
                f"{error}. Still training {format_architecture(self.session.layer_sizes)}."
            )
        self.messages = self._with_rule_message(messages)
        self._after_rebuild()
        return error

    # --- the sparse back-propagation rule ----------------------------------------------
    def _with_rule_message(self, messages: dict, clear=("sparse",)) -> dict:
        """``messages`` with the session's refused-rule reason (or without one); the
        messages named in ``clear`` are dropped first."""
        messages = {name: reason for name, reason in messages.items() if name not in clear}
        if self.session.rule_error:
            messages["sparse"] = (f"{self.session.rule_error}. Still training with "
                                  f"{self.session.rule_text}.")
        return messages

    def _sparse_changed(self, *events) -> None:
        """A new valid rule restarts both runs (sparse and full) from the seed; an invalid
        one keeps the rule in force, and the model, and says why next to the control."""
        session = self.session
        try:
            options = session.requested_rule()
        except (SparseRuleError, ValueError, TypeError) as error:
            session.rule_error = str(error)
        else:
            if options != session.rule:
                self.rebuild()
                return
            session.rule_error = None
        self.messages = self._with_rule_message(self.messages, clear=SPARSE_SETTINGS)
        self._show_sparse_controls()

    def _show_sparse_controls(self) -> None:
        c, rule = self.controls, self.settings.sparse
        for name in ("topk", "truncate", "backtrack"):
            c[name].visible = rule == name

    def _after_rebuild(self) -> None:
        s, session = self.settings, self.session
        n_layers = session.net.n_layers
        c = self.controls
        c["layer"].end = max(n_layers, 2)
        if s.layer > n_layers:
            s.layer = n_layers
        c["time_step"].end = s.tau
        c["output_from"].end = s.tau
        c["truncate"].end = max(s.tau, 2)
        c["sample"].end = max(session.batch_size - 1, 1)
        rnn = s.model == "rnn"
        for widget in self._fnn_only:
            widget.visible = not rnn and (widget is not self.architecture_message
                                          or bool(self.messages.get("architecture")))
        for widget in self._rnn_only:
            widget.visible = rnn
        self._show_sparse_controls()
        self._update_counters()
        self.refresh_view()

    def _display_changed(self, *events) -> None:
        self.refresh_view()

    def _batch_changed(self, event) -> None:
        if self.session.X.shape[0] != self.session.batch_size:  # not drawn by a rebuild
            self.session.next_batch()
        self.controls["sample"].end = max(self.session.batch_size - 1, 1)
        self.refresh_view()

    def _view_changed(self, event) -> None:
        index = VIEWS.index(event.new)
        if self.tabs.active != index:
            self.tabs.active = index
        self.refresh_view()

    def _tab_changed(self, event) -> None:
        key = VIEWS[event.new]
        if self.settings.view != key:
            self.settings.view = key

    def _learning_rate_changed(self, event) -> None:
        nearest = nearest_learning_rate(event.new)
        if self.learning_rate_slider.value != nearest:
            self.learning_rate_slider.value = nearest

    def _choose_lesson(self, event) -> None:
        lesson = BY_KEY.get(event.new)
        if lesson is None:
            self.settings.lesson = ""
            return
        version = self.session.version
        self.apply_settings(dict(lesson.settings, lesson=lesson.key))
        if self.session.version == version:
            self.reset()  # a lesson starts from its seed, whatever was trained before

    def _lesson_changed(self, event) -> None:
        lesson = BY_KEY.get(event.new)
        if self.lesson_select.value != (lesson.key if lesson else ""):
            self.lesson_select.value = lesson.key if lesson else ""
        if lesson is None:
            self.lesson_box.visible = False
            return
        self.lesson_text.object = f"### {lesson.title}\n\n{lesson.text}"
        self.lesson_equation.object = f"$${lesson.equation}$$"
        self.lesson_box.visible = True

    def sync_location(self, location) -> None:
        """Tie the settings to a page's query string (``pn.state.location`` when served):
        the URL's values are applied now, and every later change is written back."""
        location.sync(self.settings, self.settings.query_parameters(), on_error=self._url_error)

    def _url_error(self, values: dict) -> None:
        """location.sync could not apply the URL as a whole: apply value by value."""
        errors = self.apply_settings(values)
        self.messages = {**self.messages, **errors}

    def _messages_changed(self, event) -> None:
        messages = dict(event.new)
        architecture = messages.pop("architecture", "")
        self.architecture_message.object = architecture
        self.architecture_message.visible = bool(architecture) and self.settings.model == "fnn"
        sparse = "<br>".join(f"{reason}" if name == "sparse" else f"{name}: {reason}"
                             for name in SPARSE_SETTINGS
                             if (reason := messages.pop(name, "")))
        self.sparse_message.object = sparse
        self.sparse_message.visible = bool(sparse)
        if architecture and self.settings.model == "rnn":
            messages["architecture"] = architecture
        text = "\n".join(f"- **{name}**: {reason}" for name, reason in messages.items())
        self.url_message.object = "Some settings were not applied:\n" + text if text else ""
        self.url_message.visible = bool(text)

    def _status_changed(self, event) -> None:
        self.status.object = event.new
        self.status.visible = bool(event.new)

    def _running_changed(self, event) -> None:
        running = event.new
        self.play_button.label = "❚❚ Pause" if running else "▶ Play"
        self.play_button.color = "default" if running else "success"
        if self._callback is not None:
            if running and not self._callback.running:
                self._callback.start()
            elif not running and self._callback.running:
                self._callback.stop()

    # --- actions -----------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.session.running:
            self.session.running = False
            return
        self.session.status = ""
        if self._callback is None:
            self._callback = pn.state.add_periodic_callback(
                self.tick, period=TICK_PERIOD_MS, start=False
            )
        self.start_worker()
        self.session.running = True

    def start_worker(self) -> None:
        """The session's worker thread for heavy core computations of the views."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hessian-lab")
            for view in self.views.values():
                view.executor = self._executor

    def step(self) -> bool:
        """One optimisation step (one mini-batch), then redraw."""
        self.session.status = ""
        ok = self.session.train_step()
        with pn.io.hold():
            self._update_counters()
            self.refresh_view()
        return ok

    def reset(self) -> None:
        self.session.running = False
        self.session.reset()
        self._after_rebuild()

    def tick(self) -> bool:
        """The periodic callback: bounded training, then the visible view. False if skipped.

        The visible view is redrawn every ``refresh_every`` ticks, and no sooner than
        REDRAW_SPACING times its last redraw time after it; in between, the training view
        still streams its new loss values.
        """
        if self._busy:
            return False
        if self._disconnected():
            self.session.running = False  # the page was closed: stop until Play again
            return False
        self._busy = True
        start = time.perf_counter()
        try:
            if self.session.running:
                self.session.train(self.settings.steps_per_tick, budget_seconds=TICK_BUDGET_S)
            self._ticks += 1
            due = self._ticks % max(self.settings.refresh_every, 1) == 0 and (
                start - self._last_redraw_end >= REDRAW_SPACING * self.redraw_seconds
            )
            with pn.io.hold():
                self._update_counters()
                if self._pending is None and due and self.session.net is not None:
                    view = self.views[self.settings.view]
                    view.worker_seconds = 0.0
                    self._pending = view.redraw()
                    self._pending_seconds = 0.0
                if self._pending is not None:
                    self._advance_redraw(start)
                else:  # between redraws: streamed curves (loss, similarity) go on
                    view = self.views[self.settings.view]
                    view.ensure_built()
                    view.stream()
        finally:
            self.tick_seconds = time.perf_counter() - start
            self._busy = False
        return True

    def _disconnected(self) -> bool:
        """True when served and no browser is connected any more (a closed tab): Bokeh only
        destroys the session, which stops the callback, some 15-20 s later."""
        server_session = getattr(self._session_context, "session", None)
        if server_session is None:
            return False
        if getattr(server_session, "destroyed", False):
            return True
        return getattr(server_session, "connection_count", 1) == 0

    def _advance_redraw(self, tick_start: float) -> None:
        """Perform plot updates of the pending redraw until the tick's budget is used."""
        while True:
            step_start = time.perf_counter()
            try:
                step = next(self._pending)
                finished = False
            except StopIteration:
                finished = True
            now = time.perf_counter()
            self._pending_seconds += now - step_start
            if finished:
                view = self.views[self.settings.view]
                self._pending = None
                self._last_redraw_end = now
                # main-thread drawing plus the core time (worker thread included)
                self.redraw_seconds = self._pending_seconds + view.worker_seconds
                return
            if step is WAITING or now - tick_start >= REDRAW_BUDGET_S:
                return  # the worker is computing, or this tick's budget is used

    def apply_settings(self, values: dict) -> dict[str, str]:
        """Apply several settings at once (lessons, URL values), redrawing once at the end;
        returns ``{name: reason}`` for the values refused."""
        self._deferred = False
        try:
            with pn.io.hold():
                errors = self.settings.apply(values)
        finally:
            wanted, self._deferred = self._deferred, None
        if wanted:
            self.refresh_view()
        return errors

    def refresh_view(self) -> None:
        """Recompute and redraw the visible view completely, now."""
        if self._deferred is not None:
            self._deferred = True
            return
        self._pending = None
        if self.session.net is None:
            return
        start = time.perf_counter()
        self.views[self.settings.view].refresh()
        self._last_redraw_end = time.perf_counter()
        self.redraw_seconds = self._last_redraw_end - start

    def _update_counters(self) -> None:
        """Step counter on every call; the loss text at most every fourth tick while running
        (each pane update costs a few milliseconds)."""
        session = self.session
        text = f"step {session.step}"
        if self.step_counter.object != text:
            self.step_counter.object = text
        if not session.running or self._ticks % 4 == 0:
            self.loss_display.object = f"loss {session.loss:.4g}"

    # --- end of session ----------------------------------------------------------------
    def _on_session_destroyed(self, session_context) -> None:
        self.close()

    def close(self) -> None:
        """Stop the periodic callback and drop every array (also usable in notebooks)."""
        logging.getLogger(__name__).debug("hessian-lab session closed at step %d",
                                          self.session.step)
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        self._pending = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self.session.release()
        for view in self.views.values():
            view.release()
