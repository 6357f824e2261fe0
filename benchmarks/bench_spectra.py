"""Exact layer spectra from the Kronecker factors, side by side with today's tools.

For each case of the grid (:mod:`benchmarks.networks`: W^(1) of a width x width tanh layer,
FNN at batch r or RNN at output time t) one worker process builds the network once in NumPy
and measures, on that same network and batch:

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
mmap threshold is pinned so that freed arrays leave the resident set) -- the same measure for
NumPy and torch. Error: max_i |lambda_i - lambda_i(exact)| / max_i |lambda_i(exact)| over the
eigenvalues a method returns, against the factors' exact spectrum; the factors' own error is
measured against torch.func's independent dense spectrum where that runs. PyHessian's power
iteration returns the largest |lambda|, so it is compared with those.

Dense routes run up to m*n = DENSE_LIMIT parameters; beyond, the row says why not: the
memory the dense Hessian would need, or the time its eigvalsh would take (extrapolated as
n^3 from the largest one measured).

Run from the repository root: ``python benchmarks/bench_spectra.py`` (or ``make bench``);
``--quick`` for a small grid, ``--backend cupy`` on a GPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.networks import Case  # noqa: E402

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
WORKER_TIMEOUT = 900

GRID = [
    *[Case("fnn", width, 1) for width in (16, 64, 256, 1024, 2048)],
    *[Case("fnn", width, 8) for width in (16, 32, 64, 128, 256)],
    *[Case("fnn", width, 32) for width in (16, 64)],
    Case("rnn", 8, 1, steps=4),
    Case("rnn", 8, 1, steps=32),
    Case("rnn", 16, 1, steps=8),
    Case("rnn", 32, 1, steps=16),
    Case("rnn", 64, 1, steps=8),
    Case("rnn", 64, 1, steps=32),
    Case("rnn", 16, 4, steps=8),
]
#: ``--full`` adds these (minutes more): the exact spectrum at m*q = 4096.
LARGE = [Case("fnn", 512, 8)]
QUICK_GRID = [Case("fnn", 16, 1), Case("fnn", 32, 8), Case("rnn", 8, 1, steps=4)]


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


# --- measurement (worker side) ---------------------------------------------------------------


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


# --- the grid (parent side) --------------------------------------------------------------------


def machine() -> dict:
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) * 1024
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return dict(cores=os.cpu_count(), memory_bytes=memory, cpu=cpu,
                python=platform.python_version(), load=os.getloadavg())


def run_grid(cases: list[Case], backend: str, threads: int) -> list[dict]:
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[variable] = str(threads)
    records: list[dict] = []
    for case in cases:
        started = time.perf_counter()
        command = [sys.executable, "-m", "benchmarks.bench_spectra", "--worker",
                   json.dumps(case.as_dict()), "--backend", backend]
        try:
            done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True,
                                  text=True, timeout=WORKER_TIMEOUT)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise RuntimeError(f"worker exited {done.returncode}: {' | '.join(tail)}")
            records += json.loads(lines[-1][len("RESULT "):])
        except (subprocess.TimeoutExpired, RuntimeError) as error:
            records.append(dict(case=case.as_dict(), method="(all)", k=None, seconds=None,
                                peak_bytes=None, error=None, status=f"failed: {error}"[:200]))
        print(f"  {case.name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return records


def explain_skips(records: list[dict], memory_bytes: int) -> None:
    """Turn 'skipped' dense rows into the reason: memory needed, or extrapolated time."""
    measured = {}
    for method in ("dense + numpy", "torch.func"):
        rows = [r for r in records if r["method"] == method and r["seconds"]]
        if rows:
            largest = max(rows, key=lambda r: Case(**r["case"]).parameters)
            measured[method] = (Case(**largest["case"]).parameters, largest["seconds"])
    for row in records:
        if row["status"] != "skipped":
            continue
        case = Case(**row["case"])
        need = case.dense_bytes
        if need > memory_bytes / 2:  # the Hessian plus eigvalsh's copy and workspace
            row["status"] = (f"does not fit: needs {_size(need)} for H alone "
                             f"({_size(memory_bytes)} RAM)")
        elif row["method"] in measured:
            order, seconds = measured[row["method"]]
            estimate = seconds * (case.parameters / order) ** 3
            row["status"] = f"not run: H is {_size(need)}, eigvalsh est. {estimate:,.0f} s"
        else:
            row["status"] = f"not run: H is {_size(need)}"


def _size(count: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count:.0f} B"


# --- report ----------------------------------------------------------------------------------


def _seconds(value) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def _memory(value) -> str:
    return "-" if value is None else f"{max(value, 0) / 1e6:.1f}"


def _error(value) -> str:
    return "-" if value is None else f"{value:.1e}"


def table_rows(records: list[dict]) -> list[list[str]]:
    rows = []
    for row in records:
        case = Case(**row["case"])
        rows.append([
            case.name, f"{case.parameters:,}", f"{case.reduced_size:,}", row["method"],
            "all" if row["k"] is None else str(row["k"]), _seconds(row["seconds"]),
            _memory(row["peak_bytes"]), _error(row["error"]),
            "" if row["status"] == "ok" else row["status"],
        ])
    return rows


HEADER = ["case", "m*n", "m*q", "method", "k", "time", "peak MB", "max error", "note"]


def format_text(rows: list[list[str]]) -> str:
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in rows)) for i in range(len(HEADER))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def format_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _find(records, kind, width, batch, method, k=None, steps=1):
    for row in records:
        case = row["case"]
        if (case["kind"], case["width"], case["batch"], case["steps"], row["method"], row["k"]) == (
            kind, width, batch, steps, method, k
        ):
            return row
    return None


def targets(records: list[dict]) -> list[tuple[str, str, str, bool | None]]:
    """(name, measured, goal, met) for each target of the issue; met None: not measured."""
    result = []

    def add(name, measured, goal, met):
        result.append((name, measured, goal, met))

    exact = _find(records, "fnn", 64, 8, "exact (factors)")
    torch_row = _find(records, "fnn", 64, 8, "torch.func")
    if exact and torch_row and torch_row["seconds"] and exact["seconds"]:
        ratio = torch_row["seconds"] / exact["seconds"]
        add("speedup_full_spectrum_64x64_r8_vs_torch.func", f"{ratio:.0f}x", ">=100x", ratio >= 100)
        add("error_full_spectrum_64x64_r8_vs_torch.func", f"{exact['error']:.1e}", "<=1e-10",
            exact["error"] <= 1e-10)
    else:
        add("speedup_full_spectrum_64x64_r8_vs_torch.func", "n/a", ">=100x", None)
    for width, batch in ((256, 8), (2048, 1)):
        row = _find(records, "fnn", width, batch, "exact (factors)")
        seconds = row and row["seconds"]
        add(f"time_full_spectrum_{width}x{width}_r{batch}",
            f"{seconds:.2f}s" if seconds else "n/a", "<3s", None if not seconds else seconds < 3)

    for peer in ("eigsh (torch HVP)", "PyHessian", "curvlinops"):
        worst, worst_case, errors = None, None, []
        for row in records:
            case = Case(**row["case"])
            if (row["method"] != "top_eigenvalues" or case.kind != "fnn" or case.batch > 8
                    or not 16 <= case.width <= 256):
                continue
            other = _find(records, "fnn", case.width, case.batch, peer, row["k"])
            if not (other and other["seconds"] and row["seconds"]):
                continue
            ratio = other["seconds"] / row["seconds"]
            errors.append(row["error"])
            if worst is None or ratio < worst:
                worst, worst_case = ratio, f"{case.width}x{case.width} r={case.batch} k={row['k']}"
        name = "speedup_top_k_vs_" + peer.split()[0].replace("(", "")
        if worst is None:
            add(name, "n/a", ">=10x", None)
        else:
            add(name, f"{worst:.1f}x(worst:{worst_case.replace(' ', '_')})", ">=10x", worst >= 10)
    core_errors = [r["error"] for r in records
                   if r["method"] == "top_eigenvalues" and r["error"] is not None]
    if core_errors:
        worst_error = max(core_errors)
        add("error_top_k_factors_max", f"{worst_error:.1e}", "<=1e-9", worst_error <= 1e-9)

    worst, worst_case = None, None
    for row in records:
        case = Case(**row["case"])
        if row["method"] != "exact (factors)" or case.reduced_size > 512 or not row["seconds"]:
            continue
        peers = [_find(records, case.kind, case.width, case.batch, m, 1, case.steps)
                 for m in ("eigsh (torch HVP)", "curvlinops")]
        fastest = min((p["seconds"] for p in peers if p and p["seconds"]), default=None)
        if fastest is None:
            continue
        ratio = fastest / row["seconds"]
        if worst is None or ratio < worst:
            worst, worst_case = ratio, case.name.replace(" ", "_")
    add("small_layers_exact_full_before_lanczos_top1",
        "n/a" if worst is None else f"{worst:.1f}x(worst:{worst_case})", ">1x",
        None if worst is None else worst > 1)

    for label, key, floor in (("factors_eigvalsh", "eig_seconds", 512),
                              ("end_to_end", "seconds", 512),
                              ("factors_eigvalsh_all_sizes", "eig_seconds", 0)):
        worst, worst_case = None, None
        for row in records:
            case = Case(**row["case"])
            if row["method"] != "exact (factors)" or case.reduced_size < floor or not row.get(key):
                continue
            ratio = row[key] / row["bare_eigvalsh_seconds"]
            if worst is None or ratio > worst:
                worst, worst_case = ratio, case.name.replace(" ", "_")
        suffix = "" if floor == 0 else f"_mq>={floor}"
        add(f"overhead_{label}{suffix}_vs_bare_eigvalsh",
            "n/a" if worst is None else f"{worst:.2f}x(worst:{worst_case})", "<=2x",
            None if worst is None else worst <= 2)
    return result


def target_lines(records: list[dict]) -> list[str]:
    lines = []
    for name, measured, goal, met in targets(records):
        verdict = "not measured" if met is None else ("met" if met else "NOT met")
        lines.append(f"target {name} {measured} {goal} {verdict}")
    return lines


def plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [("exact (factors)", None, "o-"), ("dense + numpy", None, "s--"),
              ("torch.func", None, "^--"), ("top_eigenvalues", 1, "o:"),
              ("eigsh (torch HVP)", 1, "v:"), ("curvlinops", 1, "<:"), ("PyHessian", 1, "x:")]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for axis, batch in zip(axes, (1, 8), strict=True):
        for method, k, style in series:
            points = sorted(
                (Case(**r["case"]).parameters, r["seconds"]) for r in records
                if r["method"] == method and r["k"] == k and r["seconds"]
                and r["case"]["kind"] == "fnn" and r["case"]["batch"] == batch
            )
            if points:
                label = method + ("" if k is None else f" (top-{k})")
                axis.loglog(*zip(*points, strict=True), style, label=label)
        axis.set_title(f"FNN layer W^(1), width x width, batch r = {batch}")
        axis.set_xlabel("layer parameters m*n")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("wall time (s)")
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def other_runs(paths: list[Path]) -> str:
    """A section with the target lines of earlier runs saved with --json (run-to-run spread)."""
    if not paths:
        return ""
    parts = ["## Other runs of the same grid\n",
             "Timings on this shared machine move with the load of other processes; the same "
             "targets from other complete runs (their conditions first):\n"]
    for path in paths:
        saved = json.loads(Path(path).read_text())
        info = saved["machine"]
        parts.append(f"- {info['threads']} BLAS/OpenMP thread(s), load average "
                     f"{info['load'][0]:.2f} at the start:\n")
        parts.append("```\n" + "\n".join(target_lines(saved["records"])) + "\n```\n")
    return "\n".join(parts)


def write_markdown(records, rows, lines, info, command, path: Path, plot_name: str,
                   others: str = "") -> None:
    text = f"""# Benchmarks: exact layer spectra from the Kronecker factors

Measured with `{command}` on {info['cores']} cores ({info['cpu']}), {_size(info['memory_bytes'])}
RAM, Python {info['python']}, {info['threads']} BLAS/OpenMP threads for NumPy and torch alike;
load average at the start {info['load'][0]:.2f}. All methods in
one run on the same random networks (`benchmarks/networks.py`): W^(1) of a width x width tanh
layer of a (width, width, 10) FNN at batch r, or of a two-level RNN at output time t = tau.

![time against layer size]({plot_name})

{GROWTH}

## Targets

```
{chr(10).join(lines)}
```

{READING}

## Table

Time: best of up to 5 runs (at least 2 unless one exceeds 5 s). Peak MB: resident-set
high-water mark during one run above the resident set before it (the same measure for NumPy
and torch). Max error: largest
|lambda_i - lambda_i(exact)| over the returned eigenvalues, relative to the spectral radius;
for `exact (factors)` against torch.func's independent dense spectrum. `m*q`: order of the
one eigenproblem of the exact spectrum.

{format_markdown(rows)}

{others}"""
    path.write_text(text)


GROWTH = """How the cost grows. The dense routes pay for the (m*n) x (m*n) Hessian: memory (m*n)^2
and an eigvalsh of order m*n, i.e. time ~ (m*n)^3 = width^6; past a 64 x 64 layer that is
minutes, and a 256 x 256 layer (34 GB) no longer fits. The Kronecker factors replace that by
one eigenproblem of order m*q, q = min(r*t, n): for one sample it is m x m (time ~ width^3,
the 2048 x 2048 layer's 4.2 million parameters in seconds), for a batch it grows with r until
q reaches n. Lanczos on autodiff Hessian-vector products scales better than dense but each
product is a forward-over-reverse pass through the network and the Krylov space needs tens to
hundreds of them, so its time grows slowly and it overtakes the exact full spectrum for a
batch around m*q = 1000 here (128 x 128 at r = 8). top_eigenvalues runs the same Lanczos on
products through the factors (O(r m n + r m^2) each, or on the m*q-dimensional Gram-reduced
operator), or skips it when m*q is small enough for the exact spectrum."""


READING = """Reading the targets. Speedups are ratios of times measured in the same run; the
top-k ratios are the worst case over FNN widths 16-256, batch 1 and 8, k = 1 and 10. "Same
accuracy": every eigsh-based method and top_eigenvalues run at tolerance 1e-10 and land at
1e-14 or better; PyHessian normalises its vectors as v / (||v|| + 1e-6), which caps its
accuracy near 2e-6 relative whatever its own tolerance, so at small sizes it stops after a few
cheap power iterations with a less accurate answer. `overhead_*` compares the exact spectrum
with a bare numpy eigvalsh of a random symmetric matrix of the same order m*q: the eigenproblem
is the unavoidable part, the rest (building the blocks, the Gram root, assembling the small
matrix) is overhead; `_mq>=512` restricts it to the sizes where the eigenproblem is more than
a few milliseconds of Python-dominated work."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    parser.add_argument("--quick", action="store_true", help="a three-case grid (smoke test)")
    parser.add_argument("--full", action="store_true", help="add FNN 512x512 r=8 (m*q = 4096)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs",
                        help="folder for benchmarks.md and benchmarks.png (default docs/)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--json", type=Path, help="also save the raw records here")
    parser.add_argument("--from-json", type=Path,
                        help="report records saved by --json again instead of measuring")
    parser.add_argument("--other-runs", type=Path, nargs="*", default=[],
                        help="records of other runs (--json) whose targets the report also lists")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS/OpenMP threads for NumPy and torch alike (default: all cores)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.backend)
        return 0
    if args.backend == "cupy":
        reason = _gpu_missing()
        if reason:
            print(f"--backend cupy: no GPU available here ({reason}); nothing measured.",
                  file=sys.stderr)
            return 1

    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        info, records = saved["machine"], saved["records"]
        args.threads = info["threads"]
    else:
        info = machine()
        cases = QUICK_GRID if args.quick else GRID + (LARGE if args.full else [])
        print(f"bench_spectra: {len(cases)} cases on {info['cores']} cores ({info['cpu']}), "
              f"{args.threads} BLAS threads, load {info['load'][0]:.2f}, backend {args.backend}",
              file=sys.stderr)
        info["threads"] = args.threads
        records = run_grid(cases, args.backend, args.threads)
        explain_skips(records, info["memory_bytes"])
    rows = table_rows(records)
    lines = target_lines(records)
    print(format_text(rows))
    print()
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(dict(machine=info, records=records), indent=1))
    if not args.no_write:
        suffix = "" if args.backend == "numpy" else f"-{args.backend}"
        picture = args.output / f"benchmarks{suffix}.png"
        plot(records, picture)
        command = "python benchmarks/bench_spectra.py" + (" --quick" if args.quick else "")
        command += " --full" if args.full else ""
        if args.threads != os.cpu_count():
            command += f" --threads {args.threads}"
        write_markdown(records, rows, lines, info, command,
                       args.output / f"benchmarks{suffix}.md", picture.name,
                       other_runs(args.other_runs))
        print(f"\nwrote {picture} and {args.output / f'benchmarks{suffix}.md'}", file=sys.stderr)
    return 0


def _gpu_missing() -> str | None:
    """None when CuPy can run on a CUDA device, else why not."""
    try:
        import cupy
    except Exception as error:
        return f"cupy cannot be imported: {type(error).__name__}: {error}"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "cupy sees no CUDA device"
        cupy.asarray([1.0]).sum().get()
    except Exception as error:
        return f"no usable CUDA device: {type(error).__name__}: {error}"
    return None


if __name__ == "__main__":
    sys.exit(main())
