"""Fixtures for the browser tests: one `panel serve app` per test session, headless Chromium.

The browser is Debian's Chromium (``HESSIAN_LAB_CHROMIUM``, else ``chromium`` on the PATH,
else ``/usr/bin/chromium``); Playwright's own browser downloads are never used. Without a
browser these tests are skipped, except in CI (``CI=true``), where they fail.

Panel renders every component inside a shadow root; Playwright's CSS selectors pierce open
shadow roots, so ``.step-counter div`` finds the text of the step counter. The CSS classes
used here are the test hooks documented at the top of ``app/page/dashboard.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from app.configuration.settings import VIEW_TITLES

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_START_S = 90  # panel serve imports holoviews and bokeh: slow on a loaded machine
SERVER_STOP_S = 15
#: how long a server round trip (click -> Python -> redraw) may take on a loaded 2-core machine
ROUND_TRIP_MS = 30_000


def unavailable(reason: str):
    """No browser here: a failure in CI, a skip elsewhere."""
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_executable() -> str:
    return os.environ.get("HESSIAN_LAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def panel_command() -> str:
    """The virtualenv's ``panel`` (the one next to this Python), else the PATH's."""
    beside = Path(sys.executable).with_name("panel")
    return str(beside) if beside.exists() else (shutil.which("panel") or "panel")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as error:
        unavailable(f"the Python package playwright is not installed ({error})")
    executable = chromium_executable()
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        unavailable(
            f"no Chromium executable at {executable!r}: install Debian's package "
            "(apt-get install chromium) or set HESSIAN_LAB_CHROMIUM"
        )
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True, timeout=60_000
            )
        except Error as error:
            pytest.fail(f"Chromium at {executable} did not start: {error}", pytrace=False)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """``panel serve app`` on a free loopback port; its base URL. Stopped at the end."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("panel-serve") / "server.log"
    command = [
        panel_command(),
        "serve",
        "app",
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
        f"--allow-websocket-origin=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        wait_for_server(url + "/app", process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_S)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for_server(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"panel serve exited with {process.returncode}:\n{log_tail(log_path)}",
                pytrace=False,
            )
        try:
            with urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except (URLError, OSError) as error:  # refused while the server starts
            last = error
        time.sleep(0.25)
    pytest.fail(
        f"panel serve did not answer {url} within {SERVER_START_S} s ({last}):\n"
        f"{log_tail(log_path)}",
        pytrace=False,
    )


FIGURES_JS = """(cssClass) => {
    const inside = (element) => {  // walks up through the shadow roots Panel renders into
        for (let node = element; node; ) {
            if (node.classList && node.classList.contains(cssClass)) return true;
            node = node.parentNode instanceof ShadowRoot ? node.parentNode.host : node.parentNode;
        }
        return false;
    };
    const rows = (data) => {
        const columns = data instanceof Map ? Object.fromEntries(data) : data;
        const names = Object.keys(columns);
        return [columns, names.length ? columns[names[0]].length : 0];
    };
    const figures = [], seen = new Set();
    const visit = (view) => {
        if (!view || seen.has(view)) return;
        seen.add(view);
        const model = view.model;
        if (model && (model.type === "Figure" || model.type === "Plot") && inside(view.el)) {
            const glyphs = model.renderers.filter((r) => r.type === "GlyphRenderer").map((r) => {
                const [columns, n] = rows(r.data_source.data);
                const image = columns.image && columns.image[0];
                const shape = image ? (image.shape ? Array.from(image.shape)
                                                   : [image.length, (image[0] || []).length])
                                    : null;
                return {type: r.glyph.type, rows: n, shape};
            });
            figures.push({title: model.title ? model.title.text : "", glyphs});
        }
        for (const child of view.child_views || []) visit(child);
    };
    for (const root of Object.values(Bokeh.index)) visit(root);
    return figures;
}"""


def is_external_noise(message_text: str, location_url: str) -> bool:
    """Console errors that are not the app's.

    Only the browser's own request for /favicon.ico: Chromium asks for it on every page,
    and a 404 for it says nothing about the dashboard. Everything else counts.
    """
    return location_url.endswith("/favicon.ico") or (
        "favicon.ico" in message_text and "404" in message_text
    )


class AppPage:
    """One browser tab on the dashboard (its own browser context, so its own session)."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(ROUND_TRIP_MS)
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if not is_external_noise(message.text, where):
            self.errors.append(f"console error: {message.text} ({where})")

    # --- navigation --------------------------------------------------------------------
    def open(self, query: str = "") -> AppPage:
        self.page.goto(f"{self.base_url}/app{query}", wait_until="load", timeout=60_000)
        # the dashboard is built once the page has loaded (app/page/deferred_page.py); its step
        # counter and view tabs show once their styles apply
        self.counter_locator.wait_for(state="visible", timeout=60_000)
        self.page.locator(".view-tabs").first.wait_for(state="visible", timeout=60_000)
        return self

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=f"/tmp/browser-{name}.png")

    # --- reading -----------------------------------------------------------------------
    @property
    def counter_locator(self):
        return self.page.locator(".step-counter div").first

    def step_count(self) -> int:
        text = self.counter_locator.inner_text()
        match = re.fullmatch(r"\s*step (\d+)\s*", text)
        assert match, f"step counter reads {text!r}"
        return int(match.group(1))

    def loss_text(self) -> str:
        return self.page.locator(".loss-value div").first.inner_text().strip()

    def note(self, key: str) -> str:
        notes = self.page.locator(f".view-{key} .view-note div")
        return " ".join(text.strip() for text in notes.all_inner_texts())

    def loss_curve(self) -> list[tuple[float, float]]:
        """The (step, loss) points in the browser's copy of the loss plot's data source."""
        return self.page.evaluate(
            """() => {
                let best = [];
                for (const doc of Bokeh.documents) {
                    for (const model of doc.all_models) {
                        if (model.type !== "ColumnDataSource") continue;
                        const data = model.data instanceof Map
                            ? Object.fromEntries(model.data) : model.data;
                        const keys = Object.keys(data).sort().join(",");
                        if (keys !== "loss,step") continue;
                        const points = Array.from(data.step, (s, i) => [s, data.loss[i]]);
                        if (points.length > best.length) best = points;
                    }
                }
                return best;
            }"""
        )

    def canvas_paint(self, key: str) -> list[dict]:
        """Per visible canvas of a view: its size and the fraction of non-white pixels."""
        return self.page.locator(f".view-{key} canvas").evaluate_all(
            """canvases => canvases.map(canvas => {
                const rect = canvas.getBoundingClientRect();
                const result = {width: rect.width, height: rect.height, painted: 0};
                if (!canvas.width || !canvas.height) return result;
                const context = canvas.getContext("2d");
                if (!context) return result;
                const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0, total = 0;
                for (let i = 0; i < pixels.length; i += 16) {  // every 4th pixel
                    total += 1;
                    const [r, g, b, a] = pixels.slice(i, i + 4);
                    if (a > 0 && (r < 235 || g < 235 || b < 235)) painted += 1;
                }
                result.painted = painted / total;
                return result;
            })"""
        )

    def figures(self, key: str) -> list[dict]:
        """The Bokeh figures drawn inside a view, from BokehJS's own views of them.

        Each: ``{"title": str, "glyphs": [{"type", "rows", "shape"}]}`` where ``rows`` is the
        length of the glyph's data source and ``shape`` the first image's shape (images).
        """
        return self.page.evaluate(FIGURES_JS, f"view-{key}")

    # --- acting ------------------------------------------------------------------------
    def click(self, css: str, text: str | None = None) -> None:
        locator = self.page.locator(css)
        if text is not None:
            locator = locator.filter(has_text=text)
        locator.first.click()

    def play(self) -> None:
        self.click(".play-button button")

    def step(self) -> None:
        self.click(".step-button button")

    def show_view(self, key: str) -> None:
        self.click(".view-tabs .bk-tab", VIEW_TITLES[key])

    def set_architecture(self, text: str) -> None:
        box = self.page.locator(".architecture-input input").first
        box.fill(text)
        box.press("Enter")  # a TextInput sends its value on Enter (or blur)

    # --- waiting -----------------------------------------------------------------------
    def wait_until(self, condition, what: str, timeout_ms: int = ROUND_TRIP_MS):
        """Poll ``condition()`` (Python, may read the page) until truthy; fail naming ``what``."""
        deadline = time.monotonic() + timeout_ms / 1000
        last = None
        while True:
            try:
                value = condition()
            except AssertionError as error:  # e.g. a counter caught mid-update
                value, last = None, error
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout_ms} ms waiting for {what}"
                    + (f" ({last})" if last else "")
                )
            self.page.wait_for_timeout(100)

    def settled_step_count(self, quiet_ms: int = 1000, timeout_ms: int = ROUND_TRIP_MS) -> int:
        """The step counter once it has stayed the same for ``quiet_ms`` (after Pause, the
        frame owed to the page can land after the button reads Play on a loaded machine)."""
        seen = {"count": self.step_count(), "since": time.monotonic()}

        def quiet() -> bool:
            count = self.step_count()
            if count != seen["count"]:
                seen.update(count=count, since=time.monotonic())
            return time.monotonic() - seen["since"] >= quiet_ms / 1000

        self.wait_until(quiet, f"the step counter to stay the same for {quiet_ms} ms", timeout_ms)
        return seen["count"]

    def wait_for_steps(self, at_least: int, timeout_ms: int = ROUND_TRIP_MS) -> int:
        return self.wait_until(
            lambda: (n := self.step_count()) >= at_least and n,
            f"the step counter to reach {at_least}",
            timeout_ms,
        )

    def wait_for_drawn_view(self, key: str, min_painted: float = 0.015) -> list[dict]:
        """Wait until the view holds a Bokeh figure whose glyphs have data and a canvas of
        it is painted (at least ``min_painted`` of its pixels not white); its figures."""

        def drawn():
            figures = self.figures(key)
            with_data = [f for f in figures if any(g["rows"] > 0 for g in f["glyphs"])]
            canvases = [c for c in self.canvas_paint(key) if c["width"] > 50 and c["height"] > 50]
            painted = any(c["painted"] >= min_painted for c in canvases)
            return figures if with_data and painted else None

        return self.wait_until(drawn, f"a drawn Bokeh plot with data in the view {key!r}")

    def figure(self, key: str, title_start: str) -> dict | None:
        """The figure of a view whose title starts with ``title_start`` (None if not drawn)."""
        for figure in self.figures(key):
            if figure["title"].startswith(title_start):
                return figure
        return None

    def image_shape(self, key: str, title_start: str) -> tuple[int, ...] | None:
        figure = self.figure(key, title_start)
        for glyph in (figure or {}).get("glyphs", []):
            if glyph["shape"]:
                return tuple(glyph["shape"])
        return None

    def assert_no_errors(self) -> None:
        assert not self.errors, "errors in the browser console:\n" + "\n".join(self.errors)


@pytest.fixture
def open_app(browser, server):
    """``open_app(query="")`` -> an AppPage in a fresh browser context (its own session)."""
    contexts = []

    def make(query: str = "", viewport=(1400, 1000), phone: bool = False) -> AppPage:
        """``phone=True``: a phone's browser (mobile layout rules, touch, twice the pixels),
        which lays out a page without a viewport tag 980 px wide."""
        options = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2} if phone else {}
        context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, **options
        )
        contexts.append(context)
        return AppPage(context, server).open(query)

    yield make
    for context in contexts:
        context.close()
