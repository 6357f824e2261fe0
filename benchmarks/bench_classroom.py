"""A class on one server: N Chromium pages playing at once, and what one worker process holds.

Part 1, browsers. Serves the app with the real make target (``make serve WORKERS=W`` on a
free loopback port, ``serve/launch.py``), opens N pages of Debian's Chromium, each in its own
browser context (its own Bokeh session, its own HAProxy cookie), all at once as a class
arriving, presses Play on each and watches them for a while. In each page a
MutationObserver on the step counter (``.step-counter``, reading "step N") records every
visible change with the page's own clock. Per N it prints, per page and as median / worst:

* visible updates/s: changes of the step counter seen in the page;
* SGD steps/s: from the counter's values;
* worst gap: the longest time between two visible updates (the window's ends count);
* the time until all N pages had drawn their step counter (and, once, what a first visit
  downloads: the page, its scripts and stylesheets, ``serve/downloads.py``);
* server CPU per visible update: CPU time of every server process (make's descendants:
  supervisor, HAProxy, workers; ``/proc``) over the window, divided by all pages' updates;
* where the machine's CPU went over the window, in cores: the server's processes on a CPU
  and the time their threads waited, runnable, for one (the kernel's scheduler statistics,
  ``/proc/PID/task/TID/schedstat``), and the browsers' processes (Chromium, Playwright's
  driver). A server that waits for a CPU far longer than it runs is held back by the
  browsers sharing its cores, not by its own work.

With ``--burst K``, K plain ``GET`` requests of the page's address (no cookie, no script run:
link previews, a reload burst) arrive all at once a third into the window, through the
balancer as a new visitor's would; it prints how long they took to be answered and the
students' worst gap between visible updates while they were (from the burst's first request
to its last answer, on each page's clock), beside the same for the pages' whole window.

Then the same N pages of the reference page (``benchmarks/reference_page.py``: one Bokeh
line and a step counter, 20 NumPy steps per frame, one ``panel serve`` process), measured the
same way right after, and the app's figures as ratios of its: what the app costs beyond the
least a live Panel page costs the server and the browsers on this machine
(``--no-reference`` skips it).

Part 2, the server's capacity without browsers. ``make serve WORKERS=1`` (one process) and S
light clients that speak Bokeh's websocket protocol (``bokeh.protocol``, one asyncio loop):
each opens a session as a browser would (session token, ACK, PULL-DOC), sends Bokeh's
DocumentReady, reads the dashboard's models the server then builds and sends
(``app/page/deferred_page.py``), clicks the Play button, then only reads the server's PATCH-DOC
messages, counting those that change the step counter, without building or rendering any
document. So the browsers' own cost does not hide the server's. Prints per session
updates/s and steps/s, and the server's CPU per visible update.

Part 3, the per-view per-frame server cost table of ``benchmarks/frame_costs.py``.

The issue's targets are printed beside the figures with "met" or "NOT met". Everything runs
on 127.0.0.1; each part is bounded (``--seconds``, load timeouts) and stops its processes.
Timings on a shared machine are noisy.

Run from the repository root::

    python -m benchmarks.bench_classroom                       # N = 1, 10, 30 on WORKERS=2
    python -m benchmarks.bench_classroom --pages 1,3 --light-sessions 5 --seconds 10
    python -m benchmarks.bench_classroom --pages 30 --speed 20   # trains as the reference does
    python -m benchmarks.bench_classroom --pages 3 --seconds 5 --burst 10 --no-reference \
        --light-sessions 0 --no-frame-costs                   # 10 link previews while 3 play

By default each page asks for ``?speed=0``: the app trains as fast as each session's share of
the server allows (the load the targets were set for; the app's own default is a slower pace a
class can watch). On a machine where the server and the browsers share the cores, that
training takes CPU time the browsers would draw with. ``--speed N`` puts ``?speed=N`` in each
page's address instead (N SGD steps per frame at most); with 20 the app trains as the
reference page does, so the two compare like for like.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import shutil
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

from app.controls.sidebar import FASTEST
from app.live.receipts import RECEIPT_EVERY
from serve.downloads import first_visit, transfer_line
from serve.launch import Served, cpu_seconds, descendants
from serve.page_session import DOCUMENT_READY

REFERENCE_PAGE = Path(__file__).resolve().with_name("reference_page.py")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOAD_TIMEOUT_MS = 180_000
VIEWPORT = {"width": 1400, "height": 1000}
STEP = re.compile(r"\bstep (\d+)")

# The targets (issue 9), checked against the figures below.
TARGET_ONE_PAGE = {"steps_per_s": 1000, "updates_per_s": 20}
TARGET_CLASS = {"median_updates_per_s": 4, "min_updates_per_s": 2, "steps_per_s": 100,
                "worst_gap_s": 3.0, "load_s": 25.0, "pages": 30, "workers": 2}
TARGET_LIGHT = {"sessions": 30, "updates_per_s": 10, "steps_per_s": 100, "cpu_ms_per_update": 3.0}

OBSERVE_JS = """(host) => {
    const root = host.shadowRoot || host;
    const read = () => {
        const match = /\\bstep (\\d+)/.exec(root.textContent || "");
        return match ? Number(match[1]) : null;
    };
    window.__updates = [[performance.now(), read()]];
    new MutationObserver(() => {
        const step = read(), last = window.__updates[window.__updates.length - 1];
        if (step !== null && step !== last[1]) window.__updates.push([performance.now(), step]);
    }).observe(root, {subtree: true, childList: true, characterData: true});
}"""


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def chromium_executable() -> str | None:
    path = os.environ.get("HESSIAN_LAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


@dataclass
class PageFigures:
    updates_per_s: float
    steps_per_s: float
    worst_gap_s: float


def page_figures(updates: list[list[float]], start_ms: float, end_ms: float) -> PageFigures:
    """Figures of one page from its (time ms, step) records over the window [start, end]."""
    before = [u for u in updates if u[0] <= start_ms]
    inside = [u for u in updates if start_ms < u[0] <= end_ms]
    seconds = (end_ms - start_ms) / 1000
    first_step = before[-1][1] if before and before[-1][1] is not None else None
    last_step = inside[-1][1] if inside else first_step
    steps = (last_step - first_step) if first_step is not None and last_step is not None else 0
    times = [start_ms] + [u[0] for u in inside] + [end_ms]
    worst_gap = max(b - a for a, b in zip(times, times[1:], strict=False)) / 1000
    return PageFigures(len(inside) / seconds, steps / seconds, worst_gap)


async def open_page(browser, url: str):
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await load(page, url)
    return context, page


async def load(page, url: str) -> None:
    """Open ``url`` in ``page`` and wait until its step counter is drawn."""
    await page.goto(url, wait_until="load", timeout=LOAD_TIMEOUT_MS)
    await page.locator(".step-counter div").first.wait_for(state="visible",
                                                           timeout=LOAD_TIMEOUT_MS)


@dataclass
class CpuSample:
    """CPU seconds so far: the server's processes, their threads' wait for a CPU (None where
    the kernel keeps no scheduler statistics), and the browsers' processes."""

    server: float
    server_waiting: float | None
    browsers: float


def cpu_sample(served: Served) -> CpuSample:
    """The server's processes are ``served``'s; the browsers' are every other descendant of
    this process (Playwright's driver and the Chromium it launched)."""
    server_pids = served.server_pids()
    scheduling = served.scheduling_seconds()
    others = set(descendants(os.getpid())) - set(server_pids) - {os.getpid()}
    return CpuSample(server=sum(cpu_seconds(pid) for pid in server_pids),
                     server_waiting=scheduling[1] if scheduling is not None else None,
                     browsers=sum(cpu_seconds(pid) for pid in others))


def cpu_shares(start: CpuSample, end: CpuSample, seconds: float) -> dict:
    """Cores used over a window from two samples (CPU seconds per second)."""
    waiting = (None if start.server_waiting is None or end.server_waiting is None
               else (end.server_waiting - start.server_waiting) / seconds)
    return {"server": (end.server - start.server) / seconds, "server_waiting": waiting,
            "browsers": (end.browsers - start.browsers) / seconds}


def cpu_line(shares: dict) -> str:
    waiting = shares["server_waiting"]
    return (f"CPU in the window, in cores (of {os.cpu_count()}): server {shares['server']:.2f} "
            + (f"on a CPU, its threads {waiting:.2f} waiting for one" if waiting is not None
               else "(no scheduler statistics on this kernel)")
            + f"; browsers {shares['browsers']:.2f}")


def plain_get(url: str) -> int | str:
    """One plain GET of ``url``, as a link preview makes it: its status, or why none came."""
    try:
        with urlopen(url, timeout=LOAD_TIMEOUT_MS / 1000) as response:
            response.read()
            return response.status
    except HTTPError as error:
        return error.code
    except (URLError, OSError) as error:
        return type(error).__name__


async def plain_gets(url: str, count: int, opened: list) -> dict:
    """``count`` plain GETs of ``url`` at once; the pages' clocks before the first and
    after the last answer, to read their worst gap in between."""
    before = [await page.evaluate("performance.now()") for _, page in opened]
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=count) as pool:
        statuses = await asyncio.gather(*(loop.run_in_executor(pool, plain_get, url)
                                          for _ in range(count)))
    answered_s = time.monotonic() - started
    after = [await page.evaluate("performance.now()") for _, page in opened]
    return {"count": count, "statuses": statuses, "answered_s": answered_s,
            "before": before, "after": after}


async def browser_run(url: str, pages: int, seconds: float, served: Served,
                      burst: int = 0) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS, headless=True,
            timeout=60_000,
        )
        try:
            started = time.monotonic()
            results = await asyncio.gather(*(open_page(browser, url) for _ in range(pages)),
                                           return_exceptions=True)
            load_s = time.monotonic() - started
            opened = [result for result in results if not isinstance(result, BaseException)]
            failed = [result for result in results if isinstance(result, BaseException)]
            if not opened:
                raise RuntimeError(f"none of the {pages} pages loaded: {failed[0]}")
            for _, page in opened:
                host = await page.locator(".step-counter").first.element_handle()
                await page.evaluate(OBSERVE_JS, host)
            for _, page in opened:
                await page.locator(".play-button button").first.click()
            await asyncio.sleep(min(3.0, seconds / 4))  # every loop running before the window
            starts = [await page.evaluate("performance.now()") for _, page in opened]
            cpu_start = cpu_sample(served)
            window_started = time.monotonic()
            burst_run = None
            if burst:
                await asyncio.sleep(seconds / 3)
                burst_run = await plain_gets(url, burst, opened)
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - window_started)))
            cpu_end = cpu_sample(served)
            ends = [await page.evaluate("performance.now()") for _, page in opened]
            records = [await page.evaluate("window.__updates") for _, page in opened]
        finally:
            await browser.close()
    figures = [page_figures(r, s, e) for r, s, e in zip(records, starts, ends, strict=True)]
    total_updates = sum(f.updates_per_s for f in figures) * seconds
    cpu_used = cpu_end.server - cpu_start.server
    if burst_run is not None:
        burst_run["gaps"] = [page_figures(r, b, a).worst_gap_s for r, b, a in
                             zip(records, burst_run["before"], burst_run["after"], strict=True)]
    return {"load_s": load_s, "pages": figures, "burst": burst_run,
            "cpu_shares": cpu_shares(cpu_start, cpu_end, seconds),
            "not_loaded": [f"{type(error).__name__}: {str(error).splitlines()[0]}"
                           for error in failed],
            "cpu_ms_per_update": 1000 * cpu_used / total_updates if total_updates else None}


class ReferenceServed(Served):
    """``panel serve benchmarks/reference_page.py``: one process (set up as the app's are)."""

    page = "/reference_page"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "panel", "serve", str(REFERENCE_PAGE),
                "--address", "127.0.0.1", "--port", str(self.port),
                f"--allow-websocket-origin=127.0.0.1:{self.port}"]


def browser_summary(run: dict) -> dict:
    """Median and worst figures of one Chromium run."""
    figures: list[PageFigures] = run["pages"]
    updates = [f.updates_per_s for f in figures]
    steps = [f.steps_per_s for f in figures]
    return {"median_updates": statistics.median(updates), "min_updates": min(updates),
            "median_steps": statistics.median(steps), "min_steps": min(steps),
            "worst_gap": max(f.worst_gap_s for f in figures), "load_s": run["load_s"],
            "cpu_ms": run["cpu_ms_per_update"], "not_loaded": run.get("not_loaded", [])}


def summary_line(s: dict) -> str:
    return (f"median updates/s {s['median_updates']:.1f}, slowest page {s['min_updates']:.1f}; "
            f"median SGD steps/s {s['median_steps']:.1f}, slowest {s['min_steps']:.1f}; "
            f"worst gap {s['worst_gap']:.2f} s; all pages loaded in {s['load_s']:.1f} s; "
            "server CPU per visible update "
            + (f"{s['cpu_ms']:.1f} ms" if s["cpu_ms"] is not None else "- (no update)"))


def app_address(page_url: str, speed: int | None) -> str:
    """The page's address, with the training speed in its query when one is asked for."""
    return page_url if speed is None else f"{page_url}?speed={speed}"


def speed_text(speed: int | None) -> str:
    return "" if speed is None else f", training speed {speed} steps / frame (?speed={speed})"


def print_browser_run(pages: int, workers: int, run: dict, speed: int | None = None) -> None:
    figures: list[PageFigures] = run["pages"]
    print(f"\n## {pages} Chromium page(s) on make serve WORKERS={workers}{speed_text(speed)}")
    print("page  updates/s  SGD steps/s  worst gap (s)")
    for i, f in enumerate(figures, start=1):
        print(f"{i:4d}  {f.updates_per_s:9.1f}  {f.steps_per_s:11.1f}  {f.worst_gap_s:13.2f}")
    s = browser_summary(run)
    not_loaded = s["not_loaded"]
    if not_loaded:
        print(f"{len(not_loaded)} of {pages} pages did not load within "
              f"{LOAD_TIMEOUT_MS / 1000:.0f} s (left out of the figures): {not_loaded[0]}")
    print(summary_line(s))
    print(cpu_line(run["cpu_shares"]))
    if run.get("burst") is not None:
        print(burst_line(run["burst"]))
    if pages == 1:
        t = TARGET_ONE_PAGE
        steps, updates = s["median_steps"], s["median_updates"]
        print(f"target 1 page: >= {t['steps_per_s']} SGD steps/s: {steps:.0f} "
              f"{verdict(steps >= t['steps_per_s'])}; >= {t['updates_per_s']} visible "
              f"updates/s: {updates:.1f} {verdict(updates >= t['updates_per_s'])}")
    if pages == TARGET_CLASS["pages"]:
        t = TARGET_CLASS
        where = "" if workers == t["workers"] else f" (measured on WORKERS={workers})"
        if speed is not None:
            where += f" (at speed {speed}, not the app's default)"
        print(f"target {pages} pages on WORKERS={t['workers']}{where}:")
        print(f"  median >= {t['median_updates_per_s']} updates/s: {s['median_updates']:.1f} "
              f"{verdict(s['median_updates'] >= t['median_updates_per_s'])}")
        print(f"  every page >= {t['min_updates_per_s']} updates/s: {s['min_updates']:.1f} "
              f"{verdict(s['min_updates'] >= t['min_updates_per_s'])}")
        print(f"  >= {t['steps_per_s']} SGD steps/s per page: slowest {s['min_steps']:.0f} "
              f"{verdict(s['min_steps'] >= t['steps_per_s'])}")
        print(f"  worst gap <= {t['worst_gap_s']} s: {s['worst_gap']:.2f} "
              f"{verdict(s['worst_gap'] <= t['worst_gap_s'])}")
        print(f"  all pages loaded in <= {t['load_s']} s: {s['load_s']:.1f}"
              + (f" ({len(not_loaded)} never loaded)" if not_loaded else "") + " "
              + verdict(s['load_s'] <= t['load_s'] and not not_loaded))


def burst_line(burst: dict) -> str:
    statuses = sorted({str(status) for status in burst["statuses"]})
    gaps = burst["gaps"]
    return (f"burst of {burst['count']} plain GETs (status {', '.join(statuses)}) answered in "
            f"{burst['answered_s']:.2f} s; students' worst update gap during it "
            f"{max(gaps):.2f} s (median page {statistics.median(gaps):.2f} s)")


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def print_reference_run(pages: int, app_run: dict, reference_run: dict) -> None:
    """The reference page's figures and the app's as ratios of them (same N, same window)."""
    app, ref = browser_summary(app_run), browser_summary(reference_run)
    print(f"\n## {pages} Chromium page(s) of the reference page "
          "(benchmarks/reference_page.py, one panel serve process)")
    if ref["not_loaded"]:
        print(f"{len(ref['not_loaded'])} of {pages} pages did not load: {ref['not_loaded'][0]}")
    print(summary_line(ref))
    print(cpu_line(reference_run["cpu_shares"]))
    print(f"app / reference: median updates/s {ratio(app['median_updates'], ref['median_updates'])}"
          f", slowest page {ratio(app['min_updates'], ref['min_updates'])}; "
          f"worst gap {ratio(app['worst_gap'], ref['worst_gap'])}; "
          f"load time {ratio(app['load_s'], ref['load_s'])}; "
          f"server CPU per update {ratio(app['cpu_ms'], ref['cpu_ms'])}")
    no_worse = (app["median_updates"] >= ref["median_updates"]
                and app["min_updates"] >= ref["min_updates"]
                and app["worst_gap"] <= ref["worst_gap"] and app["load_s"] <= ref["load_s"])
    print(f"no worse than the reference page (updates/s as high, gap and load time as short): "
          f"{verdict(no_worse)}")


# --- the light client ---------------------------------------------------------------------
@dataclass
class PageModels:
    """What a light client needs of the served document (found by the CSS hooks)."""

    play: str | None = None  # the Play button
    counter: str | None = None  # the data model whose "step" is the step counter's text
    text: str | None = None  # the counter's text when the document was pulled
    receipts: str | None = None  # the frame readouts component (app/live/receipts.py)
    frame: str | None = None  # the data model whose "frame" is the number of the last frame


def _esm_data(attributes: dict) -> tuple[str | None, dict]:
    """(id, attributes) of a Panel JSComponent's data model, where its parameters live."""
    data = attributes.get("data")
    if isinstance(data, dict) and "id" in data:
        return data["id"], data.get("attributes") or {}
    return None, {}


def _find_models(document_json: dict) -> PageModels:
    """The Play button and the frame readouts (the step counter, the frame's number),
    from PULL-DOC."""
    found = PageModels()
    stack = [document_json]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            attributes = node.get("attributes")
            if node.get("type") == "object" and isinstance(attributes, dict):
                classes = attributes.get("css_classes") or []
                if isinstance(classes, dict):  # serialised as {"type": "list", ...}? keep going
                    classes = classes.get("entries", [])
                if "play-button" in classes and "label" in attributes:
                    found.play = node["id"]
                if "frame-readouts" in classes:  # a JSComponent (app/live/receipts.py)
                    found.receipts = node["id"]
                    found.frame, data = _esm_data(attributes)
                    found.counter, found.text = found.frame, data.get("step")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _found_in(earlier: PageModels, later: PageModels) -> PageModels:
    """The models found so far: ``earlier``'s, and ``later``'s where ``earlier`` has none."""
    return PageModels(**{name: getattr(earlier, name) if getattr(earlier, name) is not None
                         else getattr(later, name) for name in vars(earlier)})


def receipt(receipts_id: str, frame) -> dict:
    """The event a page sends when it has painted ``frame`` (Panel's ESM DataEvent)."""
    return {"kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": "data_event",
                         "values": {"model": {"id": receipts_id}, "data": frame}}}


async def light_session(url: str, seconds: float, ready: asyncio.Event,
                        window: dict) -> dict:
    """One session through Bokeh's protocol; its (time, step) step-counter updates."""
    from bokeh.client.websocket import WebSocketClientConnectionWrapper
    from bokeh.protocol import Protocol
    from bokeh.protocol.messages.patch_doc import patch_doc
    from bokeh.protocol.receiver import Receiver
    from bokeh.util.token import generate_jwt_token, generate_session_id
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import WebSocketClosedError, websocket_connect

    protocol = Protocol()
    receiver = Receiver(protocol)
    token = generate_jwt_token(generate_session_id())
    # a class arriving at once: the server builds the sessions one after another, so a
    # connection may wait longer than Tornado's default 20 s for its document
    request = HTTPRequest(f"{url.replace('http', 'ws', 1)}/app/ws",
                          connect_timeout=LOAD_TIMEOUT_MS / 1000,
                          request_timeout=LOAD_TIMEOUT_MS / 1000)
    socket = await websocket_connect(request, subprotocols=["bokeh", token],
                                     max_message_size=64 * 1024 * 1024)
    connection = WebSocketClientConnectionWrapper(socket)

    async def next_message():
        while True:
            fragment = await socket.read_message()
            if fragment is None:
                raise ConnectionError("the server closed the websocket")
            message = await receiver.consume(fragment)
            if message is not None:
                return message

    ack = await next_message()
    assert ack.msgtype == "ACK", ack.msgtype
    await protocol.create("PULL-DOC-REQ").send(connection)
    reply = await next_message()
    if reply.msgtype != "PULL-DOC-REPLY":
        raise RuntimeError(f"PULL-DOC answered with {reply.msgtype}: {reply.content}")
    # what BokehJS sends once it has rendered the document (Bokeh's serialised DocumentReady):
    # the server builds the page's dashboard then (app/page/deferred_page.py) and sends its models,
    # read here as they come (the document itself is never built here)
    await patch_doc(patch_doc.create_header(), {}, {"events": [DOCUMENT_READY]}).send(connection)
    models = _find_models(reply.content)
    while models.play is None or models.counter is None or models.frame is None:
        try:
            message = await asyncio.wait_for(next_message(), LOAD_TIMEOUT_MS / 1000)
        except TimeoutError:
            raise RuntimeError("no model with the CSS class play-button or frame-readouts in "
                               "the page's document: the app's stable hooks changed") from None
        if message.msgtype == "PATCH-DOC":
            models = _found_in(models, _find_models(message.content))
    play, counter, text = models.play, models.counter, models.text
    # a click on Play (Bokeh's serialised ButtonClick event)
    click = {"kind": "MessageSent", "msg_type": "bokeh_event",
             "msg_data": {"type": "event", "name": "button_click",
                          "values": {"model": {"id": play}}}}
    await patch_doc(patch_doc.create_header(), {}, {"events": [click]}).send(connection)
    ready.set()

    updates: list[tuple[float, int]] = []
    match = STEP.search(text or "")
    last = int(match.group(1)) if match else None

    async def close_at_the_end() -> None:  # a read is never cancelled halfway through a message
        deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000 + seconds + 60  # a safety bound
        while "end" not in window and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        socket.close()

    closer = asyncio.create_task(close_at_the_end())
    try:
        while True:
            try:
                message = await next_message()
            except ConnectionError:  # closed at the end of the window
                break
            if message.msgtype != "PATCH-DOC":
                continue
            for event in message.content.get("events", []):
                model = event.get("model") or {}
                if event.get("kind") != "ModelChanged":
                    continue
                if model.get("id") == counter and event.get("attr") == "step":
                    found = STEP.search(str(event.get("new")))
                    if found and int(found.group(1)) != last:
                        last = int(found.group(1))
                        updates.append((time.monotonic(), last))
                if (model.get("id") == models.frame and event.get("attr") == "frame"
                        and int(event.get("new")) % RECEIPT_EVERY == 0):
                    # receipt the frame at once, as a page that paints in no time would (the
                    # page receipts every RECEIPT_EVERY-th frame, app/live/receipts.py)
                    try:
                        await patch_doc(patch_doc.create_header(), {}, {"events": [receipt(
                            models.receipts, event.get("new"))]}).send(connection)
                    except WebSocketClosedError:  # closed at the end of the window
                        break
    finally:
        socket.close()
        closer.cancel()
    return {"updates": updates, "first_step": int(match.group(1)) if match else 0}


async def light_run(url: str, sessions: int, seconds: float, cpu) -> dict:
    window: dict = {}
    readies = [asyncio.Event() for _ in range(sessions)]
    tasks = [asyncio.create_task(light_session(url, seconds, ready, window))
             for ready in readies]
    waiting = asyncio.ensure_future(asyncio.gather(*(r.wait() for r in readies)))
    deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
    while not waiting.done():  # every session started, or one failed, or the time is up
        left = deadline - time.monotonic()
        if left <= 0:
            window["end"] = time.monotonic()
            raise TimeoutError(f"the {sessions} light sessions did not all start")
        done, _ = await asyncio.wait([waiting, *tasks], timeout=left,
                                     return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task in done:  # a session ended before the window: it failed
                window["end"] = time.monotonic()
                task.result()
                raise RuntimeError("a light session closed before the measurement")
    await asyncio.sleep(min(3.0, seconds / 4))
    window["start"], cpu_start = time.monotonic(), cpu()
    await asyncio.sleep(seconds)
    window["end"], cpu_used = time.monotonic(), cpu() - cpu_start
    results = await asyncio.gather(*tasks)
    per_session = []
    for result in results:
        updates = [u for u in result["updates"] if window["start"] < u[0] <= window["end"]]
        earlier = [u for u in result["updates"] if u[0] <= window["start"]]
        first = earlier[-1][1] if earlier else result["first_step"]
        steps = (updates[-1][1] - first) if updates else 0
        per_session.append((len(updates) / seconds, steps / seconds))
    total = sum(u for u, _ in per_session) * seconds
    return {"sessions": per_session,
            "cpu_ms_per_update": 1000 * cpu_used / total if total else None,
            "cpu_share": cpu_used / seconds}


def print_light_run(sessions: int, run: dict) -> None:
    updates = [u for u, _ in run["sessions"]]
    steps = [s for _, s in run["sessions"]]
    print(f"\n## {sessions} light sessions (Bokeh protocol, no rendering) on ONE worker "
          "(make serve WORKERS=1)")
    print("session  updates/s  SGD steps/s")
    for i, (u, s) in enumerate(run["sessions"], start=1):
        print(f"{i:7d}  {u:9.1f}  {s:11.1f}")
    cpu = run["cpu_ms_per_update"]
    print(f"median updates/s {statistics.median(updates):.1f}, slowest {min(updates):.1f}; "
          f"median SGD steps/s {statistics.median(steps):.1f}, slowest {min(steps):.1f}; "
          f"server CPU {run['cpu_share']:.2f} cores, "
          + (f"{cpu:.1f} ms per visible update" if cpu is not None else "no update"))
    t = TARGET_LIGHT
    note = "" if sessions >= t["sessions"] else f" (measured with {sessions} sessions only)"
    print(f"target: one worker holds >= {t['sessions']} sessions at >= {t['updates_per_s']} "
          f"updates/s and >= {t['steps_per_s']} SGD steps/s each{note}: slowest "
          f"{min(updates):.1f} updates/s "
          f"{verdict(sessions >= t['sessions'] and min(updates) >= t['updates_per_s'])}, "
          f"{min(steps):.0f} steps/s "
          f"{verdict(sessions >= t['sessions'] and min(steps) >= t['steps_per_s'])}")
    if cpu is not None:
        print(f"target <= {t['cpu_ms_per_update']} server CPU-ms per visible update (training "
              f"steps included): {cpu:.1f} {verdict(cpu <= t['cpu_ms_per_update'])}")


def frame_cost_table() -> None:
    print("\n## Per-view per-frame server cost (benchmarks/frame_costs.py)")
    if importlib.util.find_spec("benchmarks.frame_costs") is None:
        print("not measured: benchmarks/frame_costs.py is not in this checkout yet")
        return
    from benchmarks.frame_costs import measure, report

    print(report(measure()))


def parse_counts(text: str, name: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise SystemExit(f"{name} must be positive whole numbers separated by commas, "
                         f"not {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_classroom",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="1,10,30",
                        help="Chromium page counts, comma separated (default 1,10,30)")
    parser.add_argument("--workers", type=int, default=2,
                        help="make serve WORKERS for the pages (default 2)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measuring window per run (default 20)")
    parser.add_argument("--light-sessions", type=int, default=30,
                        help="light client sessions on one worker (default 30; 0 skips)")
    parser.add_argument("--speed", type=int, default=FASTEST,
                        help="the app's training speed in each page's address, most SGD steps "
                             "per frame, 0 to 1000 (default 0, fastest: the load the targets "
                             "were set for; the app's own default is a slower, watchable "
                             "pace); 20 trains as the reference page does")
    parser.add_argument("--burst", type=int, default=0,
                        help="plain GETs of the page (link previews) sent at once a third "
                             "into each app run's window (default 0: none)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium part")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the reference page's Chromium runs")
    parser.add_argument("--no-frame-costs", action="store_true",
                        help="skip the per-view frame cost table")
    args = parser.parse_args(argv)
    pages = parse_counts(args.pages, "--pages")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, not {args.workers}")
    if args.speed is not None and not 0 <= args.speed <= 1000:
        parser.error(f"--speed must be a whole number of steps per frame from 0 (fastest) "
                     f"to 1000, not {args.speed}")
    if args.burst < 0:
        parser.error(f"--burst must be >= 0, not {args.burst}")
    if args.seconds <= 0 or args.light_sessions < 0:
        parser.error("--seconds must be > 0 and --light-sessions >= 0")

    print("# bench_classroom: timings on a shared machine are noisy; "
          f"{os.cpu_count()} CPUs, window {args.seconds:g} s per run")
    if not args.no_browser:
        executable = chromium_executable()
        try:
            import playwright  # noqa: F401
        except ImportError:
            executable = None
            print("\nChromium part skipped: the Python package playwright is missing "
                  "(pip install -e '.[test]')")
        if executable is None and not os.environ.get("HESSIAN_LAB_CHROMIUM"):
            print("\nChromium part skipped: no Chromium (apt-get install chromium, or set "
                  "HESSIAN_LAB_CHROMIUM)")
        elif executable is not None:
            for index, count in enumerate(pages):
                with Served(workers=args.workers) as served:
                    if index == 0:
                        where = ("through the balancer" if args.workers > 1
                                 else "from the one process")
                        print("\n" + transfer_line(first_visit(served.page_url), where))
                    run = asyncio.run(browser_run(app_address(served.page_url, args.speed),
                                                  count, args.seconds, served, args.burst))
                print_browser_run(count, args.workers, run, args.speed)
                if not args.no_reference:
                    with ReferenceServed() as served:
                        reference = asyncio.run(browser_run(served.page_url, count,
                                                            args.seconds, served))
                    print_reference_run(count, run, reference)
    if args.light_sessions:
        with Served(workers=1) as served:
            run = asyncio.run(light_run(served.url, args.light_sessions, args.seconds,
                                        served.cpu_seconds))
        print_light_run(args.light_sessions, run)
    if not args.no_frame_costs:
        frame_cost_table()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
