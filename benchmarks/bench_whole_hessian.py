"""CPU time of one whole-Hessian product H @ v beside one gradient, for the same network.

Run from the repository root: ``python -m benchmarks.bench_whole_hessian`` (``--quick`` for
a short run). For an FNN 2-64-64-1 tanh and an RNN 2-16-16-1 tanh (tau 10), with 500 and 50
samples, it times in alternating rounds

* "gradient": ``net.gradients(X, Z_target)`` (forward pass and back-propagation);
* "matvec": ``H.matvec(v)`` of ``H = net.whole_hessian(X, Z_target)`` built once (the
  second-order forward and backward sweep; the forward pass and adjoints are H's own);
* "GGN matvec": the same for ``H.gauss_newton()``.

Reported: the median CPU time (``time.process_time``) per call in ms and the ratio to the
gradient's. Compare the columns of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from hessian_core import FNN, RNN  # noqa: E402


def _median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return 1e3 * statistics.median(times)


def _cases():
    rng = np.random.default_rng(0)
    fnn = FNN.random((2, 64, 64, 1), activation="tanh", seed=0)
    yield "FNN 2-64-64-1 tanh, r=500", fnn, (rng.normal(size=(500, 2)),
                                             rng.normal(size=(500, 1))), {}
    rnn = RNN.random((2, 16, 16, 1), activation="tanh", seed=0)
    yield "RNN 2-16-16-1 tanh, tau=10, r=50", rnn, (rng.normal(size=(50, 10, 2)),
                                                    rng.normal(size=(50, 10, 1))), {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke run)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 30
    for label, net, (X, Z), options in _cases():
        H = net.whole_hessian(X, Z, **options)
        G = H.gauss_newton()
        v = np.random.default_rng(1).normal(size=H.size)
        calls = {
            "gradient": lambda net=net, X=X, Z=Z: net.gradients(X, Z),
            "matvec": lambda H=H, v=v: H.matvec(v),
            "GGN matvec": lambda G=G, v=v: G.matvec(v),
        }
        results = {name: [] for name in calls}
        for _ in range(3):  # alternating rounds: load falls on all alike
            for name, call in calls.items():
                results[name].append(_median_ms(call, repeats))
        base = statistics.median(results["gradient"])
        print(f"{label} (P = {H.size})")
        for name, values in results.items():
            ms = statistics.median(values)
            print(f"  {name:11s} {ms:8.3f} ms   x{ms / base:5.2f} of a gradient")


if __name__ == "__main__":
    main()
