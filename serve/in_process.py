"""The app served in this process without a server, for tests and benchmarks.

:func:`served_document` renders a :class:`app.Dashboard` into a Bokeh ``Document`` as
``panel serve`` serves a page, and :class:`ServerStandIn` stands in for Bokeh's
``ServerSession``: it runs each frame under its lock, turns the frame's document events into
one PATCH-DOC message and serialises it as Panel's write path does
(``panel.io.document.dispatch_tornado``), then delivers the receipt of a page that paints at
once. The live loop then plays as in a served page, with no websocket and no browser.

    document = served_document(dashboard)
    server = ServerStandIn(document, dashboard.loop)
    dashboard.loop.attach(document, SimpleNamespace(session=server))
"""

from __future__ import annotations

import asyncio
import json
import time


class ServerStandIn:
    """Bokeh's ServerSession as far as the loop and the document use it: a lock that runs
    the frame, and the PATCH-DOC messages of its events serialised as the server writes them;
    then, one turn of the event loop later, the receipt of a page that paints at once."""

    connection_count = 1
    destroyed = False

    def __init__(self, document, loop):
        from bokeh.protocol import Protocol

        self.loop = loop  # the dashboard's SessionLoop, which the receipts go to
        self.protocol = Protocol()
        self.events: list = []
        self.frame_cpu: list[float] = []
        self.bytes = 0
        document.callbacks.on_change_dispatch_to(self)

    def _document_patched(self, event) -> None:
        self.events.append(event)

    async def with_document_locked(self, func) -> None:
        start = time.thread_time()
        self.events = []
        func()
        if self.events:  # one message for the frame's events, as Panel's hold sends them
            message = self.protocol.create("PATCH-DOC", self.events)
            for part in (message.header_json, message.metadata_json, message.content_json):
                self.bytes += len(part)
            for buffer in message.buffers:
                self.bytes += len(json.dumps(buffer.ref)) + len(buffer.to_bytes())
        self.events = []
        self.frame_cpu.append(time.thread_time() - start)
        asyncio.get_running_loop().call_soon(self.loop.receipt_arrived, self.loop.frames_sent)


def served_document(dashboard):
    """``dashboard`` rendered into a Bokeh ``Document`` as ``panel serve`` serves it: Panel's
    record of a served document (its thread, its open websocket), and the document sent to
    the page once (``Document.to_json``, as for the page's first pull), after which Bokeh
    no longer counts its models as new (until then every patch walks all of them)."""
    import panel as pn
    from bokeh.document import Document

    from app.compat import mark_served

    # every view made first, as Play makes them: the layout change that adds a hidden view
    # releases its document hold in a next-tick callback, which a server runs and the
    # stand-in does not (every later frame's changes would stay held, unmeasured)
    list(dashboard.views.values())
    document = Document()
    document.add_root(pn.panel(dashboard).get_root(document))
    mark_served(document)  # what panel serve records for a loaded page (app.compat)
    document.to_json()
    return document
