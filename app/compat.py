"""Every use of a library internal in hessian-lab, in one guarded place.

The app, the benchmarks and the notebooks' helper use Panel, Bokeh, param and Tornado through
their documented APIs. A few internals make the live loop cheaper (some milliseconds of the
event loop's time per frame, which is what lets one process hold a class) or let a notebook
draw offline; they are here, and only here, each with what it relies on and the public route
taken instead. That route is taken

- when ``HESSIAN_LAB_FAST_PATHS=off`` (:data:`VARIABLE`; ``on``, the default, or ``off``: any
  other value is refused), which also serves the page without the BokehJS shims
  (:mod:`app.page.browser_shims`);
- by itself, with one log line, when Panel, Bokeh or Tornado is outside the releases these
  uses were checked against (:data:`CHECKED`).

So a library upgrade can make the app slower, never broken, and the test suite runs both ways
(``.ci/run``: the app's tests again with ``HESSIAN_LAB_FAST_PATHS=off``).

Checked against Panel 1.9.4, Bokeh 3.9.2 (BokehJS 3.9.2), Tornado 6.6.1 and param 2.4.2.

Each use, what it relies on, and the public route otherwise:

- :class:`QuietToPage` (base of ``app.views.live_text.ServerToPage``: the live readouts): Panel's
  ``ReactiveESM._linked_properties``, ``_update_properties``, ``_update_model``,
  ``_process_param_change`` and ``_set_on_model``. Otherwise: Panel's own handling of a
  ``param`` change.
- :func:`set_on_page` (``app.live.receipts.FrameReadouts.show`` in a frame): Panel's
  ``Reactive._models`` (root ref -> (model, parent)) and an ESM model's ``data``. Otherwise:
  ``param.update``.
- :class:`DirectPageMessages` (base of ``FrameReadouts``: the page's receipts): Panel's
  ``Reactive._server_event`` and ``_comm_event``, which receive ``panel.models.esm.DataEvent``.
  Otherwise: Panel's public ``ReactiveESM.on_msg`` callback.
- :func:`writes_pending` (``app.live.loop``: a frame still being written): Bokeh's
  ``ServerSession._subscribed_connections`` and ``ServerConnection._socket``, Tornado's
  ``WebSocketHandler.ws_connection.stream.writing()``. Otherwise: not known, False (the
  page's receipts alone pace the frames).
- :func:`notebook_output` (``app.live.loop``: the notebook cell's comm): Panel's
  ``Viewable._models`` and ``pn.state._views``. Otherwise: (None, None), and a frame is
  drawn inside Panel's ``pn.io.hold``.
- :func:`inline_stylesheets_for_holoviews` (``notebooks/nbhelpers.py``): Panel's
  ``Viewable._preprocessing_hooks`` and ``panel.io.notebook.patch_inline_stylesheets``.
  Otherwise: the plots link Panel's stylesheets at its CDN (the helper warns).
- :func:`mark_served` (``serve.in_process``, for the benchmarks and tests: a document played
  without a server): ``pn.state._thread_id_`` and ``pn.state._connected``. Not a fast path, so not
  switched; Panel has no public call for it.
- The BokehJS shims (``app/static/browser_shims.js``, :mod:`app.page.browser_shims`): served only
  while the fast paths are on; each says in the page what it replaces.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import param
from panel.custom import JSComponent
from panel.io.document import hold
from panel.models.esm import DataEvent
from panel.reactive import Reactive

#: the environment variable that turns every fast path off; its values
VARIABLE = "HESSIAN_LAB_FAST_PATHS"
VALUES = ("on", "off")
#: the releases the internals here were checked against (version prefixes); any other turns
#: them off. Tornado: only ``IOStream.writing()`` and ``ws_connection``, stable across 6.x.
CHECKED = {"panel": "1.9.", "bokeh": "3.9.", "tornado": "6."}

log = logging.getLogger(__name__)
_active: bool | None = None


def requested() -> bool:
    """Whether ``HESSIAN_LAB_FAST_PATHS`` (default ``on``) asks for the fast paths."""
    value = os.environ.get(VARIABLE, "on").strip().lower()
    if value not in VALUES:
        raise ValueError(f"{VARIABLE} must be one of {', '.join(VALUES)}, not {value!r}")
    return value == "on"


def installed_versions() -> dict[str, str]:
    """The installed releases of the libraries in :data:`CHECKED`."""
    import bokeh
    import panel
    import tornado

    return {"panel": panel.__version__, "bokeh": bokeh.__version__, "tornado": tornado.version}


def unchecked(versions: dict[str, str] | None = None) -> list[str]:
    """The libraries (as ``name version``) outside :data:`CHECKED`; empty when all are in."""
    versions = installed_versions() if versions is None else versions
    return [f"{name} {versions[name]}" for name, prefix in CHECKED.items()
            if not versions[name].startswith(prefix)]


def active() -> bool:
    """Whether the fast paths are used: asked for, and the libraries are the checked ones.
    Decided once per process (:func:`refresh` decides again)."""
    global _active
    if _active is None:
        _active = requested()
        outside = unchecked() if _active else []
        if outside:
            log.warning("hessian-lab: library fast paths off, not checked with %s (checked: %s)",
                        ", ".join(outside),
                        ", ".join(f"{name} {prefix}x" for name, prefix in CHECKED.items()))
            _active = False
    return _active


def refresh() -> bool:
    """Decide :func:`active` again (after the environment changed)."""
    global _active
    _active = None
    return active()


# --- Panel: components whose properties go from the server to the page only -----------------
class QuietToPage(JSComponent):
    """A ``JSComponent`` base whose properties Panel neither listens to in the page nor
    handles as a full change on the server, while :func:`active`.

    - No page-side listener (``_linked_properties``): a change made on the server inside
      ``pn.io.hold`` reaches Panel's listener when the hold ends, and Panel takes it for one
      from the page (busy indicator, param watchers): some 6 ms per change. Subclasses change
      nothing in the page.
    - ``_update_properties`` skips the design's parameter values (used only for a change of
      ``stylesheets``), and ``_update_model`` sets the component's own properties on the data
      model at once, without reading each old value (a miss on a data model, whose
      AttributeError looks for similar names with difflib); layout and style changes, and
      anything holding a model, take Panel's path.
    """

    @property
    def _linked_properties(self) -> tuple[str, ...]:
        if active():
            return ()
        return super()._linked_properties

    def _update_properties(self, *events, doc):
        if not active() or any(event.name == "stylesheets" for event in events):
            return super()._update_properties(*events, doc=doc)
        return self._process_param_change({event.name: event.new for event in events})

    def _update_model(self, events, msg, root, model, doc, comm) -> None:
        own = [name for name in msg
               if name not in Reactive.param and name not in ("esm", "importmap")]
        if (not active() or len(own) < len(msg)
                or any(name in model.children for name in own)):
            super()._update_model(events, msg, root, model, doc, comm)
            return
        with hold(doc):  # one message, as Panel's own path sends it
            self._set_on_model(msg, root, model.data)


def set_on_page(component: JSComponent, changes: dict[str, Any]) -> bool:
    """Give ``component`` the values ``changes`` and write them straight to the data model of
    each of its Bokeh models (in order), running no watcher; False (nothing done) when the
    fast paths are off: then the caller takes ``component.param.update``. Call where Bokeh
    changes are made directly (under the document's lock, or with its events held)."""
    if not active():
        return False
    with param.parameterized.discard_events(component):
        for name, value in changes.items():  # what a later rendering of it shows
            setattr(component, name, value)  # (one by one: ``param.update`` reads every value)
    for model, _ in component._models.values():
        model.data.update(**changes)
    return True


class DirectPageMessages(JSComponent):
    """A ``JSComponent`` base whose messages from the page (``model.send_msg``) go to
    :meth:`page_message`. Subclasses register it with Panel's public ``on_msg``; while
    :func:`active` a message is handed over here at once, where Panel hands the component its
    Bokeh events, without the bookkeeping Panel wraps round it (busy indicator set and cleared,
    param watchers: some 2 ms a message). Every other event takes Panel's path."""

    def page_message(self, event: DataEvent) -> None:
        """Called with each message the page sends (its ``data``)."""

    def _server_event(self, doc, event) -> None:
        if active() and isinstance(event, DataEvent):
            self.page_message(event)
        else:
            super()._server_event(doc, event)

    def _comm_event(self, doc, event) -> None:
        if active() and isinstance(event, DataEvent):
            self.page_message(event)
        else:
            super()._comm_event(doc, event)


# --- Bokeh and Tornado: the live loop's flow control -----------------------------------------
def writes_pending(server_session) -> bool:
    """True while a websocket of Bokeh's ``server_session`` still has data to write (the
    browser, or the network, has not taken the last patch yet). Neither Bokeh nor Panel has a
    public call for this; without the fast paths (or where the objects differ) it is not
    known: False, and the page's receipts alone pace the frames."""
    if not active():
        return False
    for connection in getattr(server_session, "_subscribed_connections", ()):
        socket = getattr(connection, "_socket", None)
        stream = getattr(getattr(socket, "ws_connection", None), "stream", None)
        writing = getattr(stream, "writing", None)
        if callable(writing) and writing():
            return True
    return False


def notebook_output(layout) -> tuple:
    """(document, comm) of a notebook cell showing ``layout``, or (None, None): always so
    without the fast paths, and then a frame is drawn inside Panel's ``pn.io.hold``, which
    sends Panel's changes; the plots' own data changes may then reach the cell later."""
    if not active():
        return None, None
    import panel as pn

    for ref in getattr(layout, "_models", {}):
        _, _, document, comm = pn.state._views.get(ref, (None, None, None, None))
        if comm is not None:
            return document, comm
    return None, None


# --- benchmarks: a document as a served page's -------------------------------------------------
def mark_served(document) -> bool:
    """Have Panel treat ``document`` as a served page's, loaded and connected on this thread:
    what ``panel serve`` records for a page (``pn.state._thread_id_`` when it builds the
    document, ``pn.state._connected`` when the page has loaded it), so that a held frame is
    sent as a server sends it. For the benchmarks and the tests, which play a dashboard
    without a server; not a fast path (the app never calls it), so it is used whatever
    :data:`VARIABLE` says, wherever this Panel has both records. False where it lacks them
    (Panel has no public call that does this): the document stays as Panel finds it, and held
    frames wait for a page load that never comes."""
    import panel as pn

    threads = getattr(pn.state, "_thread_id_", None)
    connected = getattr(pn.state, "_connected", None)
    if not all(hasattr(record, "__setitem__") for record in (threads, connected)):
        return False
    threads[document] = threading.get_ident()
    connected[document] = True
    return True


# --- notebooks: Panel's stylesheets inline ----------------------------------------------------
def inline_stylesheets_for_holoviews() -> bool:
    """Add a Panel preprocessing hook that swaps each rendered model's CDN stylesheet links
    for the files' text (what Panel's own inline display does); True when it is in place.
    False where the fast paths are off or this Panel lacks ``Viewable._preprocessing_hooks``
    or ``panel.io.notebook.patch_inline_stylesheets``: the plots then link Panel's CDN."""
    if not active():
        return False
    from panel.io import notebook
    from panel.viewable import Viewable

    hooks = getattr(Viewable, "_preprocessing_hooks", None)
    if not isinstance(hooks, list) or not callable(getattr(notebook, "patch_inline_stylesheets",
                                                           None)):
        return False
    if inline_stylesheets_hook not in hooks:
        hooks.append(inline_stylesheets_hook)
    return True


def inline_stylesheets_hook(viewable: Any, root: Any) -> None:
    """A Panel preprocessing hook: each model under ``root`` gets its CDN stylesheets inline."""
    from bokeh.models import UIElement
    from panel.io import notebook

    for model in root.select({"type": UIElement}):
        notebook.patch_inline_stylesheets(model)
