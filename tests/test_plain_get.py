"""A plain ``GET /app`` (a link preview, a crawler, a reload never connected) builds no
dashboard: only the page's "Loading" text and its other small roots (``app/page/deferred_page.py``).
A page that connects and renders its document (Bokeh's ``DocumentReady``) gets the whole
dashboard, from the settings in its link; the visible view's plots are built in the page's
first frame and a hidden view's on its first show (no browser; one ``panel serve`` process).

The sessions' documents are read from a Bokeh server serving ``app/`` in a process of its
own (this file run as a script: ``app/main.py`` sets up the process it serves from). What a
plain GET costs in time is measured by ``python -m benchmarks.bench_classroom --burst N``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parent.parent / "app"
#: the Bokeh models a plain GET's document may hold: the loading text, the disconnect
#: notification area and their few parts (a built dashboard is some 190 before any plot)
PLAIN_GET_MODELS = 25
#: the CSS classes that only a built dashboard has (test hooks of app/page/dashboard.py)
DASHBOARD_HOOKS = {"hessian-lab", "play-button", "view-tabs", "frame-readouts", "download-csv"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_sessions(gets: list[dict[str, str]], opened: list[dict[str, str]]) -> dict:
    """In the child process: a Bokeh server in this process serving ``app/`` (Bokeh's
    documented ``Server`` and ``Server.get_sessions``) as ``panel serve`` serves it (Panel's
    application, which runs ``pn.state.onload`` callbacks on the page's DocumentReady); one
    plain ``GET /app?query`` per query of ``gets`` (after one to warm the process up), then
    one page opened as a browser opens it (``serve.page_session.open_page``) per query of
    ``opened``. Returns the plain
    GETs' documents, the opened pages' documents, in order, and the process's CPU seconds
    per plain GET."""
    from bokeh.server.server import Server
    from panel.io.application import build_single_handler_application

    from serve.page_session import open_page

    port = free_port()
    page_url = f"http://127.0.0.1:{port}/app"
    server = Server({"/app": build_single_handler_application(str(APP))}, port=port,
                    address="127.0.0.1", allow_websocket_origin=[f"127.0.0.1:{port}"])
    server.start()
    found: dict = {"warm-up": [], "gets": [], "opened": []}
    seen: set[str] = set()
    failures: list[BaseException] = []

    def sessions_since(key: str) -> None:
        """The documents of the sessions made since the last call, under ``key`` (read on
        the server's loop; the caller waits for them)."""
        collected = threading.Event()

        def collect():
            for session in server.get_sessions("/app"):
                if session.id not in seen:
                    seen.add(session.id)
                    found[key].append(session.document)
            collected.set()
        server.io_loop.add_callback(collect)
        collected.wait(timeout=120)

    def browse():
        try:
            plain_get(page_url, {})  # warm-up: the process's first session
            sessions_since("warm-up")
            for query in gets:
                plain_get(page_url, query)
            sessions_since("gets")
            for query in opened:
                open_page(page_url, query)
            sessions_since("opened")
        except BaseException as error:  # reported by the test
            failures.append(error)
        finally:
            server.io_loop.add_callback(server.io_loop.stop)

    threading.Thread(target=browse, daemon=True).start()
    server.io_loop.start()
    server.stop()
    if failures:
        raise failures[0]
    return found


def plain_get(page_url: str, query: dict[str, str]) -> None:
    with urlopen(f"{page_url}?{urlencode(query)}", timeout=120) as response:
        assert response.status == 200


def classes(models) -> set[str]:
    return {css for model in models for css in (getattr(model, "css_classes", None) or [])}


def describe(document) -> dict:
    """A document's CSS classes, the names of its plots' types and its number of models."""
    from bokeh.models import Plot

    return {"classes": sorted(classes(document.models)), "models": len(document.models),
            "plots": [type(model).__name__ for model in document.models
                      if isinstance(model, Plot)]}


def run(gets: list[dict[str, str]], opened: list[dict[str, str]]) -> dict:
    found = served_sessions(gets, opened)
    return {"gets": [describe(document) for document in found["gets"]],
            "opened": [describe(document) for document in found["opened"]]}


def in_a_served_process(gets: list[dict[str, str]], opened: list[dict[str, str]]) -> dict:
    child = subprocess.run([sys.executable, __file__, json.dumps([gets, opened])],
                           capture_output=True, text=True, timeout=600, cwd=APP.parent)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


VIEWS = ["training", "spectrum", "network"]


@pytest.fixture(scope="module")
def served():
    return in_a_served_process([{"view": view} for view in VIEWS],
                               [{"view": view} for view in VIEWS])


def test_a_plain_get_builds_no_dashboard(served):
    documents = served["gets"]
    assert len(documents) == len(VIEWS)
    for document in documents:
        found = set(document["classes"])
        assert "page-loading" in found  # the page says it is loading, not a blank page
        assert not found & DASHBOARD_HOOKS, f"a dashboard built for a plain GET: {found}"
        assert document["plots"] == []
        assert document["models"] <= PLAIN_GET_MODELS, (
            f"{document['models']} Bokeh models built for a page never loaded")


def test_a_page_that_loads_gets_the_dashboard_of_its_link(served):
    documents = served["opened"]
    assert len(documents) == len(VIEWS)
    for view, document in zip(VIEWS, documents, strict=True):
        found = set(document["classes"])
        # the page is there: the controls and the visible view's frame with its downloads
        assert DASHBOARD_HOOKS <= found, sorted(found)
        assert "page-loading" not in found
        # the view the link asks for is the one shown
        assert {f"view-{other}" for other in VIEWS} & found == {f"view-{view}"}


if __name__ == "__main__":
    sys.path[0] = str(APP.parent)  # the repository (serve/), not tests/
    print(json.dumps(run(*json.loads(sys.argv[1]))))
