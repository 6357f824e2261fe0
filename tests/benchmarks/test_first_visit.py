"""serve/downloads.py (the class benchmark's first visit): the resources a page links, and
the bytes of a first visit."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from serve.downloads import first_visit, linked_resources, transfer_line

PAGE = b"""<html><head>
<link rel="icon" href="favicon.ico">
<link rel="stylesheet" href="static/a.css?v=1">
<link href="static/b.css" rel="stylesheet">
<script type="esms-options">{"shimMode": true}</script>
<script type="text/javascript" src="static/js/c.js"></script>
<script src="app/static/d.js?bokeh=3.9."></script>
<script src="static/js/c.js"></script>
</head><body></body></html>"""
BODIES = {"/app": PAGE, "/static/a.css": b"a" * 5000, "/static/b.css": b"b" * 3000,
          "/static/js/c.js": b"c" * 20000, "/app/static/d.js": b"d" * 1000}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        body = BODIES[self.path.split("?")[0]]
        # like the balancer: only scripts are compressed here, and only when asked
        if self.path.startswith("/static/js/") and "gzip" in self.headers["Accept-Encoding"]:
            body = gzip.compress(body)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/app"
    finally:
        server.shutdown()
        server.server_close()


def test_the_scripts_and_stylesheets_a_page_links_in_order_once_each():
    base = "http://host:5006/app"
    assert linked_resources(base, PAGE.decode()) == [
        "http://host:5006/static/a.css?v=1", "http://host:5006/static/b.css",
        "http://host:5006/static/js/c.js", "http://host:5006/app/static/d.js?bokeh=3.9."]


def test_a_first_visit_counts_the_bytes_as_they_came(page_url):
    transfer = first_visit(page_url)
    plain = sum(len(body) for body in BODIES.values())
    assert transfer.plain == plain
    assert transfer.resources == 4 and transfer.compressed == 1
    assert transfer.gzipped == plain - 20000 + len(gzip.compress(b"c" * 20000))
    assert transfer.ratio == pytest.approx(transfer.gzipped / plain)
    line = transfer_line(transfer, "here")
    assert "its 4 scripts and stylesheets, 1 of these 5 gzipped" in line
    assert f"{plain / 1024:.0f} KiB to a browser that does not accept gzip" in line
