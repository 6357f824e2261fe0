"""Milliseconds per dashboard tick, for each view, headless (no browser, no server).

Each configuration builds an :class:`app.Dashboard`, renders it into a Bokeh ``Document``
(so the HoloViews DynamicMaps really redraw, as in a served session, minus the websocket),
presses Play and runs :meth:`Dashboard.tick` on the served app's schedule (a call every
50 ms; as with Tornado's periodic callback, a call whose time has passed is skipped) for a
few seconds, one SGD step per tick, with the visible view redrawing (``refresh_every=1``; a
redraw is spread over several ticks, its heavy core computations run on the session's worker
thread, and a view whose redraw is expensive is redrawn less often, by the dashboard's own
rules). Output, one line per view::

    tick <model> <view> <ms> ms

where <ms> is the mean wall-clock time a tick takes (training, counters, redraws included).
Below 50 ms the loop keeps its 20 ticks per second. Comment lines give, for each view, the
mean CPU time of this process per tick (what a tick costs when the machine is not shared),
the median full redraw time, the redraws per second and the ticks per second reached.

Target: <= 50 ms (20 ticks per second) for a 2-16-16-1 ReLU FNN at batch 16 and for an RNN
with one hidden level of width 16 and tau = 16 (layer sizes 1-16-1), batch 16.

Run from the repository root: ``python -m benchmarks.bench_app [--seconds S]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

CONFIGURATIONS = {
    "fnn": dict(model="fnn", architecture="2-16-16-1", activation="relu",
                output_activation="identity", dataset="xor", batch_size=16),
    "rnn": dict(model="rnn", levels=1, hidden_width=16, tau=16, activation="relu",
                output_activation="identity", task="sine", batch_size=16),
}


#: the sparse-vs-full view is timed with a sparse rule in force (two runs trained per step)
VIEW_SETTINGS = {
    ("fnn", "sparse"): dict(sparse="topk", topk="0.25"),
    ("rnn", "sparse"): dict(sparse="truncate", truncate=4),
}


def run_view(model: str, view: str, seconds: float) -> dict:
    """Run the tick loop on one view; timings in milliseconds."""
    import panel as pn
    from bokeh.document import Document

    from app import Dashboard
    from app.dashboard import TICK_PERIOD_MS

    dashboard = Dashboard(view=view, refresh_every=1, steps_per_tick=1, **CONFIGURATIONS[model],
                          **VIEW_SETTINGS.get((model, view), {}))
    pn.panel(dashboard).get_root(Document())
    redraws = []
    for _ in range(3):  # warm up and time full redraws
        start = time.perf_counter()
        dashboard.refresh_view()
        redraws.append((time.perf_counter() - start) * 1000.0)
    dashboard.start_worker()  # as Play does: heavy core work runs off the tick
    dashboard.session.running = True
    period = TICK_PERIOD_MS / 1000.0
    durations, cpu, redrawn = [], [], 0
    begin = time.perf_counter()
    deadline = begin
    while time.perf_counter() - begin < seconds:
        last = dashboard._last_redraw_end
        start, start_cpu = time.perf_counter(), time.process_time()
        dashboard.tick()
        end = time.perf_counter()
        durations.append((end - start) * 1000.0)
        cpu.append((time.process_time() - start_cpu) * 1000.0)
        redrawn += dashboard._last_redraw_end != last
        # like Tornado's PeriodicCallback: the next call is at the next multiple of the
        # period from the start; calls whose time has passed are skipped
        deadline += period
        if deadline < end:
            deadline += period * ((end - deadline) // period + 1)
        time.sleep(max(0.0, deadline - time.perf_counter()))
    total = time.perf_counter() - begin
    if not dashboard.session.running:
        raise RuntimeError(f"{model}/{view}: training paused: {dashboard.session.status}")
    if dashboard.views[view].note.startswith("**Could not draw"):
        raise RuntimeError(f"{model}/{view}: {dashboard.views[view].note}")
    dashboard.close()
    return {
        "tick": statistics.fmean(durations),
        "cpu": statistics.fmean(cpu),
        "redraw": statistics.median(redraws),
        "redraws_per_second": redrawn / total,
        "ticks_per_second": len(durations) / total,
    }


def main() -> None:
    from app.settings import VIEWS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="tick loop length per view")
    args = parser.parse_args()
    print("# headless dashboard tick (one SGD step + the visible view), "
          f"{args.seconds:g} s per view on the 50 ms schedule; target <= 50 ms per tick")
    print("# fnn: 2-16-16-1 ReLU, batch 16; rnn: 1-16-1 ReLU (one hidden level, width 16), "
          "tau 16, batch 16")
    print("# view sparse: trained with fnn top-k 0.25 / rnn truncated BPTT K = 4, beside a "
          "full-backprop twin (three backward passes per step)")
    for model in CONFIGURATIONS:
        for view in VIEWS:
            result = run_view(model, view, args.seconds)
            print(f"tick {model} {view} {result['tick']:.1f} ms", flush=True)
            print(f"#   cpu {result['cpu']:.1f} ms per tick, "
                  f"full redraw {result['redraw']:.1f} ms, "
                  f"{result['redraws_per_second']:.1f} redraws/s, "
                  f"{result['ticks_per_second']:.1f} ticks/s", flush=True)


if __name__ == "__main__":
    main()
