"""The dashboard of one session: the data store (settings and training session) and its parts.

One :class:`Dashboard` per browser session (``app/main.py``) or per notebook cell. It owns a
:class:`~app.configuration.settings.Settings` and a :class:`~app.training.session.TrainingSession`
(nothing is
shared between sessions) and wires three parts to them, Panel's data-store-and-views pattern:

- :class:`app.controls.sidebar.Controls`, the settings panel (Play, the speed, counters, messages);
- :class:`app.page.composition.Composition`, the header, the lesson box and the view tabs;
- :class:`app.live.loop.SessionLoop`, the live loop, a client of the process-wide scheduler of
  ``app/live/scheduler.py``: training at the chosen speed, frames at the rate the page and the
  server hold, the step counter and the visible view updated in the same frame.

It reacts to the settings (a structural change rebuilds the model, a display change redraws
the visible view), turns refused values into messages, and stops the loop and drops every
array when the browser session ends.

Stable CSS classes for browser tests (Panel renders each component in a shadow root; the
text of an HTML pane is in its inner ``div``, e.g. ``.step-counter div`` reads "step 12"):
``play-button``, ``step-button``, ``reset-button`` (each wraps a ``button``),
``speed-select`` (the training speed, next to Play; wraps a ``select``),
``fastest-toggle`` (beside it: pressed, as fast as the machine allows; wraps a ``button``),
``step-counter``, ``epoch-counter`` (samples seen / training samples), ``loss-value``,
``status-message`` (why training paused),
``settings-message`` (refused URL or lesson values), ``architecture-input`` (wraps an
``input``), ``architecture-message``, ``model-kind`` (FNN/RNN buttons), ``dataset`` and
``task`` (the data choice, below the model kind), ``formula``,
``layer-slider``, ``lesson-select``, ``lesson-box`` (holding ``lesson-title``,
``lesson-toggle``, ``lesson-text``, ``lesson-look`` and ``lesson-equation``: on a short
window the text and the equation fold away until the toggle, a ``button``, unfolds them),
``main-area`` (the lesson box and the tabs), ``view-tabs`` (tabs titled as in
``settings.VIEW_TITLES``), ``view`` and ``view-<key>`` on each view, ``view-note``,
``view-computing`` (shown while a view's core computation runs on the worker thread),
``download-csv`` and ``download-npz`` on each view; the sparse back-propagation group:
``sparse-rule`` (the none / top-k / truncated / selected-steps buttons), ``sparse-topk``,
``sparse-truncate``, ``sparse-backtrack`` (the rule's parameter; the inputs wrap an
``input``), ``sparse-message`` (why a rule was refused, next to the group), ``sparse-table``
(in ``view-sparse``); the classification card (``app/controls/classification_controls.py``):
``classification-card``, ``loss-choice``, ``classes-slider``, ``feature-choice`` (a button
per feature), ``weight-decay``, ``test-fraction``, ``show-test`` (wraps an ``input``),
``upload-csv`` (wraps the file ``input``), ``upload-message``, ``upload-clear``; in the views:
``metrics-summary`` (training and test loss and accuracy, ``view-training``),
``network-quantity`` (W / gradient / Hessian diagonal, ``view-network``), the captions
``spectrum-caption`` and ``network-caption`` (under those views' plots), each lesson's
subject, what its "Look at" line names (``rank-singular-values``, ``kronecker-factors``,
``mask-levels``, ``spectrum-plot``, ``errata-bars``, ``sparse-cosine``,
``sparse-singular-values``, ``sharpness-plot``; see ``tests/browser/test_fits_the_screen.py``),
and ``frame-readouts`` (the step counter and the loss, which also receipts painted frames,
``app/live/receipts.py``); Playground's conveniences (``app/controls/playground_controls.py`` and
``app/views/architecture_buttons.py`` list theirs): ``dataset-thumbnails``, ``regenerate-data``,
``discretize``, ``learning-rate-menu``, ``l1-strength`` in the sidebar, ``add-level``,
``remove-level``, ``add-unit-<k>``, ``remove-unit-<k>`` in ``view-network``. The readouts
changed every frame are plain-text lines that lay nothing out (:mod:`app.views.live_text`):
``step-counter`` and ``loss-value`` are elements inside ``frame-readouts``,
``metrics-summary`` and ``view-computing`` are :class:`app.views.live_text.LiveText` lines;
the text of each is in an inner ``div`` too.

The parts are reached by their owners' names: ``dashboard.sidebar.play_button``,
``dashboard.sidebar.widgets["seed"]``, ``dashboard.main.tabs``, ``dashboard.main.lesson_box``.
The data in use (a built-in set or an uploaded file) and the widths fitted to it are
:class:`app.configuration.data_choice.DataChoice`'s.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial

import panel as pn
import param

from app import page_css
from app.configuration.data_choice import DataChoice
from app.configuration.lessons import BY_KEY
from app.configuration.settings import (
    SPARSE_SETTINGS,
    STRUCTURAL,
    Settings,
    SparseRuleError,
    format_architecture,
    panel_reads_query,
    query_values,
    request_query,
)
from app.controls.sidebar import Controls
from app.live.loop import SessionLoop
from app.live.receipts import FrameReadouts
from app.live.scheduler import Scheduler
from app.page.composition import TITLE, Composition
from app.training.session import TrainingSession

__all__ = ["TITLE", "Dashboard"]

#: the manual tick's SGD time before its frame (seconds)
TICK_BUDGET_S = 0.035
DISPLAY = ("layer", "time_step", "scope", "sample", "formula", "wrt", "network_shows",
           "show_test", "discretize", "l1")


def page_link(known: set[str]) -> tuple[object | None, dict[str, str]]:
    """The served page's ``pn.state.location`` and the values of its query that name a
    setting in ``known`` (a link of an older version may name others: they are left out).
    A query Panel cannot read (a number of 5000 digits) is still applied, its values refused
    by name, but the page is then not tied to its address: the location is None."""
    location = None
    query = request_query(pn.state.curdoc)
    if query is None or panel_reads_query(query):
        location = pn.state.location
        query = query_values(location.search) if location is not None else {}
    return location, {name: value for name, value in query.items() if name in known}


class Dashboard(pn.viewable.Viewer):
    """Train an FNN or RNN live and watch its gradient and Hessian structure.

    Keyword arguments are settings (see :class:`app.configuration.settings.Settings`); invalid
    ones are
    reported in ``messages`` and left at their defaults. ``sync_url=True`` ties the
    settings to the page's query string (the served app does this); ``scheduler`` replaces
    the process-wide one (tests).
    """

    messages = param.Dict(default={}, doc="{setting: reason} for refused values")

    def __init__(self, sync_url: bool = False, scheduler: Scheduler | None = None, **values):
        super().__init__()
        self.settings = Settings()
        location = None
        if sync_url:  # built from the URL's settings at once (no default model drawn first)
            location, query = page_link(set(self.settings.query_parameters()))
            values = {**query, **values}
        self.location = location  # the page's pn.state.location when tied to it, else None
        errors = self.settings.apply(values) if values else {}
        self.session = TrainingSession(self.settings)
        self.readouts = FrameReadouts(css_classes=["frame-readouts"])
        self.sidebar = Controls(self.settings, self.readouts, on_play=self.toggle_play,
                                on_step=self.step, on_reset=self.reset,
                                on_lesson=self._choose_lesson, on_upload=self.use_upload)
        self.data = DataChoice(self.settings, self.session, self.sidebar, self._after_rebuild)
        self.main = Composition(self.session, self.settings)
        self.views = self.main.views
        self.loop = SessionLoop(self.session, self.settings, self.views, self.readouts,
                                scheduler)
        self.loop.rebuild = self.rebuild
        self._deferred = None  # inside apply_settings: None, or whether a redraw was asked
        self._layout = pn.Column(
            self.main.header, pn.Row(self.sidebar, self.main, sizing_mode="stretch_width",
                                     stylesheets=[page_css.PAGE_ROW]),
            sizing_mode="stretch_width", css_classes=["hessian-lab"],
            stylesheets=[page_css.PAGE],
        )
        self.loop.layout = self._layout
        self._watch()
        if self.settings.lesson:
            self.settings.param.trigger("lesson")  # a link to a lesson shows its text
        self.messages = self._with_rule_message(errors)
        self._after_rebuild()
        if self.settings.lesson in BY_KEY:
            self.main.show_lesson(self.settings.lesson)
        if location is not None:
            # the URL's values are applied above, fitted together: sync from a clean query,
            # which location.sync then fills with them (it would re-apply the raw ones)
            location.search = ""
            self.sync_location(location)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            pn.state.on_session_destroyed(self._on_session_destroyed)

    def __panel__(self):
        return self._layout

    # --- reacting to settings ----------------------------------------------------------
    def _watch(self) -> None:
        s = self.settings
        s.param.watch(self._structure_changed, list(STRUCTURAL))
        s.param.watch(self._sparse_changed, list(SPARSE_SETTINGS))
        s.param.watch(self._display_changed, list(DISPLAY))
        s.param.watch(self._view_changed, "view")
        s.param.watch(self._lesson_changed, "lesson")
        s.param.watch(self._batch_changed, "batch_size")
        s.param.watch(self._weight_decay_changed, "weight_decay")
        s.param.watch(self._data_seed_changed, "data_seed")
        self.session.param.watch(self._running_changed, "running")
        self.session.param.watch(self._status_changed, "status")
        self.param.watch(self._messages_changed, "messages")

    def _structure_changed(self, *events) -> None:
        names = {event.name for event in events}
        s = self.settings
        if "tau" in names:
            s.output_from = min(s.output_from, s.tau)
            s.truncate = min(s.truncate, s.tau)
        if self.data.settings_follow(names):
            return  # a value changed to follow the data: this method runs again, and rebuilds
        self.rebuild_soon()

    def rebuild_soon(self) -> None:
        """Served: rebuild at the start of the frame owed to the page, once for all the
        changes that arrive before it is drawn (a student typing, a slider dragged: the
        changes never queue up behind each other's rebuilds), training held meanwhile;
        else rebuild now."""
        self.loop.rebuild_owed = True
        if not self.loop.request_redraw():
            self.loop.rebuild_if_owed()

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
                self.rebuild_soon()
                return
            session.rule_error = None
        self.messages = self._with_rule_message(self.messages, clear=SPARSE_SETTINGS)
        self.sidebar.show_sparse_controls()

    def _after_rebuild(self) -> None:
        s, session = self.settings, self.session
        if s.layer > session.net.n_layers:
            s.layer = session.net.n_layers
        self.sidebar.show_model(session, self.messages)
        self.loop.show_readouts()
        self.refresh_view()

    def _display_changed(self, *events) -> None:
        self.refresh_view()

    def _batch_changed(self, event) -> None:
        if (not self.loop.rebuild_owed  # (the rebuild draws one)
                and self.session.X.shape[0] != self.session.batch_size):  # not drawn by a rebuild
            self.session.next_batch()
        self.sidebar.widgets["sample"].end = max(self.session.batch_size - 1, 1)
        self.refresh_view()

    def _weight_decay_changed(self, event) -> None:
        """Weight decay acts from the next step on, without a restart; the views show it."""
        self.session.set_weight_decay()
        self.refresh_view()

    def _data_seed_changed(self, event) -> None:
        """A new sample of the data set (Regenerate data, or a link's ``data_seed``): the
        model is kept and goes on training on it (``TrainingSession.regenerate_data``)."""
        if self.loop.rebuild_owed:
            return  # the rebuild owed draws the sample asked for
        error = self.session.regenerate_data()
        messages = {name: reason for name, reason in self.messages.items()
                    if name != "data_seed"}
        if error:
            messages["data_seed"] = error
        self.messages = messages
        self._after_rebuild()

    def use_upload(self, uploaded) -> str | None:
        """Train on an uploaded data set (None: the built-in one again); the reason if it
        failed (:meth:`app.configuration.data_choice.DataChoice.use_upload`)."""
        return self.data.use_upload(uploaded)

    def _view_changed(self, event) -> None:
        self.main.show_view(event.new)
        self.refresh_view()

    def _choose_lesson(self, key: str) -> None:
        lesson = BY_KEY.get(key)
        if lesson is None:
            self.settings.lesson = ""
            return
        version = self.session.version
        # the pace is the teacher's, not the lesson's: a class on "fastest" stays on it
        self.apply_settings(dict(lesson.settings, lesson=lesson.key, speed=self.settings.speed))
        if self.session.version == version and not self.loop.rebuild_owed:
            self.reset()  # a lesson starts from its seed, whatever was trained before

    def _lesson_changed(self, event) -> None:
        lesson = BY_KEY.get(event.new)
        self.sidebar.show_lesson(lesson.key if lesson else "")
        self.main.show_lesson(event.new)

    def sync_location(self, location) -> None:
        """Tie the settings to a page's query string (``pn.state.location`` when served):
        the URL's values are applied now, and every later change is written back."""
        names = self.settings.query_parameters()
        location.sync(self.settings, names, on_error=self._url_error)
        # after Panel's own writer (precedence 0), in every batch of changes
        self.settings.param.watch(partial(self._address_follows, location), names,
                                  precedence=1)

    def _address_follows(self, location, *events) -> None:
        """The address holds the settings' values in force. A setting changed again while
        its change was being handled (a value fitted to the others: a batch of 512 on 200
        samples is 200) is told to Panel's writer twice, the older value last; the address
        then takes the value in force."""
        stale = {}
        for event in events:
            value = getattr(self.settings, event.name)
            if event.new is value or event.new == value:
                continue
            text = self.settings.param[event.name].serialize(value)
            stale[event.name] = text if isinstance(text, str) else json.dumps(text)
        if stale:
            location.update_query(**stale)

    def _url_error(self, values: dict) -> None:
        """location.sync could not apply the URL as a whole: apply value by value."""
        errors = self.apply_settings(values)
        self.messages = {**self.messages, **errors}

    def _messages_changed(self, event) -> None:
        self.sidebar.show_messages(event.new)

    def _status_changed(self, event) -> None:
        self.sidebar.show_status(event.new)

    def _running_changed(self, event) -> None:
        self.sidebar.show_running(event.new)
        if event.old and not event.new and not self.loop.disconnected():
            self.show_now()  # paused (Pause, a failed step): the last steps were not drawn

    def show_now(self) -> None:
        """Show the model as it is: the readouts and a complete redraw of the visible view,
        in a frame owed to the page when served (sent as soon as the live loop's flow
        control allows, never dropped: ``app/live/loop.py``), else now."""
        if self.session.net is None:
            return
        if not self.loop.request_redraw():
            with pn.io.hold():
                self.loop.show_readouts()
                self.refresh_view()

    # --- actions -----------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.session.running:
            self.session.running = False
            return
        self.session.status = ""
        self.session.running = True
        self.loop.start()

    def start_worker(self) -> None:
        """The session's worker thread for heavy core computations of the views."""
        self.loop.start_worker()

    def step(self) -> bool:
        """One optimisation step (one mini-batch), then redraw."""
        self.session.status = ""
        self.loop.rebuild_if_owed()  # the model the settings ask for takes the step
        ok = self.session.train_step()
        self.show_now()  # served: counters and view in the frame owed to the page
        return ok

    def reset(self) -> None:
        self.session.running = False
        if self.loop.rebuild_owed:
            self.loop.rebuild_if_owed()  # from the seed, with the settings as they are now
            return
        self.session.reset()
        self._after_rebuild()

    def tick(self, steps: int = 1) -> bool:
        """One manual step of the loop (tests, scripts): ``steps`` SGD steps if playing (at
        most TICK_BUDGET_S of them), then one frame. False if skipped (a tick still running,
        or a closed page, which also pauses training)."""
        loop = self.loop
        if loop.busy:
            return False
        if loop.disconnected():
            self.session.running = False  # the page was closed: stop until Play again
            return False
        loop.busy = True
        try:
            if self.session.running:
                self.session.train(steps, budget_seconds=TICK_BUDGET_S)
            loop.frame()
        finally:
            loop.busy = False
        return True

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

    def apply_link(self, values: dict) -> None:
        """Apply a link's values as a page load does (Back and Forward,
        ``app/configuration/address.py``):
        the banner then names this link's refused values (and a failed rebuild's reason)."""
        errors = self.apply_settings(values)
        kept = {name: self.messages[name] for name in ("architecture", "model")
                if name in self.messages and name not in errors}
        self.messages = self._with_rule_message({**kept, **errors})

    def refresh_view(self) -> None:
        """Recompute and redraw the visible view completely: now, or when served in a frame
        dispatched at once (under the document lock, see ``app/live/loop.py``)."""
        if self._deferred is not None:
            self._deferred = True
            return
        self.loop.pending = None
        if self.session.net is None or self.loop.request_redraw():
            return  # served: drawn in the next frame, under the document lock
        if self.loop.session_context is not None and not self.loop.page_ready:
            # served, the page not loaded yet: its first frame builds and draws the view
            # (SessionLoop.page_loaded), so a plain GET (a link preview) builds no plot
            self.loop.redraw_requested = True
            return
        start = time.perf_counter()
        with pn.io.hold():
            self.main.visible.refresh()
        self.loop.redrawn_now(time.perf_counter() - start)

    # --- end of session ----------------------------------------------------------------
    def _on_session_destroyed(self, session_context) -> None:
        self.close()

    def close(self) -> None:
        """Stop the loop and drop every array (also usable in notebooks)."""
        logging.getLogger(__name__).debug("hessian-lab session closed at step %d",
                                          self.session.step)
        self.loop.close()
        self.session.release()
        self.main.release()
