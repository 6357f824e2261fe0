"""Where one Chromium page's time goes: the app beside the reference page, one page at a time.

``benchmarks/bench_classroom.py`` finds that with 30 pages on this machine the browsers, not
the server, hold the class back. This measures why, for one page at a time: three servers
run side by side, the app (``make serve``, one process), the app served without the BokehJS
shims of ``app/page/browser_shims.py`` (``HESSIAN_LAB_BROWSER_SHIMS=off``) and the reference page
(``benchmarks/reference_page.py``, the least a live Panel page can be, stock BokehJS); one
page of each is measured in turn, ``--repeats`` rounds, every page in a new browser context
(nothing cached between them, as for a student's first visit). Per page:

* loading, until the step counter is drawn: the wall time; the page's main thread (Chromium's
  own accounting, the DevTools protocol's ``Performance.getMetrics``: all its tasks, and of
  them script, style recalculation and layout); the CPU time of all Chromium's processes and
  of the server's;
* what is on the page once loaded: elements (shadow trees included), shadow roots (Panel and
  Bokeh give every component one), ``<style>`` elements and the kilobytes of CSS text in them,
  stylesheet links, and the elements inside the settings panel (``.sidebar``);
* playing, for ``--seconds`` after Play: visible updates/s (changes of the step counter, seen
  in the page as ``bench_classroom`` sees them), and per visible update the main thread's
  time (all tasks, script, style, layout), its style recalculations, and the CPU time of
  Chromium's processes and of the server's.

Printed: the median of the rounds for each, and the app's figure as a ratio of the
reference's and of the app's without the shims. Nothing here is a target; it says what the
shims save and where a lighter page would have to save more. Timings on a shared machine
are noisy: compare the columns of one run.

Run from the repository root: ``python -m benchmarks.bench_page [--repeats R] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.page import browser_shims  # noqa: E402
from benchmarks.bench_classroom import (  # noqa: E402
    CHROMIUM_ARGS,
    OBSERVE_JS,
    VIEWPORT,
    ReferenceServed,
    chromium_executable,
    cpu_sample,
    load,
    open_page,
    ratio,
)
from serve.launch import Served  # noqa: E402

#: Chromium's main-thread metrics (``Performance.getMetrics``), in seconds but the count
MAIN_THREAD = {"TaskDuration": "main thread, all tasks", "ScriptDuration": "  script",
               "RecalcStyleDuration": "  style recalculation", "LayoutDuration": "  layout"}
STYLE_RECALCS = "RecalcStyleCount"

#: the page's weight, counted through every open shadow root
WEIGHT_JS = """() => {
    const count = {elements: 0, shadow_roots: 0, styles: 0, style_chars: 0, links: 0,
                   sidebar: 0};
    const walk = (node, inSidebar) => {
        count.elements++;
        if (inSidebar) count.sidebar++;
        if (node.tagName === "STYLE") {
            count.styles++;
            count.style_chars += node.textContent.length;
        }
        if (node.tagName === "LINK" && node.rel === "stylesheet") count.links++;
        const inside = inSidebar || (node.classList && node.classList.contains("sidebar"));
        if (node.shadowRoot) {
            count.shadow_roots++;
            for (const child of node.shadowRoot.children) walk(child, inside);
        }
        for (const child of node.children) walk(child, inside);
    };
    walk(document.documentElement, false);
    return count;
}"""


def metric_deltas(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """``after - before`` for the main-thread metrics and the style recalculations."""
    return {key: after[key] - before[key] for key in (*MAIN_THREAD, STYLE_RECALCS)}


def per_update(deltas: dict[str, float], browser_s: float, server_s: float,
               updates: int, seconds: float) -> dict[str, float]:
    """The playing window's figures: updates/s, and per visible update the main thread's
    times and CPU times in ms and the style recalculations (None without an update)."""
    row: dict[str, float | None] = {"updates_per_s": updates / seconds}
    per = (lambda value, scale=1000: scale * value / updates) if updates else (lambda *_: None)
    for key in MAIN_THREAD:
        row[key] = per(deltas[key])
    row[STYLE_RECALCS] = per(deltas[STYLE_RECALCS], 1)
    row["browser_cpu_ms"], row["server_cpu_ms"] = per(browser_s), per(server_s)
    return row


def medians(rows: list[dict]) -> dict:
    """Key by key, the median of the rows' values that are not None (None if none is)."""
    out = {}
    for key in rows[0]:
        values = [row[key] for row in rows if row[key] is not None]
        out[key] = statistics.median(values) if values else None
    return out


def visible_updates(records: list[list[float]]) -> int:
    """Changes of the step counter after the first record (``OBSERVE_JS``'s list)."""
    return max(len(records) - 1, 0)


async def main_thread(cdp) -> dict[str, float]:
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    return {metric["name"]: metric["value"] for metric in metrics}


async def sample(cdp, served: Served) -> tuple[dict[str, float], float, float]:
    """(main-thread metrics, Chromium's CPU seconds, the server's CPU seconds) so far
    (``bench_classroom.cpu_sample``'s accounting of the processes)."""
    cpu = cpu_sample(served)
    return await main_thread(cdp), cpu.browsers, cpu.server


def differences(before: tuple, after: tuple) -> tuple[dict[str, float], float, float]:
    """What two :func:`sample` s say happened between them."""
    return (metric_deltas(before[0], after[0]), after[1] - before[1], after[2] - before[2])


async def measure_page(browser, served: Served, seconds: float) -> tuple[dict, dict, dict]:
    """(loading, weight, playing) of one page in a new context (see the module)."""
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        before = await sample(cdp, served)
        started = time.perf_counter()
        await load(page, served.page_url)
        wall = time.perf_counter() - started
        await asyncio.sleep(0.5)  # what the first paint set off
        metrics, browser_s, server_s = differences(before, await sample(cdp, served))
        loading = {"wall_s": wall, **metrics, "browser_cpu_s": browser_s,
                   "server_cpu_s": server_s}
        weight = await page.evaluate(WEIGHT_JS)
        host = await page.locator(".step-counter").first.element_handle()
        await page.locator(".play-button button").first.click()
        await asyncio.sleep(1.0)  # the loop running before the window
        await page.evaluate(OBSERVE_JS, host)
        before = await sample(cdp, served)
        await asyncio.sleep(seconds)
        metrics, browser_s, server_s = differences(before, await sample(cdp, served))
        updates = visible_updates(await page.evaluate("window.__updates"))
        return loading, weight, per_update(metrics, browser_s, server_s, updates, seconds)
    finally:
        await context.close()


#: what is measured, with the server that serves it: the app, the app served without
#: ``app.page.browser_shims`` (``HESSIAN_LAB_BROWSER_SHIMS=off``), the reference page
SUBJECTS = {
    "app": lambda: Served(workers=1),
    "app, no shims": lambda: Served(workers=1, env={browser_shims.VARIABLE: "off"}),
    "reference": ReferenceServed,
}


async def measure_all(servers: dict[str, Served], repeats: int, seconds: float) -> dict:
    """Medians over ``repeats`` pages of each server, taken in turn (one page of each, then
    the next round), after one page each that warms the servers up (imports, first session)
    and is not counted."""
    from playwright.async_api import async_playwright

    rows: dict[str, list] = {name: [] for name in servers}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS, headless=True,
            timeout=60_000)
        try:
            for served in servers.values():
                context, _ = await open_page(browser, served.page_url)
                await context.close()
            for _ in range(repeats):
                for name, served in servers.items():
                    rows[name].append(await measure_page(browser, served, seconds))
        finally:
            await browser.close()
    results = {}
    for name, measured in rows.items():
        loads, weights, plays = zip(*measured, strict=True)
        results[name] = {"load": medians(list(loads)), "weight": medians(list(weights)),
                         "play": medians(list(plays))}
    return results


def measure(repeats: int = 3, seconds: float = 8.0) -> dict[str, dict]:
    """:data:`SUBJECTS` by name: every server started, then their pages in turn."""
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(make()) for name, make in SUBJECTS.items()}
        return asyncio.run(measure_all(servers, repeats, seconds))


def _cell(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def report(results: dict[str, dict], repeats: int, seconds: float) -> str:
    """The side-by-side table of :func:`measure`'s results: each subject, then the app as a
    ratio of the reference and of the app without the shims."""
    names = list(results)
    app, bare, ref = results["app"], results["app, no shims"], results["reference"]
    lines = [f"# One Chromium page at a time, median of {repeats} pages of each (in turn, each "
             f"in a new context); {seconds:g} s playing",
             f"{'':38}" + "".join(f" {name:>14}" for name in names)
             + f" {'app/reference':>14} {'app/no shims':>13}"]

    def row(label, section, key, scale=1.0, digits=1):
        cells = "".join(f" {_cell(results[name][section][key], scale, digits):>14}"
                        for name in names)
        a = app[section][key]
        lines.append(f"{label:38}{cells} {ratio(a, ref[section][key]):>14} "
                     f"{ratio(a, bare[section][key]):>13}")

    lines.append("loading, until the step counter is drawn")
    row("  wall time (s)", "load", "wall_s", digits=2)
    for key, label in MAIN_THREAD.items():
        row(f"  {label} (ms)", "load", key, scale=1000, digits=0)
    row("  Chromium's processes, CPU (s)", "load", "browser_cpu_s", digits=2)
    row("  server's processes, CPU (s)", "load", "server_cpu_s", digits=2)
    lines.append("on the page once loaded")
    for key, label in (("elements", "elements"), ("shadow_roots", "shadow roots"),
                       ("styles", "<style> elements"), ("links", "stylesheet links"),
                       ("sidebar", "elements in the settings panel")):
        row(f"  {label}", "weight", key, digits=0)
    row("  CSS text in <style> elements (KiB)", "weight", "style_chars", scale=1 / 1024, digits=0)
    lines.append("playing, per visible update")
    row("  visible updates/s", "play", "updates_per_s")
    for key, label in MAIN_THREAD.items():
        row(f"  {label} (ms)", "play", key, digits=2)
    row("  style recalculations", "play", STYLE_RECALCS)
    row("  Chromium's processes, CPU (ms)", "play", "browser_cpu_ms")
    row("  server's processes, CPU (ms)", "play", "server_cpu_ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_page",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="pages measured per server")
    parser.add_argument("--seconds", type=float, default=8.0, help="playing window per page")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, not {args.repeats}")
    if args.seconds <= 0:
        parser.error(f"--seconds must be positive, not {args.seconds}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("# bench_page: not measured, the Python package playwright is missing "
              "(pip install -e '.[test]')")
        return 0
    if chromium_executable() is None:
        print("# bench_page: not measured, no Chromium (apt-get install chromium, or set "
              "HESSIAN_LAB_CHROMIUM)")
        return 0
    print(report(measure(args.repeats, args.seconds), args.repeats, args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
