"""Receipts from the page for the frames it has painted: the live loop's flow control.

The server can only tell that a frame's patch left its websocket (``app.loop.writes_pending``);
on one machine the kernel's socket buffers take megabytes, so a page that needs longer to
apply and paint a frame than the server needs to make one (a slow laptop, a projector's
machine, thirty browsers on the server's cores) would receive patches faster than it can
take them. They queue in the browser, every click waits behind them, and the page shows
the model as it was seconds ago.

So every frame ends by numbering itself (:attr:`FrameReceipts.frame`, the last change of the
frame's patch). When BokehJS has applied that patch the component waits for the browser's
next animation frame (BokehJS draws its canvases in animation frames, and the browser runs
the next one only when it has rendered the last) and sends the number back. The loop
(``app.loop.SessionLoop``) lets at most ``RECEIPT_WINDOW`` frames go unreceipted: a fast
page gets frames at the full rate (the next frames are made while the last one travels), a
slow page gets them as fast as it paints them, and a hidden tab, whose animation frames the
browser stops, gets none until it is shown again (at most one per ``RECEIPT_TIMEOUT_S``).
"""

from __future__ import annotations

from collections.abc import Callable

import param
from panel.models.esm import DataEvent

from .live_text import ServerToPage


class FrameReceipts(ServerToPage):
    """An empty element that sends back the number of each frame the page has painted."""

    frame = param.Integer(default=0, doc="The number of the last frame sent to the page.")


    _esm = """
    export function render({ model }) {
      model.on("frame", () => {
        const frame = model.frame
        // at the page's next animation frame, after BokehJS has drawn the frame's changes
        requestAnimationFrame(() => model.send_msg(frame))
      })
      return document.createElement("div")
    }
    """

    def __init__(self, on_receipt: Callable[[int], None], **params):
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        params.setdefault("margin", 0)
        super().__init__(**params)
        self._on_receipt = on_receipt

    # A receipt arrives with every frame of every page: it is taken here, where Panel hands
    # the component its Bokeh events (served and in a notebook), without the bookkeeping
    # Panel wraps round an event on its way to ``_handle_msg`` (its busy indicator is set
    # and cleared, param watchers run: some 2 ms a receipt). Any other event goes that way.
    def _server_event(self, doc, event) -> None:
        if isinstance(event, DataEvent):
            self._handle_msg(event.data)
        else:
            super()._server_event(doc, event)

    def _comm_event(self, doc, event) -> None:
        if isinstance(event, DataEvent):
            self._handle_msg(event.data)
        else:
            super()._comm_event(doc, event)

    def _handle_msg(self, data) -> None:
        try:
            frame = int(data)
        except (TypeError, ValueError):
            return  # not a receipt: nothing this component sends
        self._on_receipt(frame)
