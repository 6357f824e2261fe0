"""A line of text changed every frame without making the browser lay the page out again.

A Bokeh ``Div`` (Panel's ``StaticText``, ``HTML``, ``Markdown``) re-renders on every change of
its text and asks BokehJS for a layout of the whole page (``LayoutDOMView.invalidate_layout``
walks up to the root and measures every element): on the dashboard that is some 20 ms of the
browser's time per change, and with the step counter and the loss changed 25 times a second
the page's main thread is saturated, so patches queue up in the browser and a click (Pause)
shows its effect only seconds later. :class:`LiveText` is a Panel ``JSComponent`` whose only
reaction to a new text is ``textContent = text`` on its own ``<div>``: the browser reflows
that line, BokehJS lays out nothing. It is as wide as its column unless told otherwise, so
that a longer or shorter text does not resize it either. Its element carries the component's
``css_classes``, and the text is in the inner ``div`` (``.metrics-summary div``). The step
counter and the loss are such lines too, inside :class:`app.receipts.FrameReadouts`.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent
from panel.io.document import hold
from panel.reactive import Reactive


class ServerToPage(JSComponent):
    """A ``JSComponent`` whose properties go from the server to the page only.

    Panel listens for page-side changes of every property of a ``JSComponent``. A change made
    on the server inside ``pn.io.hold`` (every frame of the live loop) reaches that listener
    too, when the hold ends: Panel no longer knows it as its own change then, and takes it
    for one from the page, with its busy indicator and param watchers. That cost some 6 ms
    per change on the event loop. Nothing in these components changes in the page, so
    nothing is listened for.
    """

    @property
    def _linked_properties(self) -> tuple[str, ...]:
        return ()

    # What Panel does on every server-side change of a component, and these components need
    # not: a live readout changes many times a second, so each of these was a visible part of
    # a frame's cost on the event loop.
    # - It asks the design (theme) for its parameter values, though it uses them only for a
    #   change of ``stylesheets``.
    # - Before setting a property it reads the property's old value from the component's
    #   Bokeh model, to see whether it held other models; a JSComponent's own parameters live
    #   on the model's data model, so the read misses, and Bokeh's AttributeError for a miss
    #   looks for similar names (difflib) each time. These properties hold strings and
    #   numbers, never models.
    def _update_properties(self, *events, doc):
        if any(event.name == "stylesheets" for event in events):
            return super()._update_properties(*events, doc=doc)
        return self._process_param_change({event.name: event.new for event in events})

    def _update_model(self, events, msg, root, model, doc, comm) -> None:
        own = [name for name in msg
               if name not in Reactive.param and name not in ("esm", "importmap")]
        if len(own) < len(msg) or any(name in model.children for name in own):
            super()._update_model(events, msg, root, model, doc, comm)  # layout, style
            return
        with hold(doc):  # one message, as Panel's own path sends it
            self._set_on_model(msg, root, model.data)


class LiveText(ServerToPage):
    """One line of plain text (never HTML), cheap to change many times a second."""

    text = param.String(default="", doc="The text shown, as plain text.")

    _esm = """
    export function render({ model }) {
      const line = document.createElement("div")
      line.className = "live-text"
      line.textContent = model.text
      model.on("text", () => { line.textContent = model.text })
      return line
    }
    """

    _stylesheets = [":host { white-space: nowrap; } .live-text { font-size: 1.05em; }"]

    def __init__(self, **params):
        # as wide as its column (unless told otherwise): a longer or shorter text must not
        # resize the line, since a resize makes the page lay the view out again (~16 ms of
        # the browser's main thread in a profile of the training view)
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
