"""The spectra benchmark's report: the table (text and Markdown), the plot, docs/benchmarks.md.

Everything here works from the records alone (a fresh run, or one saved with ``--json`` and
rendered again with ``--from-json``): no measurement, no subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.networks import Case
from benchmarks.spectra_targets import target_lines


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
