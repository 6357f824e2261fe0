"""Run ``make serve`` from Python and stop it again, for tests and benchmarks.

:class:`Served` starts the real make target (``make serve WORKERS=W`` on a free loopback
port, in a session of its own), waits until the app answers, tells the server's processes
(every descendant of make: the supervisor, HAProxy, the workers), their CPU time and the
time their threads waited for a CPU from ``/proc``, and on exit stops them all: SIGTERM to
make's process group (make and the supervisor, which stops its children), then SIGKILL to
whatever of the tree is left.

    with Served(workers=2) as served:
        print(served.url, served.state()["workers"])
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 240.0  # make may first pip-install the project, then the workers import Panel
STOP_TIMEOUT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process in ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    tree, found, stack = children_of(), [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 if it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def scheduling_seconds(pid: int) -> tuple[float, float] | None:
    """(on a CPU, waiting for a CPU) so far, in seconds summed over the threads of a process:
    the kernel's scheduler statistics (``/proc/PID/task/TID/schedstat``: time run, time spent
    runnable on a run queue). (0, 0) if the process has ended, None if the kernel keeps no
    such statistics."""
    task_dir = Path(f"/proc/{pid}/task")
    try:
        threads = list(task_dir.iterdir())
    except FileNotFoundError:
        return 0.0, 0.0
    except OSError:
        return None
    running = waiting = 0
    for thread in threads:
        try:
            fields = (thread / "schedstat").read_text().split()
        except FileNotFoundError:
            if not Path("/proc/self/schedstat").exists():
                return None  # no schedstat on this kernel
            continue  # the thread ended meanwhile
        except OSError:
            continue
        running += int(fields[0])
        waiting += int(fields[1])
    return running / 1e9, waiting / 1e9


def sum_scheduling(pids: list[int]) -> tuple[float, float] | None:
    """``scheduling_seconds`` summed over ``pids``; None where the kernel keeps none."""
    running = waiting = 0.0
    for pid in pids:
        seconds = scheduling_seconds(pid)
        if seconds is None:
            return None
        running, waiting = running + seconds[0], waiting + seconds[1]
    return running, waiting


class Served:
    """``make serve WORKERS=workers`` on 127.0.0.1 and a free port, as a context manager."""

    #: the page that answers once the server serves (``page_url``)
    page = "/app"

    def __init__(self, workers: int = 1, port: int | None = None,
                 serve_args: str = "", log_path: Path | None = None,
                 env: dict[str, str] | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, not {workers}")
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.serve_args = serve_args
        self.env = dict(env or {})  # set for the server, over this process's environment
        self._dir = Path(tempfile.mkdtemp(prefix="hessian-lab-served-"))
        self.log_path = log_path or self._dir / "serve.log"
        self.state_path = self._dir / "state.json"
        self.process: subprocess.Popen | None = None

    @property
    def page_url(self) -> str:
        return f"{self.url}{self.page}"

    def command(self) -> list[str]:
        command = ["make", "--no-print-directory", "serve", f"WORKERS={self.workers}",
                   "HESSIAN_LAB_ADDRESS=127.0.0.1", f"HESSIAN_LAB_PORT={self.port}",
                   f"HESSIAN_LAB_STATE_FILE={self.state_path}", f"SERVE_ARGS={self.serve_args}"]
        if sys.prefix != sys.base_prefix:  # this Python's virtual environment
            command.append(f"VENV={sys.prefix}")
        return command

    def environment(self) -> dict[str, str]:
        """This environment without an enclosing make's variables (``make test`` runs us),
        with ``env`` set over it."""
        inherited = {k: v for k, v in os.environ.items()
                     if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
        return {**inherited, **self.env}

    def __enter__(self) -> Served:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, env=self.environment(),
            )
        try:
            self.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_until_serving(self, timeout: float = START_TIMEOUT_S) -> None:
        assert self.process is not None
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            # with workers, HAProxy starts once every worker answers; the state file says so
            if self.workers == 1 or self.state_path.exists():
                try:
                    with urlopen(self.page_url, timeout=30) as response:
                        if response.status == 200:
                            return
                except (URLError, OSError) as error:
                    last = error
            time.sleep(0.5)
        raise RuntimeError(f"the server did not answer {self.page_url} within {timeout:.0f} s "
                           f"({last}):\n{self.log_tail()}")

    def state(self) -> dict:
        """The supervisor's state file (``WORKERS`` > 1): pids, ports, restart counts."""
        return json.loads(self.state_path.read_text())

    def server_pids(self) -> list[int]:
        """make and every process below it (the server's processes)."""
        return descendants(self.process.pid) if self.process else []

    def cpu_seconds(self) -> float:
        """CPU time so far of every process of the server (those still running)."""
        return sum(cpu_seconds(pid) for pid in self.server_pids())

    def scheduling_seconds(self) -> tuple[float, float] | None:
        """(on a CPU, waiting for a CPU) so far of the server's threads (``scheduling_seconds``);
        None where the kernel keeps no scheduler statistics."""
        return sum_scheduling(self.server_pids())

    def stop(self) -> None:
        if self.process is None:
            return
        tree = self.server_pids()
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for pid in tree:  # the supervisor stops its children; make sure none is left
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _running(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.process = None


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (zombies count as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
