"""``make serve WORKERS=2``: a worker that stops answering leaves HAProxy's rotation within
seconds, and the supervisor replaces it (needs Debian's haproxy, no browser).

A worker stopped with SIGSTOP still has its TCP connections accepted by the kernel, so a
TCP health check kept passing and every second new visitor waited on it. HAProxy now asks
``/liveness`` with a 1 s timeout (``serve/haproxy.cfg``), and the supervisor kills a worker
silent for ``UNANSWERED_S`` seconds and starts a new one (``serve/supervisor.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from serve.launch import Served
from serve.supervisor import BUSY_LIMIT_S, UNANSWERED_S, Worker

#: a generous bound for new requests to succeed again (HAProxy: 2 failed 1 s checks)
BACK_IN_ROTATION_S = 15.0
#: a generous bound for the supervisor's replacement (silent UNANSWERED_S, then 1 s pause)
REPLACED_S = UNANSWERED_S + 30.0
#: requests in a row answered within REQUEST_TIMEOUT_S that count as "served again"
IN_A_ROW = 6
REQUEST_TIMEOUT_S = 2.0


def has_haproxy() -> bool:
    return any(Path(d, "haproxy").exists() for d in [*os.get_exec_path(), "/usr/sbin"])


@pytest.fixture(scope="module")
def served():
    if not has_haproxy():
        pytest.skip("no haproxy executable: install Debian's package (apt-get install haproxy)")
    with Served(workers=2) as served:
        yield served


def answered(url: str) -> str | None:
    """The worker that answered a new visitor's request (no cookie: HAProxy's round robin)
    in time (HAProxy names it in ``X-Hessian-Lab-Worker``), else None."""
    try:
        with urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:
            return response.headers.get("X-Hessian-Lab-Worker") or "?"
    except (URLError, OSError):
        return None


@pytest.mark.slow
def test_a_stopped_worker_leaves_the_rotation_and_is_replaced(served):
    url = f"{served.url}/liveness"
    deadline = time.monotonic() + 60.0
    while {answered(url) for _ in range(4)} != {"w1", "w2"}:  # both in rotation
        assert time.monotonic() < deadline, served.log_tail()
        time.sleep(0.5)
    stopped = served.state()["workers"]["w1"]["pid"]
    os.kill(stopped, signal.SIGSTOP)
    start = time.monotonic()
    try:
        in_a_row = 0
        while in_a_row < IN_A_ROW:
            in_a_row = in_a_row + 1 if answered(url) == "w2" else 0
            assert time.monotonic() - start < BACK_IN_ROTATION_S, (
                f"new visitors still wait on the stopped worker after {BACK_IN_ROTATION_S} s:"
                f"\n{served.log_tail()}")
        back = time.monotonic() - start
        while (w1 := served.state()["workers"]["w1"])["pid"] in (stopped, None):
            assert time.monotonic() - start < REPLACED_S, (
                f"the stopped worker was not replaced within {REPLACED_S} s:\n"
                f"{served.log_tail()}")
            time.sleep(0.2)
        replaced = time.monotonic() - start
    finally:
        try:
            os.kill(stopped, signal.SIGCONT)  # if it is still there, let it end when stopped
        except ProcessLookupError:
            pass
    assert w1["restarts"] == 1
    assert not Path(f"/proc/{stopped}").exists(), "the stopped worker is still there"
    print(f"served again {back:.1f} s after SIGSTOP; worker replaced after {replaced:.1f} s")


@pytest.mark.parametrize(
    ("silent_s", "cpu_used_s", "hung"),
    [
        (UNANSWERED_S / 2, 0.0, False),  # not silent long enough
        (UNANSWERED_S + 1, 0.0, True),  # silent and idle: stopped or deadlocked
        (UNANSWERED_S + 1, 5.0, False),  # silent but computing: busy, left to finish
        (BUSY_LIMIT_S + 1, 50.0, True),  # silent for too long, however busy
    ],
)
def test_only_a_silent_idle_worker_counts_as_hung(monkeypatch, silent_s, cpu_used_s, hung):
    """A worker busy with a burst of arrivals keeps its students; a stopped one is replaced."""
    import serve.supervisor as supervisor

    worker = Worker("w1", port=1, origins=[])
    worker.process = subprocess.Popen([sys.executable, "-c", "pass"])
    worker.process.wait()
    worker.answered, worker.cpu_at_answer = 1000.0, 2.0
    monkeypatch.setattr(supervisor, "cpu_seconds", lambda pid: 2.0 + cpu_used_s)
    assert worker.hung(1000.0 + silent_s) is hung


@pytest.mark.parametrize(
    ("cpu_per_s", "hung"),
    [
        (0.0, True),  # stopped before its first answer: the supervisor never heard it
        (0.5, False),  # importing Panel on a loaded machine: starting, not hung
    ],
)
def test_a_worker_silent_since_its_start_counts_as_hung_only_when_idle(monkeypatch, cpu_per_s,
                                                                       hung):
    """A worker stopped between HAProxy's first good check and the supervisor's first answer
    was never replaced: its silence counted only from a first answer that never came."""
    import serve.supervisor as supervisor

    worker = Worker("w1", port=1, origins=[])
    worker.process = subprocess.Popen([sys.executable, "-c", "pass"])
    worker.process.wait()
    worker.started, worker.answered = 1000.0, None
    worker.cpu_samples.extend((1000.0 + s, 3.0 + cpu_per_s * s) for s in range(20))
    monkeypatch.setattr(supervisor, "cpu_seconds", lambda pid: 3.0 + cpu_per_s * 20)
    assert worker.hung(1000.0 + 20) is hung
    assert not worker.hung(1000.0 + UNANSWERED_S / 2)  # not silent long enough
