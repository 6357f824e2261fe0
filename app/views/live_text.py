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
counter and the loss are such lines too, inside :class:`app.live.receipts.FrameReadouts`.
"""

from __future__ import annotations

import param

from app import compat


class ServerToPage(compat.QuietToPage):
    """A ``JSComponent`` whose properties go from the server to the page only.

    Panel listens for page-side changes of every property of a ``JSComponent``, and a change
    made on the server inside ``pn.io.hold`` (every frame of the live loop) reaches that
    listener too when the hold ends, taken for one from the page (busy indicator, param
    watchers: some 6 ms per change); and Panel's handling of each server-side change does
    work these components need not. Nothing in them changes in the page, so the fast path of
    :class:`app.compat.QuietToPage` skips both; without it (``HESSIAN_LAB_FAST_PATHS=off``)
    Panel's own handling of a ``param`` change runs, slower, with the same result in the page.
    """


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
