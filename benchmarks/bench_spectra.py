"""Exact layer spectra from the Kronecker factors, side by side with today's tools.

Run from the repository root: ``python benchmarks/bench_spectra.py`` (or ``make bench``);
``--quick`` for a small grid, ``--backend cupy`` on a GPU machine; ``--json FILE`` saves the
records, ``--from-json FILE`` renders saved records again without measuring.

This module is the command line only. The work is in four modules, each read on its own:

- :mod:`benchmarks.spectra_measure`: the methods, and how time, memory and error are measured
  (one case, in a worker process);
- :mod:`benchmarks.spectra_grid`: the grid of cases, one worker process each;
- :mod:`benchmarks.spectra_targets`: the targets read off the records;
- :mod:`benchmarks.spectra_report`: the table, the plot and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.spectra_grid import (  # noqa: E402
    GRID,
    LARGE,
    QUICK_GRID,
    gpu_missing,
    machine,
    run_grid,
)
from benchmarks.spectra_report import (  # noqa: E402
    explain_skips,
    format_text,
    other_runs,
    plot,
    table_rows,
    write_markdown,
)
from benchmarks.spectra_targets import target_lines  # noqa: E402


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
    args = parser.parse_args(argv)

    if args.backend == "cupy":
        reason = gpu_missing()
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


if __name__ == "__main__":
    sys.exit(main())
