"""An address too long is answered with a page that says so, served by HAProxy
(``make serve WORKERS=2``) and by a single ``panel serve`` process alike; a shorter one is
served as ever (needs Debian's haproxy for the balanced half, no browser).

HAProxy's default buffers refused any request over about 15 KB with a bare "400 Bad
request", where one process served 60 KB: now both serve addresses up to
``ADDRESS_LIMIT_BYTES`` (16 KB) and read request headers up to the workers' 64 KB.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from app.page.serving import ADDRESS_LIMIT_BYTES, ADDRESS_TOO_LONG
from serve import supervisor
from serve.launch import Served

SHORT = 10 * 1024
LONG = 20 * 1024
#: the start of the explanation, as both pages hold it
EXPLANATION = "This address is too long (over 16 KB)"


def has_haproxy() -> bool:
    return any(Path(d, "haproxy").exists() for d in [*os.get_exec_path(), "/usr/sbin"])


def address(length: int) -> str:
    """A page address of ``length`` bytes: /app with an unknown query value."""
    start = "/app?note="
    return start + "x" * (length - len(start))


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, body) of a GET, error statuses included."""
    try:
        with urlopen(Request(url, headers=headers or {}), timeout=120) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    return found.group(1).lower() if found else ""


def document_classes(url: str, length: int) -> set[str]:
    """The CSS classes of the models of the document a page at an address of ``length``
    bytes gets (through Bokeh's client, as the page's websocket gets it)."""
    import panel  # noqa: F401  (Panel's models, to read the document)
    from bokeh.client import pull_session

    query = address(length).partition("?")[2]
    name, _, value = query.partition("=")

    def pull() -> set[str]:
        with pull_session(url=url + "/app", arguments={name: value}) as session:
            return {css for model in session.document.models
                    for css in (getattr(model, "css_classes", None) or [])}

    # on a thread of its own: Bokeh's client runs an event loop, and in a test run that has
    # used the browser tests' Playwright (a session fixture) this thread already has one
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(pull).result()


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_one_limit_and_one_text_for_haproxy_and_the_app():
    assert supervisor.ADDRESS_LIMIT_BYTES == ADDRESS_LIMIT_BYTES == 16 * 1024
    assert ADDRESS_TOO_LONG.startswith(EXPLANATION)
    page = text(supervisor.TOO_LONG_PAGE.read_text())
    assert ADDRESS_TOO_LONG.split(":")[0] in page
    config = supervisor.haproxy_config("127.0.0.1:5006", [], [])
    assert f"url_len gt {ADDRESS_LIMIT_BYTES}" in config
    assert f"tune.bufsize {64 * 1024 + supervisor.MAXREWRITE_BYTES}" in config


@pytest.fixture(scope="module")
def balanced():
    if not has_haproxy():
        pytest.skip("no haproxy executable: install Debian's package (apt-get install haproxy)")
    with Served(workers=2) as served:
        yield served


@pytest.fixture(scope="module")
def single():
    with Served(workers=1) as served:
        yield served


@pytest.mark.slow
class TestBehindHAProxy:
    @pytest.fixture
    def served(self, balanced):
        return balanced

    def test_a_long_address_gets_the_explanation(self, served):
        status, body = get(served.url + address(LONG))
        assert status == 414
        assert EXPLANATION in text(body)
        assert 'href="/app"' in body

    def test_a_request_over_the_header_limit_is_refused(self, served):
        # HAProxy's own page: HAProxy 2.6 sends no errorfile for a request it cannot read
        status, _ = get(served.url + address(70 * 1024))
        assert status == 400

    def test_a_shorter_address_is_served(self, served):
        status, body = get(served.url + address(SHORT))
        assert status == 200
        assert "<title>hessian-lab</title>" in body and EXPLANATION not in body

    def test_long_headers_reach_the_worker(self, served):
        # a page's websocket request carries its address again in Bokeh's session token
        status, _ = get(served.url + "/liveness", {"X-Long": "y" * (30 * 1024)})
        assert status == 200


@pytest.mark.slow
class TestOneProcess:
    @pytest.fixture
    def served(self, single):
        return single

    def test_a_long_address_gets_the_explanation_and_no_dashboard(self, served):
        status, body = get(served.url + address(LONG))
        assert status == 200  # a Bokeh document has no status of its own
        assert EXPLANATION.lower() in title(body)
        # the page's document (sent through its websocket): the explanation, no dashboard
        classes = document_classes(served.url, LONG)
        assert "address-too-long" in classes and "play-button" not in classes

    def test_a_shorter_address_is_served(self, served):
        status, body = get(served.url + address(SHORT))
        assert status == 200
        assert "<title>hessian-lab</title>" in body and EXPLANATION not in body
