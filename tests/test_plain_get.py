"""A plain ``GET /app`` (a link preview, a reload never connected) builds no view: the
visible view's plots are built in the page's first frame, once the page has loaded its
document, and a hidden view's on its first show (no browser; one ``panel serve`` process).

The sessions' documents are read from a Bokeh server serving ``app/`` in a process of its
own (this file run as a script: ``app/main.py`` sets up the process it serves from).
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def documents_of_plain_gets(queries: list[dict[str, str]]) -> list:  # in the child process
    """The documents of the sessions that plain ``GET /app?query`` requests create, one per
    query, from a Bokeh server in this process serving ``app/`` (Bokeh's documented
    ``Server`` and ``Server.get_sessions``)."""
    from bokeh.command.util import build_single_handler_application
    from bokeh.server.server import Server

    port = free_port()
    server = Server({"/app": build_single_handler_application(str(APP))}, port=port,
                    address="127.0.0.1", allow_websocket_origin=[f"127.0.0.1:{port}"])
    server.start()
    found: list = []
    failures: list[BaseException] = []

    def collect_and_stop():
        found.extend(session.document for session in server.get_sessions("/app"))
        server.io_loop.stop()

    def browse():
        try:
            for query in queries:
                with urlopen(f"http://127.0.0.1:{port}/app?{urlencode(query)}",
                             timeout=120) as response:
                    assert response.status == 200
        except BaseException as error:  # reported by the test
            failures.append(error)
        finally:
            server.io_loop.add_callback(collect_and_stop)

    threading.Thread(target=browse, daemon=True).start()
    server.io_loop.start()
    server.stop()
    if failures:
        raise failures[0]
    return found


def classes(models) -> set[str]:
    return {css for model in models for css in (getattr(model, "css_classes", None) or [])}


def describe(queries: list[dict[str, str]]) -> list[dict]:
    """Per plain GET's document: its CSS classes and the names of its plots' types."""
    from bokeh.models import Plot

    return [{"classes": sorted(classes(document.models)),
             "plots": [type(model).__name__ for model in document.models
                       if isinstance(model, Plot)]}
            for document in documents_of_plain_gets(queries)]


def test_a_plain_get_builds_no_plot_of_any_view():
    views = ["training", "spectrum", "network"]
    queries = json.dumps([{"view": view} for view in views])
    child = subprocess.run([sys.executable, __file__, queries], capture_output=True,
                           text=True, timeout=300, cwd=APP.parent)
    assert child.returncode == 0, child.stderr[-3000:]
    documents = json.loads(child.stdout.strip().splitlines()[-1])
    assert len(documents) == len(views)
    shown = set()
    for document in documents:
        found = set(document["classes"])
        # the page is there: the controls and the visible view's frame with its downloads
        assert {"play-button", "view-tabs", "download-csv"} <= found
        shown |= {view for view in views if f"view-{view}" in found}
        plots = document["plots"]
        assert plots == [], f"{len(plots)} plots built for a page never loaded: {plots[:3]}"
    assert shown == set(views)


if __name__ == "__main__":
    print(json.dumps(describe(json.loads(sys.argv[1]))))
