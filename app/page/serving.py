"""What a server process sets for itself once: Bokeh's self-checks off, one BLAS thread, no
traceback for a closed tab; and the one check of a page's address, its length.

**Bokeh's self-checks of every new session.** Building a session's document is the server's
largest cost when a class arrives (some 0.5 s of CPU per page). Two of Bokeh's documented
settings make a fifth of it:

- ``perform_document_validation`` (``BOKEH_VALIDATE_DOC``): every new document is validated
  (``Document.validate``, Bokeh's model integrity checks) before it is served;
- ``perform_error_diagnostics`` (``BOKEH_PERFORM_ERROR_DIAGNOSTICS``): the signature of every
  property callback is inspected when it is registered, and Panel registers one for every
  synced property of every model.

Both check the code, not the user's input: the documents and callbacks are the same for every
session. The test suite builds every view's document with both checks on and asserts that
they pass (``tests/app/test_serving.py``); served, they are off, unless the environment sets
them (``BOKEH_VALIDATE_DOC=true panel serve app`` keeps validating).

**One BLAS thread.** The live views solve small eigenproblems many times a second (an 8 x 8
RNN layer's is 64 x 64). A multithreaded BLAS spreads each over the machine's cores and keeps
its threads spinning in between: one page of the RNN spectrum cost the process 1.5 cores
where one thread does the same work with 1 (``benchmarks/frame_costs.py``: update_ms 49 against
33 per frame). A server's parallelism is its sessions and its worker processes
(``make serve WORKERS=N``), so each process keeps one BLAS thread (``threadpoolctl``) unless
``HESSIAN_LAB_BLAS_THREADS`` says otherwise. Notebooks and scripts are left alone.

**A closed tab is no error.** A page closed while it trains leaves messages on their way to
its websocket: Panel writes each through Tornado, whose write fails with
``WebSocketClosedError`` (from ``StreamClosedError``) once the socket is closed, and where
the session is destroyed before Panel awaited that write, asyncio logs "Task exception was
never retrieved" with both tracebacks (149 of them for 153 tabs closed in a class's log).
The event loop's exception handler (``loop.set_exception_handler``, asyncio's public hook)
logs those two exceptions as one line at debug level, the closed tab being normal, and
hands every other context to the handler before it (asyncio's default), tracebacks kept.

**An address too long.** A page's settings fit in a few hundred bytes of its address; one
of 20 KB is a paste gone wrong or a crafted link. Behind HAProxy (``make serve WORKERS=N``,
``serve/haproxy.cfg``) an address over :data:`ADDRESS_LIMIT_BYTES` is answered with a page
that says so (status 414), and a single ``panel serve`` process, whose Tornado reads up to
64 KB of request line and headers, shows the same text (:data:`ADDRESS_TOO_LONG`) instead
of the dashboard, building no session (a Bokeh document has no status of its own: 200).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

#: the settings skipped when serving, with their environment variables
SELF_CHECKS = {"perform_document_validation": "BOKEH_VALIDATE_DOC",
               "perform_error_diagnostics": "BOKEH_PERFORM_ERROR_DIAGNOSTICS"}
#: the environment variable that sets a served process's BLAS threads (default 1)
BLAS_THREADS_VARIABLE = "HESSIAN_LAB_BLAS_THREADS"
#: the longest address (path and query, in bytes) a page is built for; HAProxy refuses a
#: longer one with the same text (serve/supervisor.py: the same number)
ADDRESS_LIMIT_BYTES = 16 * 1024
#: what a page whose address is too long says instead of the dashboard
ADDRESS_TOO_LONG = (
    f"This address is too long (over {ADDRESS_LIMIT_BYTES // 1024} KB): the app's settings "
    "fit in far less; open /app on this server and set them there."
)


def request_address(doc) -> str | None:
    """The address (path and query) of the request that opened a served page (``doc``: its
    Bokeh document); None where there is no request (a notebook, a test)."""
    request = getattr(getattr(doc, "session_context", None), "request", None)
    if request is None:
        return None
    return getattr(request, "uri", None)  # Tornado's HTTPServerRequest.uri


def address_too_long(doc) -> bool:
    """Whether the page's address is longer than :data:`ADDRESS_LIMIT_BYTES` (in UTF-8).

    >>> address_too_long(None)
    False
    """
    address = request_address(doc)
    return address is not None and len(address.encode()) > ADDRESS_LIMIT_BYTES


def skip_self_checks() -> list[str]:
    """Turn off the :data:`SELF_CHECKS` whose environment variable is not set; returns the
    names of those turned off."""
    from bokeh.settings import settings

    skipped = []
    for name, variable in SELF_CHECKS.items():
        if variable not in os.environ:
            getattr(settings, name).set_value(False)
            skipped.append(name)
    return skipped


def blas_threads() -> int:
    """The BLAS threads a served process keeps: ``HESSIAN_LAB_BLAS_THREADS`` or 1."""
    text = os.environ.get(BLAS_THREADS_VARIABLE, "1").strip()
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ValueError(f"{BLAS_THREADS_VARIABLE} must be a whole number >= 1, not {text!r}")
    return threads


def limit_blas_threads() -> int:
    """Keep the process's BLAS libraries to :func:`blas_threads` threads; returns the number.
    (The limit holds until changed; setting it again costs a millisecond.)"""
    from threadpoolctl import threadpool_limits

    threads = blas_threads()
    threadpool_limits(limits=threads, user_api="blas")
    return threads


def closed_connection(exception: BaseException | None) -> bool:
    """Whether ``exception`` says only that a websocket or its stream was closed."""
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    return isinstance(exception, (WebSocketClosedError, StreamClosedError))


class ClosedTabQuiet:
    """An event loop's exception handler: a write to a closed websocket is a debug line,
    every other context goes to ``then`` (asyncio's default handler where None)."""

    def __init__(self, then: Callable[[asyncio.AbstractEventLoop, dict], object] | None = None):
        self.then = then

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if closed_connection(context.get("exception")):
            logging.getLogger(__name__).debug("a write to a closed websocket was dropped: %s",
                                              context.get("message"))
        elif self.then is not None:
            self.then(loop, context)
        else:
            loop.default_exception_handler(context)


def quiet_closed_tabs(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Install :class:`ClosedTabQuiet` on ``loop`` (the running one by default) unless it is
    there; False where no event loop runs."""
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
    handler = loop.get_exception_handler()
    if not isinstance(handler, ClosedTabQuiet):
        loop.set_exception_handler(ClosedTabQuiet(handler))
    return True


def configure_served_process() -> None:
    """What ``app/main.py`` sets before it builds a session."""
    skip_self_checks()
    limit_blas_threads()
    quiet_closed_tabs()
