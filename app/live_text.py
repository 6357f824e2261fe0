"""A line of text changed every frame without making the browser lay the page out again.

A Bokeh ``Div`` (Panel's ``StaticText``, ``HTML``, ``Markdown``) re-renders on every change of
its text and asks BokehJS for a layout of the whole page (``LayoutDOMView.invalidate_layout``
walks up to the root and measures every element): on the dashboard that is some 20 ms of the
browser's time per change, and with the step counter and the loss changed 25 times a second
the page's main thread is saturated, so patches queue up in the browser and a click (Pause)
shows its effect only seconds later. :class:`LiveText` is a Panel ``JSComponent`` whose only
reaction to a new text is ``textContent = text`` on its own ``<div>``: the browser reflows
that line, BokehJS lays out nothing. Its element carries the component's ``css_classes``, and
the text is in the inner ``div`` (``.step-counter div`` reads "step 12", as before).
"""

from __future__ import annotations

import param
from panel.custom import JSComponent


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
