"""Measuring one case of the spectra benchmark, in a worker process of its own.

For one case (:mod:`benchmarks.networks`: W^(1) of a width x width tanh layer, FNN at batch r or
RNN at output time t) the worker builds the network once in NumPy and measures, on that same
network and batch:

- ``exact (factors)``: hessian_core ``net.hessian(...)`` + ``.eigvalsh()`` (the Gram
  reduction: one (m*q) x (m*q) eigenproblem), from network and data to eigenvalues;
- ``dense + numpy``: hessian_core's ``.dense()`` + ``numpy.linalg.eigvalsh``;
- ``torch.func``: ``torch.func.hessian`` w.r.t. W^(1) + ``torch.linalg.eigvalsh``;
- for k = 1 and 10, the k largest eigenvalues by ``top_eigenvalues`` (hessian_core, matrix-free
  Lanczos through the factors), ``eigsh`` (scipy ARPACK over torch Hessian-vector products),
  ``curvlinops`` (its HessianLinearOperator + eigsh) and ``PyHessian`` (power iteration).

Wall time: best of up to 5 runs (repeated while under 0.3 s in total, and at least two runs
unless one takes over 5 s; the torch-based top-k peers best of two on the same rule), after
every method has run once on a tiny network in the same process (imports, lazy initialisation).
Peak memory: the process's resident-set high-water mark during one run, minus the resident
set before it (Linux: /proc/self/clear_refs resets the mark for each method; the allocator's
mmap threshold is pinned by :mod:`benchmarks.spectra_grid` so that freed arrays leave the
resident set) -- the same measure for NumPy and torch. Error: max_i |lambda_i - lambda_i(exact)|
/ max_i |lambda_i(exact)| over the eigenvalues a method returns, against the factors' exact
spectrum; the factors' own error is measured against torch.func's independent dense spectrum
where that runs. PyHessian's power iteration returns the largest |lambda|, so it is compared
with those.

Dense routes run up to m*n = DENSE_LIMIT parameters; beyond, the row is "skipped" and
:func:`benchmarks.spectra_report.explain_skips` says why.

The worker prints one line, ``RESULT`` followed by the case's records as JSON:
``python -m benchmarks.spectra_measure CASE_JSON [--backend numpy|cupy]``
(:func:`benchmarks.spectra_grid.run_grid` starts it, one process per case).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.networks import Case

#: Dense routes (hessian_core .dense(), torch.func.hessian) run up to this many parameters m*n.
DENSE_LIMIT = 4096
#: Lanczos tolerance for every top-k method (relative residual; ARPACK: relative Ritz accuracy).
TOLERANCE = 1e-10
#: PyHessian: power-iteration tolerance on the relative eigenvalue change, and steps per value.
PYHESSIAN_TOLERANCE = 1e-10
PYHESSIAN_STEPS = 1000
TOP_K = (1, 10)
FULL_METHODS = ("exact (factors)", "dense + numpy", "torch.func")
TOP_METHODS = ("top_eigenvalues", "eigsh (torch HVP)", "curvlinops", "PyHessian")


def runs_dense(case: Case) -> bool:
    return case.parameters <= DENSE_LIMIT


def runs_top(case: Case, method: str, k: int) -> bool:
    """Top-k peers: FNN widths up to 256 at batch <= 8 (the target's range) and every RNN
    (PyHessian's ten-fold power iteration only for k = 1 there: it takes many seconds);
    hessian_core's top_eigenvalues everywhere."""
    if method == "top_eigenvalues":
        return True
    if case.kind == "rnn":
        return method != "PyHessian" or k == 1
    return case.width <= 256 and case.batch <= 8


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measure(function: Callable[[], object], min_total: float = 0.3, max_runs: int = 5):
    """(result, best seconds, peak bytes above the resident set before the first run)."""
    reset = _reset_peak()
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    result = function()
    best = time.perf_counter() - start
    peak = (_status_kib("VmHWM") - before) * 1024 if reset else None
    total, runs = best, 1
    while runs < max_runs and (total < min_total or (runs < 2 and best < 5.0)):
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        best, total, runs = min(best, elapsed), total + elapsed, runs + 1
    return result, best, peak


def relative_error(values, reference) -> float:
    import numpy as np

    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    return float(np.max(np.abs(values - reference)) / max(np.max(np.abs(reference)), 1e-300))


def run_case(case: Case, backend: str) -> list[dict]:
    """Every method on one case; one record per (method, k)."""
    import numpy as np

    from benchmarks import networks

    xp = np if backend == "numpy" else _cupy()
    sync = (lambda: None) if backend == "numpy" else xp.cuda.Device().synchronize
    records: list[dict] = []

    def record(method, k, seconds=None, peak=None, values=None, error=None, status="ok", **extra):
        records.append(dict(case=case.as_dict(), method=method, k=k, seconds=seconds,
                            peak_bytes=peak, error=error, status=status, **extra))

    def host(values):
        return np.asarray(values.get() if hasattr(values, "get") else values, dtype=float)

    data = networks.arrays(case)

    def exact():
        values = networks.core_hessian(case, data, xp).eigvalsh()
        sync()
        return values

    values, seconds, peak = measure(exact)
    reference = host(values)
    hessian = networks.core_hessian(case, data, xp)
    _, eig_seconds, _ = measure(lambda: (hessian.eigvalsh(), sync()))
    _, build_seconds, _ = measure(lambda: (networks.core_hessian(case, data, xp), sync()))
    rng = np.random.default_rng(0)
    square = xp.asarray(rng.standard_normal((case.reduced_size, case.reduced_size)))
    square = square + square.T
    _, bare_seconds, _ = measure(lambda: (xp.linalg.eigvalsh(square), sync()))
    record("exact (factors)", None, seconds, peak, error=None, eig_seconds=eig_seconds,
           build_seconds=build_seconds, bare_eigvalsh_seconds=bare_seconds)
    exact_record = records[-1]

    torch_values = None
    if runs_dense(case):
        def dense():
            values = xp.linalg.eigvalsh(networks.core_hessian(case, data, xp).dense())
            sync()
            return values

        values, seconds, peak = measure(dense)
        record("dense + numpy" if backend == "numpy" else "dense + cupy", None, seconds, peak,
               error=relative_error(host(values), reference))
    else:
        record("dense + numpy", None, status="skipped")

    torch_ok = backend == "numpy"
    if torch_ok:
        from benchmarks import torch_peers

        problem = torch_peers.Problem(case, data)
    if torch_ok and runs_dense(case):
        torch_values, seconds, peak = measure(lambda: torch_peers.dense_spectrum(problem))
        record("torch.func", None, seconds, peak, error=relative_error(torch_values, reference))
        exact_record["error"] = relative_error(reference, torch_values)
        exact_record["error_against"] = "torch.func"
    else:
        record("torch.func", None, status="skipped" if torch_ok else "no torch on this backend")

    from hessian_core.lanczos import top_eigenvalues

    by_magnitude = reference[np.argsort(-np.abs(reference), kind="stable")]
    for k in TOP_K:
        largest = reference[-k:]

        def core_top(k=k):
            values = top_eigenvalues(networks.core_hessian(case, data, xp), k, tol=TOLERANCE)
            sync()
            return values

        values, seconds, peak = measure(core_top)
        record("top_eigenvalues", k, seconds, peak, error=relative_error(host(values), largest))
        peers = {
            "eigsh (torch HVP)": lambda k=k: torch_peers.eigsh_hvp(problem, k, TOLERANCE),
            "curvlinops": lambda k=k: torch_peers.curvlinops_eigsh(problem, k, TOLERANCE),
            "PyHessian": lambda k=k: torch_peers.pyhessian_top(
                problem, k, PYHESSIAN_TOLERANCE, PYHESSIAN_STEPS),
        }
        for method, function in peers.items():
            if not torch_ok:
                record(method, k, status="no torch on this backend")
                continue
            if not runs_top(case, method, k):
                record(method, k, status="outside the top-k grid")
                continue
            if not _installed(method):
                record(method, k, status="not installed")
                continue
            try:
                values, seconds, peak = measure(function, min_total=0.0, max_runs=2)
            except Exception as error:  # a peer failing is a result, not a crash
                record(method, k, status=f"failed: {type(error).__name__}: {error}"[:120])
                continue
            target = np.sort(by_magnitude[:k]) if method == "PyHessian" else largest
            record(method, k, seconds, peak, error=relative_error(values, target))
    return records


def _installed(method: str) -> bool:
    import importlib.util

    module = {"curvlinops": "curvlinops", "PyHessian": "pyhessian"}.get(method)
    return module is None or importlib.util.find_spec(module) is not None


def _cupy():
    import cupy

    return cupy


def warm_up(backend: str) -> None:
    """Run every method once on a tiny network, so that no timing pays for first calls."""
    import warnings

    warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
    for case in (Case("fnn", 6, 2), Case("rnn", 4, 2, steps=3)):
        run_case(case, backend)


def worker(case_json: str, backend: str) -> None:
    case = Case(**json.loads(case_json))
    warm_up(backend)
    print("RESULT " + json.dumps(run_case(case, backend)), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure one case (a worker of run_grid).")
    parser.add_argument("case", help="the case as JSON (Case.as_dict())")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    args = parser.parse_args(argv)
    worker(args.case, args.backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
