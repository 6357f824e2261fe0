"""bench_classroom --speed: the app's training speed in each page's address."""

from __future__ import annotations

import pytest

from benchmarks import bench_classroom
from benchmarks.bench_classroom import PageFigures, app_address, print_browser_run


def run_of(pages: int) -> dict:
    return {"load_s": 10.0, "pages": [PageFigures(5.0, 100.0, 0.5)] * pages,
            "cpu_ms_per_update": 2.0, "not_loaded": [],
            "cpu_shares": {"server": 0.5, "server_waiting": 0.1, "browsers": 1.2}}


def test_the_speed_goes_in_the_query_only_when_asked_for():
    assert app_address("http://127.0.0.1:5006/app", None) == "http://127.0.0.1:5006/app"
    assert app_address("http://127.0.0.1:5006/app", 20) == "http://127.0.0.1:5006/app?speed=20"
    assert app_address("http://127.0.0.1:5006/app", 0) == "http://127.0.0.1:5006/app?speed=0"


def test_a_run_at_another_speed_says_so_beside_the_targets(capsys):
    print_browser_run(30, 2, run_of(30), speed=20)
    out = capsys.readouterr().out
    assert "30 Chromium page(s) on make serve WORKERS=2, training speed 20 steps / frame" in out
    assert "target 30 pages on WORKERS=2 (at speed 20, not the app's default):" in out
    print_browser_run(30, 2, run_of(30))
    out = capsys.readouterr().out
    assert "training speed" not in out and "target 30 pages on WORKERS=2:" in out


@pytest.mark.parametrize("speed", ["-1", "1001"])
def test_a_speed_out_of_range_is_refused_by_name(capsys, speed):
    with pytest.raises(SystemExit):
        bench_classroom.main(["--speed", speed, "--no-browser", "--light-sessions", "0",
                              "--no-frame-costs"])
    assert (f"--speed must be a whole number of steps per frame from 0 (fastest) to 1000, "
            f"not {speed}") in capsys.readouterr().err
