"""The frame's readouts and its receipt from the page: the live loop's flow control.

The server can only tell that a frame's patch left its websocket (``app.compat.writes_pending``);
on one machine the kernel's socket buffers take megabytes, so a page that needs longer to
apply and paint a frame than the server needs to make one (a slow laptop, a projector's
machine, thirty browsers on the server's cores) would receive patches faster than it can
take them. They queue in the browser, every click waits behind them, and the page shows
the model as it was seconds ago.

So every frame ends by numbering itself (:attr:`FrameReadouts.frame`, the last change of the
frame's patch). When BokehJS has applied that patch the component waits for the browser's
next animation frame (BokehJS draws its canvases in animation frames, and the browser runs
the next one only when it has rendered the last) and sends the number back, for every
``RECEIPT_EVERY``-th frame (a receipt says that the frames before it were painted too, and it
costs the server a message in and Bokeh's answer out). The loop
(``app.live.loop.SessionLoop``) lets at most ``RECEIPT_WINDOW`` frames go unreceipted: a fast
page gets frames at the full rate (the next frames are made while the last one travels), a
slow page gets them as fast as it paints them, and a hidden tab, whose animation frames the
browser stops, gets none until it is shown again (at most one per ``RECEIPT_TIMEOUT_S``).

The same component shows the step counter and the loss, the two readouts every frame changes,
so that a frame's readouts and its number are one change of one component: Panel's handling
of a server-side change costs the event loop about as much whatever it carries, and a frame
paid it three times when the counter, the loss and the number were three components.
"""

from __future__ import annotations

from collections.abc import Callable

import param

from app import compat
from app.views.live_text import ServerToPage

#: the page receipts the frames whose number is a multiple of this (every second frame): any
#: ``RECEIPT_WINDOW`` frames in a row (``app.live.loop``) hold one it receipts
RECEIPT_EVERY = 2


def epoch_label(epochs: float) -> str:
    """The epoch counter's text: one decimal below 100 epochs, whole epochs above.

    >>> epoch_label(0.02), epoch_label(12.345), epoch_label(1234.5)
    ('epoch 0.0', 'epoch 12.3', 'epoch 1234')
    """
    return f"epoch {epochs:.1f}" if epochs < 100 else f"epoch {int(epochs)}"


class FrameReadouts(ServerToPage, compat.DirectPageMessages):
    """The step counter and the loss, and the number of the frame that last changed them.

    In the page the component is a row of three lines, ``.step-counter div`` ("step 12"),
    ``.epoch-counter div`` ("epoch 0.2") and ``.loss-value div`` ("loss 0.1234"), each
    changing only its own text (the browser lays nothing else out, see :mod:`app.views.live_text`);
    after painting a frame it sends the frame's number back to ``on_receipt``.
    """

    step = param.String(default="step 0", doc="The step counter's text.")
    epoch = param.String(default="epoch 0", doc="The epoch counter's text.")
    loss = param.String(default="", doc="The loss readout's text.")
    frame = param.Integer(default=0, doc="The number of the last frame sent to the page.")

    _esm = """
    export function render({ model }) {
      const row = document.createElement("div")
      row.className = "readouts"
      const line = (kind, text) => {
        const outer = document.createElement("div")
        outer.className = kind
        const inner = document.createElement("div")
        inner.textContent = text
        outer.appendChild(inner)
        row.appendChild(outer)
        return inner
      }
      const step = line("step-counter", model.step)
      const epoch = line("epoch-counter", model.epoch)
      const loss = line("loss-value", model.loss)
      model.on("step", () => { step.textContent = model.step })
      model.on("epoch", () => { epoch.textContent = model.epoch })
      model.on("loss", () => { loss.textContent = model.loss })
      model.on("frame", () => {
        const frame = model.frame
        if (frame % RECEIPT_EVERY !== 0) return
        // at the page's next animation frame, after BokehJS has drawn the frame's changes
        requestAnimationFrame(() => model.send_msg(frame))
      })
      return row
    }
    """.replace("RECEIPT_EVERY", str(RECEIPT_EVERY))

    _stylesheets = ["""
    .readouts { display: flex; white-space: nowrap; font-size: 1.05em; }
    .step-counter { width: 90px; margin: 5px 5px 5px 10px; }
    .epoch-counter { width: 90px; margin: 5px; }
    .loss-value { width: 100px; margin: 5px; }
    """]

    def __init__(self, on_receipt: Callable[[int], None] | None = None, **params):
        params.setdefault("width", 320)
        params.setdefault("margin", 0)
        super().__init__(**params)
        #: called with the number of each frame the page has painted
        self.on_receipt = on_receipt
        # Panel's public route for the page's messages; while the fast paths are on, a
        # message reaches page_message sooner, without Panel's bookkeeping (app.compat)
        self.on_msg(self.page_message)

    def show(self, step: int, loss: float, frame: int | None = None,
             in_frame: bool = False, epochs: float | None = None) -> None:
        """Show ``step``, ``loss`` and ``epochs`` (samples seen / training samples, beside
        the steps); with ``frame``, number the frame they end (one change of the component,
        the frame's number last).

        ``in_frame``: called from a frame of the live loop (``app.live.loop.SessionLoop.draw``),
        where Bokeh changes are made directly (under the page's document lock, or with the
        notebook's or script's document held). Then the values go straight to the page's
        Bokeh data model, and the parameters take them without running Panel's or param's
        handling of a change (nothing else watches them): some 0.2 ms less per frame than
        the parameter path, a tenth of a frame (:func:`app.compat.set_on_page`; with the fast
        paths off, the parameter path). Elsewhere (a reset, Step) the parameter path is taken,
        which Panel schedules onto the document when it must.
        """
        changes = {}
        step_text = f"step {step}"
        if step_text != self.step:
            changes["step"] = step_text
        if epochs is not None and (epoch_text := epoch_label(epochs)) != self.epoch:
            changes["epoch"] = epoch_text
        loss_text = f"loss {loss:.4g}"
        if loss_text != self.loss:
            changes["loss"] = loss_text
        if frame is not None:
            changes["frame"] = frame
        if not changes:
            return
        # in a frame: straight to the page's data model where the fast paths allow
        if not (in_frame and compat.set_on_page(self, changes)):
            self.param.update(**changes)

    def page_message(self, event) -> None:
        """A message from the page (``model.send_msg``): a frame's receipt."""
        try:
            frame = int(event.data)
        except (TypeError, ValueError):
            return  # not a receipt: nothing this component sends
        if self.on_receipt is not None:
            self.on_receipt(frame)
