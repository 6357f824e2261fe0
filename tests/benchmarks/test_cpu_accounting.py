"""Where the class benchmark says the machine's CPU went: the server's processes, the time
their threads waited for a CPU, and the browsers' processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from benchmarks.bench_classroom import CpuSample, cpu_line, cpu_sample, cpu_shares
from serve.launch import scheduling_seconds, sum_scheduling

needs_schedstat = pytest.mark.skipif(scheduling_seconds(os.getpid()) is None,
                                     reason="this kernel keeps no scheduler statistics")


def burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@needs_schedstat
def test_a_process_is_charged_the_time_its_threads_ran():
    running, waiting = scheduling_seconds(os.getpid())
    burn(0.05)
    later_running, later_waiting = scheduling_seconds(os.getpid())
    assert later_running - running >= 0.04
    assert later_waiting >= waiting >= 0.0


def test_an_ended_process_counts_nothing():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert scheduling_seconds(process.pid) in ((0.0, 0.0), None)
    assert sum_scheduling([]) == (0.0, 0.0)


class ServedStandIn:
    """A server of no process (all of this process's children are then browsers)."""

    def server_pids(self) -> list[int]:
        return []

    def scheduling_seconds(self):
        return 0.0, 0.0


def test_the_children_that_are_not_the_server_count_as_browsers():
    busy = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", busy + "\ntime.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while cpu_sample(ServedStandIn()).browsers < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cpu_sample(ServedStandIn()).browsers >= 0.25
        assert cpu_sample(ServedStandIn()).server == 0.0
    finally:
        child.kill()
        child.wait()


def test_shares_are_cores_over_the_window_and_printed_with_the_wait():
    shares = cpu_shares(CpuSample(1.0, 2.0, 3.0), CpuSample(1.5, 11.0, 20.0), seconds=10.0)
    assert shares == pytest.approx({"server": 0.05, "server_waiting": 0.9, "browsers": 1.7})
    line = cpu_line(shares)
    assert "server 0.05 on a CPU, its threads 0.90 waiting for one; browsers 1.70" in line
    assert f"(of {os.cpu_count()})" in line


def test_without_scheduler_statistics_the_wait_is_said_to_be_unknown():
    shares = cpu_shares(CpuSample(1.0, None, 3.0), CpuSample(2.0, None, 4.0), seconds=1.0)
    assert shares["server_waiting"] is None
    assert "no scheduler statistics" in cpu_line(shares)
