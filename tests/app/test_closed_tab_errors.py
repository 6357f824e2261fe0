"""A write to a closed websocket, never awaited, logs no traceback in a served process; any
other unretrieved exception still does (app.page.serving.quiet_closed_tabs)."""

from __future__ import annotations

import asyncio
import gc
import logging

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from app.page.serving import quiet_closed_tabs


async def fail_with(exception: BaseException) -> None:
    raise exception


def run_unretrieved(exception: BaseException) -> None:
    """A task that fails with ``exception`` and is dropped unawaited, as a write of a closed
    tab is, on a loop configured as app/main.py configures the server's."""

    async def main():
        assert quiet_closed_tabs()
        assert quiet_closed_tabs()  # once only: the handler is not wrapped twice
        task = asyncio.get_running_loop().create_task(fail_with(exception))
        await asyncio.sleep(0.01)
        assert task.done()
        del task
        gc.collect()  # the dropped task reports its exception now

    asyncio.run(main())


def test_a_closed_websocket_logs_no_traceback(caplog):
    with caplog.at_level(logging.DEBUG):
        run_unretrieved(WebSocketClosedError())
        run_unretrieved(StreamClosedError())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "Traceback" not in caplog.text


def test_other_exceptions_keep_their_traceback(caplog):
    with caplog.at_level(logging.DEBUG):
        run_unretrieved(ValueError("a real failure"))
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "never retrieved" in record.getMessage()
    assert isinstance(record.exc_info[1], ValueError)


def test_outside_an_event_loop_nothing_is_installed():
    assert quiet_closed_tabs() is False
