"""Memory a served process keeps per closed session: this garbage-collection policy beside
CPython's own, in one run.

For each policy a server (``make serve``, one process) is started; ``--warm-up`` sessions
are opened and closed, then ``--sessions`` more, one after another, each built over Bokeh's
websocket as a page builds it and closed at once (``serve/churn.py``: Bokeh
destroys a closed session within a second). Printed per policy: the process's resident
memory after the warm-up and after the sessions, once Bokeh destroyed them, and the growth
per closed session. The policies: ``freeze`` (``app/page/gc_policy.py``: sessions frozen once
built, one full collection after sessions end) and ``off`` (``HESSIAN_LAB_GC_FREEZE=off``:
CPython's collector as it comes). A closed session kept whole costs some 5 MB; a growth
near zero means closed sessions give their memory back.

Run from the repository root: ``python -m benchmarks.bench_session_memory [--sessions N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from serve.churn import (  # noqa: E402
    open_and_close,
    served_for_churn,
    settled_rss_mb,
)

POLICIES = {"freeze": {"HESSIAN_LAB_GC_FREEZE": "on"},
            "off": {"HESSIAN_LAB_GC_FREEZE": "off"}}


def measure(policy: str, warm_up: int, sessions: int, log_dir: Path) -> dict[str, float]:
    with served_for_churn(log_dir / f"{policy}.log", env=POLICIES[policy]) as served:
        start = time.monotonic()
        open_and_close(served, warm_up)
        before = settled_rss_mb(served, warm_up)
        open_and_close(served, sessions)
        after = settled_rss_mb(served, warm_up + sessions)
        return {"before": before, "after": after, "per_session": (after - before) / sessions,
                "seconds": time.monotonic() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10,
                        help="sessions opened and closed after the warm-up (default 10)")
    parser.add_argument("--warm-up", type=int, default=3,
                        help="sessions opened and closed first (default 3)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.warm_up < 1:
        parser.error("--sessions and --warm-up must be >= 1")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-session-memory-") as log_dir:
        for policy in POLICIES:
            results[policy] = measure(policy, args.warm_up, args.sessions, Path(log_dir))
    print(f"{args.sessions} sessions opened and closed after {args.warm_up}, one server each")
    print(f"{'policy':<8} {'RSS before MB':>14} {'RSS after MB':>13} {'MB/session':>11} "
          f"{'seconds':>8}")
    for policy, result in results.items():
        print(f"{policy:<8} {result['before']:>14.0f} {result['after']:>13.0f} "
              f"{result['per_session']:>11.2f} {result['seconds']:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
