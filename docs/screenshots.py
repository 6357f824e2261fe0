"""Screenshots of every lesson and every view, to look at before a release.

Run from the repository root::

    .venv/bin/python docs/screenshots.py --out /tmp/screens            # all of it
    .venv/bin/python docs/screenshots.py --out /tmp/screens --lessons kronecker --sizes 1024x768

It starts ``panel serve app`` on a free loopback port (or uses ``--url``), opens Debian's
Chromium headless (``HESSIAN_LAB_CHROMIUM``, else ``chromium`` on the PATH), and writes

* ``lesson-KEY-WxH-start.png``: the lesson as its link opens it, before any step;
* ``lesson-KEY-WxH-played.png``: after ``--play`` seconds of Play and a Pause;
* ``view-MODEL-VIEW-WxH.png``: every view of the FNN and the RNN at its defaults, after a few
  steps;

and ``index.md``: one line per screenshot with the step counter it showed and the page errors
seen (BokehJS errors, uncaught exceptions), so that a run can be checked before the images
are looked at. The exit status is 1 when any page showed an error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.configuration.lessons import LESSONS  # noqa: E402
from app.configuration.settings import VIEW_TITLES  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = ("1024x768", "1600x1000")
#: how long a page may take to show its step counter (ms; a loaded machine is slow)
LOAD_MS = 90_000
COUNTER = ".step-counter div"


def size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a size is WIDTHxHEIGHT, e.g. 1024x768, not {text!r}") from None
    if not (200 <= width <= 4000 and 200 <= height <= 4000):
        raise argparse.ArgumentTypeError(f"{text}: width and height take 200 to 4000 pixels")
    return width, height


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    panel = Path(sys.executable).with_name("panel")
    command = [str(panel) if panel.exists() else "panel", "serve", "app", "--port", str(port),
               "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"panel serve exited with status {process.returncode}")
        try:
            with urlopen(url + "/app", timeout=10):
                return process, url
        except (URLError, OSError):
            time.sleep(0.25)
    process.kill()
    raise SystemExit("panel serve did not answer within 90 s")


class Shooter:
    """One browser; each shot in a fresh page whose errors are recorded."""

    def __init__(self, browser, url: str, out: Path, play_s: float) -> None:
        self.browser, self.url, self.out, self.play_s = browser, url, out, play_s
        self.lines: list[str] = []
        self.failed = False

    def open(self, query: str, width: int, height: int):
        page = self.browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" else None)
        page.goto(f"{self.url}/app{query}")
        page.locator(COUNTER).first.wait_for(state="visible", timeout=LOAD_MS)
        page.wait_for_timeout(1500)  # the first frame's drawing
        return page, errors

    def shoot(self, page, errors: list[str], name: str) -> None:
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path))
        counter = page.locator(COUNTER).first.inner_text().strip()
        verdict = "no page error" if not errors else "ERRORS: " + " | ".join(errors[:3])
        self.failed |= bool(errors)
        self.lines.append(f"- `{path.name}`: {counter}; {verdict}")
        print(self.lines[-1], flush=True)

    def play(self, page) -> None:
        button = page.locator(".play-button button").first
        button.click()
        page.wait_for_timeout(int(self.play_s * 1000))
        button.click()
        page.locator(".play-button button", has_text="Play").first.wait_for(timeout=LOAD_MS)
        page.wait_for_timeout(1500)  # the frame owed at Pause

    def lesson(self, key: str, width: int, height: int) -> None:
        page, errors = self.open(f"?lesson={key}", width, height)
        try:
            self.shoot(page, errors, f"lesson-{key}-{width}x{height}-start")
            self.play(page)
            self.shoot(page, errors, f"lesson-{key}-{width}x{height}-played")
        finally:
            page.close()

    def view(self, model: str, view: str, width: int, height: int) -> None:
        page, errors = self.open(f"?model={model}&view={view}", width, height)
        try:
            for _ in range(3):
                page.locator(".step-button button").first.click()
                page.wait_for_timeout(300)
            page.wait_for_timeout(1500)
            self.shoot(page, errors, f"view-{model}-{view}-{width}x{height}")
        finally:
            page.close()


def shoot_all(browser, url: str, out: Path, sizes, lessons, views, play_s: float) -> Shooter:
    """Every screenshot asked for, with a Playwright browser; writes ``out/index.md``."""
    out.mkdir(parents=True, exist_ok=True)
    shooter = Shooter(browser, url.rstrip("/"), out, play_s)
    for width, height in sizes:
        for key in lessons:
            shooter.lesson(key, width, height)
        for model in ("fnn", "rnn"):
            for view in views:
                shooter.view(model, view, width, height)
    (out / "index.md").write_text("# Screenshots\n\n" + "\n".join(shooter.lines) + "\n")
    return shooter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs and index.md")
    parser.add_argument("--url", default=None,
                        help="a running server's base URL (default: start panel serve app)")
    parser.add_argument("--sizes", type=size, nargs="+", default=[size(s) for s in SIZES],
                        help="viewport sizes, WIDTHxHEIGHT (default: 1024x768 1600x1000)")
    keys = [lesson.key for lesson in LESSONS]
    parser.add_argument("--lessons", nargs="*", default=keys, choices=keys, metavar="KEY",
                        help="lesson keys (default: all; none: no lesson)")
    parser.add_argument("--views", nargs="*", default=list(VIEW_TITLES),
                        choices=list(VIEW_TITLES), metavar="VIEW",
                        help="views shown for FNN and RNN (default: all; none: no view)")
    parser.add_argument("--play", type=float, default=5.0,
                        help="seconds of Play before a lesson's second screenshot (default 5)")
    args = parser.parse_args(argv)
    if not 0 < args.play <= 120:
        parser.error("--play takes more than 0 and at most 120 seconds")
    chromium = (os.environ.get("HESSIAN_LAB_CHROMIUM") or shutil.which("chromium")
                or "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    process, url = (None, args.url) if args.url else start_server()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                shooter = shoot_all(browser, url, args.out, args.sizes, args.lessons,
                                    args.views, args.play)
            finally:
                browser.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
    return 1 if shooter.failed else 0


if __name__ == "__main__":
    sys.exit(main())
