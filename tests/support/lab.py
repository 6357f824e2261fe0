"""The JupyterLab server that `make lab` starts, run on a temporary folder for a test.

The recipe is read from ``make -n lab`` (without the install step before it) and run with
``LAB_ROOT`` a folder of the test's own and ``LAB_ARGS`` giving a free loopback port and a
token, with only the configuration `make lab` gives: no ``JUPYTER*`` variable of this user,
and fresh config, runtime, settings and workspace folders (no layout of an earlier session).

    with lab_server(home, root, token) as base:
        urllib.request.urlopen(f"{base}/api/status?token={token}")
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_S = 120  # JupyterLab builds its page settings on a loaded machine
STOP_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lab_command(root: Path, lab_args: str) -> str:
    """The recipe of `make lab`, as make would run it, without the install step before it."""
    venv = Path(sys.prefix)
    result = subprocess.run(
        ["make", "-s", "-n", "-o", f"{venv}/.hessian-lab-installed-notebook", "lab",
         f"VENV={venv}", f"LAB_ROOT={root}", f"LAB_ARGS={lab_args}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert "jupyter lab" in result.stdout, result.stdout
    return result.stdout


def skip_without_lab() -> None:
    """Skip the calling test where `make lab` cannot run: no make, or no JupyterLab."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("JupyterLab is not installed (pip install -e '.[notebook]')")


@contextmanager
def lab_server(home: Path, root: Path, token: str, start_s: float = START_S) -> Iterator[str]:
    """`make lab` serving ``root`` with ``token``, its own configuration under ``home``; its
    base URL once ``/api/status`` answers. Its process group is stopped on exit (SIGTERM,
    then SIGKILL after :data:`STOP_S`); a server that exits or does not answer within
    ``start_s`` fails the test with its log."""
    skip_without_lab()
    port = free_port()
    command = lab_command(
        root, f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    environment.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
    )
    log_path = home / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            ["bash", "-c", command], cwd=ROOT, env=environment, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=10):
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("make lab did not start:\n" + log_path.read_text())
                time.sleep(0.5)
        yield base
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
