"""A session opened as a page opens it, without a browser: for tests and benchmarks.

A page's session is built in two turns (``app/page/deferred_page.py``): the page's ``GET`` (or the
websocket's, for a client without a page) makes the server run ``app/main.py``, which serves a
"Loading" text only, and the page's dashboard is built once BokehJS has rendered the document
and says so (Bokeh's ``DocumentReady`` event, which runs Panel's ``pn.state.onload``
callbacks). :func:`open_page` opens a session both turns, over Bokeh's websocket protocol
(``bokeh.protocol``), without building or rendering any document. A client that only
connects (Bokeh's ``ClientSession.connect``) makes the server build the loading text only.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

#: how long a session may take to be built once its page is rendered (a loaded machine)
BUILD_TIMEOUT_S = 180
#: what BokehJS sends once it has rendered a document (a PATCH-DOC event)
DOCUMENT_READY = {"kind": "MessageSent", "msg_type": "bokeh_event",
                  "msg_data": {"type": "event", "name": "document_ready", "values": {}}}


async def open_page_async(page_url: str, query: dict[str, str] | None = None) -> list[dict]:
    """Open a session of ``page_url?query`` as a page opens it, over Bokeh's websocket: a new
    session's token, the server's ACK, PULL-DOC; then what BokehJS sends once it has rendered
    the document (a PATCH-DOC with Bokeh's ``DocumentReady`` event), and the server's answer
    to it, sent once its callbacks have run (the page's dashboard built). Closes the session
    and returns what the page received: the PULL-DOC reply's content, then each PATCH-DOC's,
    in order."""
    from bokeh.client.websocket import WebSocketClientConnectionWrapper
    from bokeh.protocol import Protocol
    from bokeh.protocol.messages.patch_doc import patch_doc
    from bokeh.protocol.receiver import Receiver
    from bokeh.util.token import generate_jwt_token, generate_session_id
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    protocol = Protocol()
    receiver = Receiver(protocol)
    address = page_url.replace("http", "ws", 1) + "/ws"
    if query:
        address += "?" + urlencode(query)
    request = HTTPRequest(address, connect_timeout=BUILD_TIMEOUT_S,
                          request_timeout=BUILD_TIMEOUT_S)
    socket = await websocket_connect(request, max_message_size=256 * 1024 * 1024,
                                     subprotocols=["bokeh",
                                                   generate_jwt_token(generate_session_id())])
    connection = WebSocketClientConnectionWrapper(socket)

    async def next_message():
        while True:
            fragment = await socket.read_message()
            if fragment is None:
                raise ConnectionError(f"the server closed the websocket of {address}")
            message = await receiver.consume(fragment)
            if message is not None:
                return message

    try:
        ack = await next_message()
        if ack.msgtype != "ACK":
            raise RuntimeError(f"the server answered the websocket with {ack.msgtype}")
        await protocol.create("PULL-DOC-REQ").send(connection)
        reply = await next_message()
        if reply.msgtype != "PULL-DOC-REPLY":
            raise RuntimeError(f"PULL-DOC answered with {reply.msgtype}: {reply.content}")
        received = [reply.content]
        ready = patch_doc(patch_doc.create_header(), {}, {"events": [DOCUMENT_READY]})
        await ready.send(connection)
        while True:
            message = await asyncio.wait_for(next_message(), BUILD_TIMEOUT_S)
            if message.msgtype == "PATCH-DOC":
                received.append(message.content)
            elif message.header.get("reqid") == ready.header["msgid"]:
                if message.msgtype != "OK":
                    raise RuntimeError(f"DocumentReady answered with {message.msgtype}: "
                                       f"{message.content}")
                return received
    finally:
        socket.close()


def open_page(page_url: str, query: dict[str, str] | None = None) -> list[dict]:
    """:func:`open_page_async` on an event loop of its own (call it where none runs)."""
    return asyncio.run(open_page_async(page_url, query))
