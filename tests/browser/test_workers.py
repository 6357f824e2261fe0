"""``make serve WORKERS=2``: two Panel workers behind HAProxy, driven by two browsers.

Runs the real make target on a free loopback port (``serve/launch.py``), opens two browser
contexts (two students), and checks that HAProxy's cookie affinity puts them on different
workers (the cookie ``SERVERID`` and the page's ``.worker-id`` text agree), that both train,
and that when one worker process is killed the other student keeps training, the affected
page shows the lost-connection notification (``app/main.py``), the supervisor starts the
worker again and a reload of the affected page is served. A second test checks that the
balanced workers accept a websocket only from the server's own origin, and a third that the
balancer gzips the page, its scripts and stylesheets for a browser that asks, and a fourth
that it sends /app/ to /app. Every process is stopped at the end, whatever happens.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import ROUND_TRIP_MS, AppPage, unavailable

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # serve/ runs from the checkout (python -m serve.supervisor)
    sys.path.insert(0, str(ROOT))

from serve.downloads import fetch, first_visit, linked_resources  # noqa: E402
from serve.launch import Served  # noqa: E402
from tests.support.page import reload  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RESTART_TIMEOUT_S = 180  # the restarted worker imports Panel again on a busy machine


@pytest.fixture(scope="module")
def served(browser):  # the browser first: without Chromium the test is skipped before serving
    has_haproxy = any(Path(d, "haproxy").exists() for d in [*os.get_exec_path(), "/usr/sbin"])
    if not has_haproxy and os.geteuid() != 0:  # as root, make serve installs it
        unavailable("no haproxy executable: install Debian's package "
                    "(sudo apt-get install haproxy)")
    with Served(workers=2) as served:
        yield served


def worker_of(app: AppPage) -> str:
    """The worker serving the page, by its cookie; the page's own ``.worker-id`` agrees."""
    cookies = {c["name"]: c["value"] for c in app.context.cookies()}
    text = app.page.locator(".worker-id div").first.inner_text().strip()
    assert text == f"worker {cookies.get('SERVERID')}", (text, cookies)
    return cookies["SERVERID"]


def steps_increase(app: AppPage, by: int = 3) -> int:
    """Wait until the step counter has advanced ``by`` steps from now; the new count."""
    start = app.step_count()
    return app.wait_for_steps(start + by)


def test_two_browsers_on_two_workers_and_one_worker_dies(browser, served):
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    try:
        first, second = (AppPage(context, served.url).open() for context in contexts)
        workers = [worker_of(first), worker_of(second)]
        assert sorted(workers) == ["w1", "w2"], f"both browsers on one worker: {workers}"

        for app in (first, second):
            app.play()
        for app in (first, second):
            assert steps_increase(app) > 0

        state = served.state()
        victim = state["workers"][workers[0]]
        os.kill(victim["pid"], signal.SIGKILL)

        # the first page lost its worker: Panel's notification says so and how to reload
        message = first.page.locator(".notyf__message")
        message.wait_for(state="visible", timeout=ROUND_TRIP_MS)  # exactly one (strict)
        text = message.inner_text()
        assert "Connection to the server lost" in text and "Reload the page" in text, text
        # the other student keeps training, on the other worker
        before = second.step_count()
        second.wait_for_steps(before + 10)
        second.assert_no_errors()

        # the supervisor starts the killed worker again, on the same port
        deadline = time.monotonic() + RESTART_TIMEOUT_S
        while True:
            restarted = served.state()["workers"][workers[0]]
            if restarted["restarts"] == 1 and restarted["pid"] not in (None, victim["pid"]):
                break
            assert time.monotonic() < deadline, (
                f"worker {workers[0]} was not restarted within {RESTART_TIMEOUT_S} s: "
                f"{restarted}\n{served.log_tail()}"
            )
            time.sleep(0.5)
        assert restarted["port"] == victim["port"]

        # a reload of the first page is served again (by whichever worker is up) and trains
        reload(first)
        assert re.fullmatch(r"w[12]", worker_of(first))
        first.play()
        assert steps_increase(first) > 0
        assert second.step_count() > before
    finally:
        for context in contexts:
            context.close()


def websocket_status(url: str, origin: str) -> int:
    """HTTP status of a websocket handshake to the app sent with this ``Origin`` header."""
    from bokeh.util.token import generate_jwt_token, generate_session_id
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def handshake() -> int:
        request = HTTPRequest(f"{url.replace('http', 'ws', 1)}/app/ws",
                              headers={"Origin": origin}, request_timeout=60)
        token = generate_jwt_token(generate_session_id())
        try:
            connection = await websocket_connect(request, subprotocols=["bokeh", token])
        except HTTPClientError as error:
            return error.code
        connection.close()
        return 101

    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, handshake()).result()


def test_websockets_only_from_the_servers_own_origin(served):
    assert websocket_status(served.url, f"http://127.0.0.1:{served.port}") == 101
    assert websocket_status(served.url, "http://elsewhere.example:80") == 403


def test_the_balancer_gzips_the_page_and_its_scripts_for_browsers_that_ask(served):
    transfer = first_visit(served.page_url)
    assert transfer.compressed == transfer.resources + 1  # the page and every resource
    assert transfer.gzipped < 0.6 * transfer.plain, transfer
    # what a browser unpacks is what the worker sent
    script = next(url for url in linked_resources(served.page_url, fetch(served.page_url, False)[0]
                                                  .decode()) if "bokeh.min.js" in url)
    packed, was_gzipped = fetch(script, gzip=True)
    plain, plain_gzipped = fetch(script, gzip=False)
    assert was_gzipped and not plain_gzipped
    assert gzip.decompress(packed) == plain


def test_the_page_with_a_trailing_slash_is_sent_to_the_page(served):
    # at /app/ the page's relative addresses miss every script: the balancer redirects
    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None  # the redirect itself is what is checked

    opener = urllib.request.build_opener(Keep)
    for path, location in (("/app/", "/app"), ("/app/?dataset=blobs&classes=3",
                                                "/app?dataset=blobs&classes=3")):
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"{served.url}{path}", timeout=30)
        assert answer.value.code == 302
        assert answer.value.headers["Location"] == location
    with urllib.request.urlopen(f"{served.url}/app", timeout=30) as response:
        assert response.status == 200  # the page itself is not redirected
