"""The spectra benchmark's grid of cases, each measured in a fresh worker process.

One process per case (:mod:`benchmarks.spectra_measure`), so that no case pays for the memory
or the warm caches of another and the peak-memory measure starts from a clean resident set;
the same BLAS/OpenMP thread count for NumPy and torch; glibc's mmap and trim thresholds pinned
so that freed arrays leave the resident set. A worker that fails or runs past WORKER_TIMEOUT
becomes a "failed" row, not a crash.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.networks import Case

ROOT = Path(__file__).resolve().parent.parent
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
        command = [sys.executable, "-m", "benchmarks.spectra_measure",
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


def gpu_missing() -> str | None:
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
