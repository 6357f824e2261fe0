"""Serve the app with several Panel worker processes behind HAProxy (``make serve WORKERS=N``).

A Bokeh session (one browser page) lives in the process that created it, and one Python
process runs on one core, so a class is served by several ``panel serve app`` processes
("workers") behind a load balancer that keeps each browser on its worker. This supervisor,
standard library only:

* starts N workers on free loopback ports (``panel serve app --liveness --use-xheaders``,
  each with ``HESSIAN_LAB_WORKER=w1``, ``w2``, ... in its environment) and waits until each
  answers ``/liveness``;
* writes HAProxy's configuration from ``serve/haproxy.cfg`` (cookie affinity, round robin,
  HTTP health checks of ``/liveness`` with a 1 s timeout, which a dead or hung worker
  fails; ``--remote HOST:PORT`` adds workers on other machines; an address over
  :data:`ADDRESS_LIMIT_BYTES` answered with a page that says it is too long, and room for
  the request headers a worker reads) and runs ``haproxy`` in the foreground on the public
  address and port;
* restarts a worker that dies, on the same port, after a pause that doubles while it keeps
  dying (1 s up to 30 s); HAProxy's health check takes it out of rotation meanwhile, and
  the pages it served show Panel's lost-connection notification (``app/main.py``);
* asks each worker for ``/liveness`` every second (a thread per worker, 1 s timeout) and
  kills (SIGKILL, which also ends a stopped process) a worker that has not answered for
  :data:`UNANSWERED_S` seconds (since it last answered, or since it started if it never
  did) while using almost no CPU over those last seconds (hung, deadlocked or stopped with
  SIGSTOP, even before its first answer; a worker silent because it is busy is given up to
  :data:`BUSY_LIMIT_S`, a starting one up to :data:`START_LIMIT_S`), which is then restarted
  as a dead one;
* on Ctrl-C or SIGTERM stops HAProxy and every worker (SIGTERM, then SIGKILL after 10 s).
  The children run in their own process group, so a terminal's Ctrl-C reaches only this
  supervisor, which stops them in order; each child also gets SIGKILL from the kernel should
  the supervisor itself be killed (``PR_SET_PDEATHSIG``), so none is left behind.

With ``--state-file PATH`` it keeps a JSON file of the processes (HAProxy's and each
worker's pid, port and restart count), rewritten on every change, for tests and benchmarks.

    python -m serve.supervisor --workers 4 --address 0.0.0.0 --port 5006
    python -m serve.supervisor --workers 2 --print-config      # the HAProxy configuration
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from serve.launch import cpu_seconds
from serve.origins import (
    ALL_INTERFACES,
    LOOPBACK,
    host_for_origin,
    machine_hosts,
    server_origins,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().with_name("haproxy.cfg")
#: the page of a request refused as too long (its text names ADDRESS_LIMIT_BYTES in KB)
TOO_LONG_PAGE = Path(__file__).resolve().with_name("address_too_long.html")
#: the longest address (path and query) served; a longer one gets TOO_LONG_PAGE with status
#: 414, as a single `panel serve` process shows its text (app/page/serving.py, the same number)
ADDRESS_LIMIT_BYTES = 16 * 1024
#: the longest request line and headers HAProxy reads: a worker's Tornado's limit
#: (HTTPServer's max_header_size, 64 KB); a longer request gets HAProxy's own status 400
HEAD_LIMIT_BYTES = 64 * 1024
MAXREWRITE_BYTES = 1024  # HAProxy keeps this much of each buffer for rewriting headers
START_TIMEOUT_S = 180.0  # a worker imports Panel, HoloViews and Bokeh: slow on a busy machine
STOP_TIMEOUT_S = 10.0
RESTART_PAUSE_S = (1.0, 30.0)  # first pause before a restart, and the longest
STABLE_S = 60.0  # a worker up this long has its restart pause reset
POLL_S = 0.2
CHECK_INTERVAL = "1s"  # HAProxy's health checks: one a second, each answered within
CHECK_TIMEOUT = "1s"
LIVENESS_INTERVAL_S = 1.0  # the supervisor's own /liveness requests, each answered within
LIVENESS_TIMEOUT_S = 1.0
UNANSWERED_S = 12.0  # a worker silent this long is killed, if idle
#: ... that is, if it used less than this share of a CPU over the last UNANSWERED_S seconds:
#: a stopped or deadlocked worker uses none, a busy one (a burst of arrivals on a loaded
#: machine, or a start importing Panel) keeps computing and is left to finish
HUNG_CPU_SHARE = 0.02
BUSY_LIMIT_S = 120.0  # a worker silent this long is killed however busy it is
START_LIMIT_S = 300.0  # a worker that never answered is killed this long after its start


def log(message: str) -> None:
    print(f"[serve] {message}", flush=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def panel_executable() -> str:
    """The ``panel`` next to this Python (the project's venv), else the PATH's."""
    beside = Path(sys.executable).with_name("panel")
    return str(beside) if beside.exists() else (shutil.which("panel") or "panel")


try:  # loaded here, not in the child: a forked child must not call dlopen
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: the signal handlers still stop the children
    _PRCTL = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)  # SIGKILL when the supervisor dies


def spawn(command: list[str], env: dict[str, str] | None = None,
          prefix: str = "") -> subprocess.Popen:
    """Start a child in its own process group, its output copied here line by line."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, process_group=0, preexec_fn=_die_with_parent,
    )
    threading.Thread(target=_copy_output, args=(process, prefix), daemon=True).start()
    return process


def _copy_output(process: subprocess.Popen, prefix: str) -> None:
    assert process.stdout is not None
    for line in iter(process.stdout.readline, b""):
        sys.stdout.write(prefix + line.decode(errors="replace"))
        sys.stdout.flush()


def stop(processes: list[subprocess.Popen], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM to each running process, SIGKILL to those still running after ``timeout``."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Worker:
    """One ``panel serve app`` process on a fixed loopback port."""

    name: str
    port: int
    origins: list[str]
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    pause: float = RESTART_PAUSE_S[0]
    restart_at: float | None = None
    answered: float | None = None  # when the current process last answered /liveness
    cpu_at_answer: float = 0.0  # its CPU seconds then
    #: (time, CPU seconds) of the current process at each of the probe's rounds, the last 64
    cpu_samples: deque = field(default_factory=lambda: deque(maxlen=64))

    def unanswering(self, now: float) -> float:
        """Seconds since the running process last answered ``/liveness``, or since it
        started if it has not answered yet."""
        return now - (self.started if self.answered is None else self.answered)

    def hung(self, now: float) -> bool:
        """Silent for :data:`UNANSWERED_S` while (nearly) idle over those last seconds, or
        for :data:`BUSY_LIMIT_S` (:data:`START_LIMIT_S` before its first answer: a
        starting worker imports Panel first) whatever it did."""
        silent = self.unanswering(now)
        if silent > (START_LIMIT_S if self.answered is None else BUSY_LIMIT_S):
            return True
        if silent <= UNANSWERED_S:
            return False
        return self.recent_cpu(now) < HUNG_CPU_SHARE * UNANSWERED_S

    def recent_cpu(self, now: float) -> float:
        """CPU seconds the process used over about the last :data:`UNANSWERED_S` seconds:
        since the probe's last sample at least that old (the oldest sample if none is, and
        since the last answer if there is no sample)."""
        since = now - UNANSWERED_S
        older = [cpu for at, cpu in list(self.cpu_samples) if at <= since]
        if older:
            baseline = older[-1]
        elif self.cpu_samples:
            baseline = self.cpu_samples[0][1]
        else:
            baseline = self.cpu_at_answer
        return cpu_seconds(self.process.pid) - baseline

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            panel_executable(), "serve", "app", "--address", "127.0.0.1",
            "--port", str(self.port), "--liveness", "--use-xheaders",
            *(f"--allow-websocket-origin={origin}" for origin in self.origins),
            *self.extra_args,
        ]

    def start(self) -> None:
        env = dict(os.environ, HESSIAN_LAB_WORKER=self.name)
        self.process = spawn(self.command(), env=env, prefix=f"[{self.name}] ")
        self.started = time.monotonic()
        self.restart_at = None
        self.answered = None
        self.cpu_samples = deque(maxlen=64)
        threading.Thread(target=self._probe, args=(self.process,), daemon=True).start()
        log(f"worker {self.name} started: pid {self.process.pid}, {self.url}")

    def _probe(self, process: subprocess.Popen) -> None:
        """Ask ``/liveness`` every second while ``process`` is this worker's and runs; note
        when it answers."""
        while self.process is process and process.poll() is None:
            asked = time.monotonic()
            self.cpu_samples.append((asked, cpu_seconds(process.pid)))
            if self.live(timeout=LIVENESS_TIMEOUT_S) and self.process is process:
                self.answered = time.monotonic()
                self.cpu_at_answer = cpu_seconds(process.pid)
            time.sleep(max(0.0, LIVENESS_INTERVAL_S - (time.monotonic() - asked)))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def live(self, timeout: float = 5.0) -> bool:
        """Whether the worker answers ``/liveness`` within ``timeout`` seconds."""
        try:
            with urlopen(f"{self.url}/liveness", timeout=timeout) as response:
                return response.status == 200
        except (URLError, OSError):
            return False


def haproxy_config(bind: str, workers: list[Worker], remotes: list[str]) -> str:
    """HAProxy's configuration: ``serve/haproxy.cfg`` with the bind address and servers."""
    servers = [(w.name, f"127.0.0.1:{w.port}") for w in workers]
    servers += [(f"r{i}", remote) for i, remote in enumerate(remotes, start=1)]
    lines = [f"    server {name} {address} cookie {name} check" for name, address in servers]
    # the same workers unchecked, used only while every checked one is out of rotation
    lines += [f"    server {name}-backup {address} backup" for name, address in servers]
    template = string.Template(TEMPLATE.read_text())
    return template.substitute(
        bind=bind, servers="\n".join(lines), check_interval=CHECK_INTERVAL,
        check_timeout=CHECK_TIMEOUT, address_limit=ADDRESS_LIMIT_BYTES,
        head_limit=HEAD_LIMIT_BYTES, bufsize=HEAD_LIMIT_BYTES + MAXREWRITE_BYTES,
        maxrewrite=MAXREWRITE_BYTES, too_long_page=TOO_LONG_PAGE,
    )


def bind_address(address: str, port: int) -> str:
    if address in ALL_INTERFACES:
        return f"0.0.0.0:{port}"  # HAProxy's "all IPv4 interfaces"
    if address == "localhost":
        return f"127.0.0.1:{port}"
    return f"{host_for_origin(address)}:{port}"


class Supervisor:
    """The workers and HAProxy of one ``make serve WORKERS=N``; see the module docstring."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        origins = args.origin or server_origins(args.address, args.port)
        self.workers = [
            Worker(f"w{i}", free_port(), origins, list(args.panel_args))
            for i in range(1, args.workers + 1)
        ]
        self.haproxy: subprocess.Popen | None = None
        self.stopping = False
        self.config_dir = Path(tempfile.mkdtemp(prefix="hessian-lab-haproxy-"))

    # --- state file --------------------------------------------------------------------
    def write_state(self) -> None:
        if not self.args.state_file:
            return
        state = {
            "url": f"http://{bind_address(self.args.address, self.args.port)}/app",
            "supervisor": os.getpid(),
            "haproxy": self.haproxy.pid if self.haproxy else None,
            "workers": {
                w.name: {"pid": w.process.pid if w.alive() else None, "port": w.port,
                         "restarts": w.restarts}
                for w in self.workers
            },
        }
        path = Path(self.args.state_file)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(state, indent=1))
        partial.replace(path)

    # --- running -----------------------------------------------------------------------
    def on_signal(self, signum: int, frame) -> None:
        if not self.stopping:
            log(f"{signal.Signals(signum).name}: stopping HAProxy and the workers")
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.on_signal)
        signal.signal(signal.SIGTERM, self.on_signal)
        try:
            if not self.start_workers() or not self.start_haproxy():
                return 0 if self.stopping else 1  # stopped by a signal, or failed
            self.write_state()
            where = "every address of this machine" if self.args.address in ALL_INTERFACES \
                else self.args.address
            urls = " or ".join(f"http://{host}:{self.args.port}/app"
                               for host in self.public_hosts())
            log(f"{len(self.workers)} workers behind HAProxy on {where}, port "
                f"{self.args.port}: open {urls}")
            return 0 if self.watch() else 1
        finally:
            self.shutdown()

    def public_hosts(self) -> list[str]:
        """Names and addresses students can open (on all interfaces: not the loopback ones)."""
        if self.args.address in ALL_INTERFACES:
            return [h for h in machine_hosts() if h not in LOOPBACK] or ["localhost"]
        return [host_for_origin(self.args.address)]

    def start_workers(self) -> bool:
        """Start every worker and wait until each answers ``/liveness``."""
        for worker in self.workers:
            worker.start()
        self.write_state()
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(self.workers)
        while waiting and not self.stopping:
            for worker in list(waiting):
                if not worker.alive():
                    log(f"worker {worker.name} exited with {worker.process.returncode} "
                        "while starting (its output is above); stopping")
                    return False
                if worker.live():
                    waiting.remove(worker)
            if time.monotonic() > deadline:
                names = ", ".join(w.name for w in waiting)
                log(f"workers {names} did not answer /liveness within {START_TIMEOUT_S:.0f} s")
                return False
            time.sleep(POLL_S)
        return not self.stopping

    def start_haproxy(self) -> bool:
        if self.stopping:
            return False
        config = self.config_dir / "haproxy.cfg"
        config.write_text(haproxy_config(bind_address(self.args.address, self.args.port),
                                         self.workers, self.args.remote))
        executable = self.args.haproxy
        check = subprocess.run([executable, "-c", "-q", "-f", str(config)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            log(f"HAProxy refuses the configuration {config}:\n{check.stdout}{check.stderr}")
            return False
        self.haproxy = spawn([executable, "-db", "-f", str(config)], prefix="[haproxy] ")
        time.sleep(0.5)  # a failed bind (port in use) ends HAProxy at once
        if self.haproxy.poll() is not None:
            log(f"HAProxy exited with {self.haproxy.returncode} (see above): is port "
                f"{self.args.port} free?")
            return False
        log(f"HAProxy started: pid {self.haproxy.pid}, configuration {config}")
        return True

    def watch(self) -> bool:
        """Restart dead workers until a signal arrives (True) or HAProxy exits (False)."""
        while not self.stopping:
            now = time.monotonic()
            if self.haproxy is not None and self.haproxy.poll() is not None:
                log(f"HAProxy exited with {self.haproxy.returncode}; stopping")
                return False
            changed = False
            for worker in self.workers:
                if worker.alive() and worker.hung(now):
                    log(f"worker {worker.name} (pid {worker.process.pid}) has not answered "
                        f"/liveness for {worker.unanswering(now):.0f} s; killing it")
                    worker.process.kill()  # SIGKILL: also ends a stopped process
                    worker.process.wait()
                if worker.alive():
                    if now - worker.started > STABLE_S:
                        worker.pause = RESTART_PAUSE_S[0]
                    continue
                if worker.restart_at is None:
                    worker.restart_at = now + worker.pause
                    log(f"worker {worker.name} (pid {worker.process.pid}) exited with "
                        f"{worker.process.returncode}; restarting in {worker.pause:.0f} s")
                    worker.pause = min(2 * worker.pause, RESTART_PAUSE_S[1])
                    changed = True
                elif now >= worker.restart_at:
                    worker.restarts += 1
                    worker.start()
                    changed = True
            if changed:
                self.write_state()
            time.sleep(POLL_S)
        return True

    def shutdown(self) -> None:
        self.stopping = True
        processes = ([self.haproxy] if self.haproxy else []) + [
            w.process for w in self.workers if w.process is not None
        ]
        stop(processes)
        shutil.rmtree(self.config_dir, ignore_errors=True)
        if self.args.state_file:
            Path(self.args.state_file).unlink(missing_ok=True)
        log("stopped")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m serve.supervisor",
        description="Panel worker processes behind HAProxy (see serve/supervisor.py).",
    )
    parser.add_argument("--workers", type=int, default=2,
                        help="number of local worker processes (>= 1)")
    parser.add_argument("--address", default="localhost",
                        help="address HAProxy listens on: localhost, 0.0.0.0 or one address")
    parser.add_argument("--port", type=int, default=5006, help="port HAProxy listens on")
    parser.add_argument("--origin", action="append", default=[],
                        help="websocket origin host:port allowed (repeatable; default: this "
                             "server's own names and addresses with the port)")
    parser.add_argument("--remote", action="append", default=[], metavar="HOST:PORT",
                        help="a worker started on another machine (repeatable)")
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy",
                        help="the haproxy executable (default: the PATH's, else /usr/sbin's)")
    parser.add_argument("--state-file", help="keep a JSON file of the processes here")
    parser.add_argument("--print-config", action="store_true",
                        help="print HAProxy's configuration and exit")
    parser.add_argument("panel_args", nargs=argparse.REMAINDER,
                        help="after --: more arguments for each `panel serve`")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be a whole number >= 1, not {args.workers}")
    if not 0 < args.port < 65536:
        parser.error(f"--port must be in 1..65535, not {args.port}")
    for remote in args.remote:
        host, _, port = remote.rpartition(":")
        if not host or not port.isdigit():
            parser.error(f"--remote must be HOST:PORT, not {remote!r}")
    if args.panel_args[:1] == ["--"]:
        args.panel_args = args.panel_args[1:]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_config:  # the local workers' ports are free ports chosen at start
        workers = [Worker(f"w{i}", args.port + i, []) for i in range(1, args.workers + 1)]
        print(haproxy_config(bind_address(args.address, args.port), workers, args.remote))
        return 0
    if shutil.which(args.haproxy) is None:  # a path or a name on the PATH
        log(f"no haproxy executable {args.haproxy!r} found: install Debian's package "
            "(sudo apt-get install haproxy) or pass --haproxy PATH")
        return 1
    return Supervisor(args).run()


if __name__ == "__main__":
    sys.exit(main())
