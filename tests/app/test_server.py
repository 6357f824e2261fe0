"""`panel serve app` from the repository root serves the dashboard (no browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server():
    port = free_port()
    panel = Path(sys.executable).with_name("panel")
    command = [str(panel) if panel.exists() else "panel", "serve", "app", "--port", str(port),
               "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def get(url: str, deadline: float = 90.0) -> tuple[int, str]:
    """GET with retries while the server starts."""
    start, last = time.monotonic(), None
    while time.monotonic() - start < deadline:
        try:
            with urlopen(url, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except OSError as error:  # connection refused while starting
            last = error
            time.sleep(0.5)
    raise AssertionError(f"no answer from {url}: {last}")


def test_panel_serve_app_serves_the_dashboard(server):
    status, body = get(f"{server}/app")
    assert status == 200
    assert "<title>hessian-lab</title>" in body


def test_settings_in_the_url_are_accepted(server):
    status, body = get(f"{server}/app?model=rnn&tau=6&architecture=2-x-1")
    assert status == 200
    assert "hessian-lab" in body
