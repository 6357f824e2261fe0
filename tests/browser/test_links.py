"""Links that must not crash the page: seeded query strings against the served app.

A subset of the in-process generator (``tests/app/test_settings_links.py``): the
combinations that used to give a blank page, and random strings over every setting. Each
page must show Play, train after Play (the step counter moves), and leave no traceback in
the server's log. This module runs its own ``panel serve app``, so that its log holds only
these pages.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlencode

import pytest

from tests.app.test_settings_links import CONFLICTS, SEED, random_queries
from tests.support.page import expect

from .conftest import ROOT, SERVER_STOP_S, free_port, panel_command, wait_for_server

LINKS = CONFLICTS[:5] + random_queries(5, seed=SEED + 10)


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory):
    """(base URL, log path) of a ``panel serve app`` of this module's own."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("links-serve") / "server.log"
    command = [panel_command(), "serve", "app", "--port", str(port), "--address", "127.0.0.1",
               f"--allow-websocket-origin=127.0.0.1:{port}"]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        wait_for_server(url + "/app", process, log_path)
        yield url, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_S)


@pytest.mark.browser
@pytest.mark.parametrize("query", LINKS, ids=lambda query: urlencode(query)[:60])
def test_any_link_gives_a_page_that_trains(browser, logged_server, query):
    from .conftest import AppPage

    url, log_path = logged_server
    logged_before = log_path.stat().st_size
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        app = AppPage(context, url).open("?" + urlencode(query))
        expect(app.page.locator(".play-button button")).to_contain_text("Play")
        app.play()
        app.wait_for_steps(2)
        app.play()  # pause
        expect(app.page.locator(".play-button button")).to_contain_text("Play")
        app.assert_no_errors()
    finally:
        context.close()
    with open(log_path, "rb") as log:
        log.seek(logged_before)
        written = log.read().decode(errors="replace")
    assert "Traceback" not in written and "ERROR" not in written, written[-6000:]
