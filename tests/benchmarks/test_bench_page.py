"""benchmarks/bench_page.py: the figures it derives from Chromium's metrics, and its table."""

from __future__ import annotations

import pytest

from benchmarks import bench_page
from benchmarks.bench_page import (
    MAIN_THREAD,
    STYLE_RECALCS,
    medians,
    metric_deltas,
    per_update,
    report,
    visible_updates,
)
from serve.launch import Served


def metrics(task, script, style, layout, recalcs):
    return {"TaskDuration": task, "ScriptDuration": script, "RecalcStyleDuration": style,
            "LayoutDuration": layout, STYLE_RECALCS: recalcs, "Nodes": 999}


def test_metric_deltas_keep_the_main_thread_metrics_only():
    deltas = metric_deltas(metrics(1.0, 0.5, 0.1, 0.05, 10), metrics(1.5, 0.7, 0.2, 0.06, 25))
    assert set(deltas) == {*MAIN_THREAD, STYLE_RECALCS}
    assert deltas["TaskDuration"] == pytest.approx(0.5)
    assert deltas[STYLE_RECALCS] == 15


def test_per_update_divides_the_window_by_its_visible_updates():
    deltas = metric_deltas(metrics(0, 0, 0, 0, 0), metrics(0.2, 0.1, 0.02, 0.01, 40))
    row = per_update(deltas, browser_s=0.3, server_s=0.05, updates=20, seconds=2.0)
    assert row["updates_per_s"] == 10
    assert row["TaskDuration"] == pytest.approx(10.0)  # ms per update
    assert row["ScriptDuration"] == pytest.approx(5.0)
    assert row[STYLE_RECALCS] == 2
    assert row["browser_cpu_ms"] == pytest.approx(15.0)
    assert row["server_cpu_ms"] == pytest.approx(2.5)


def test_without_an_update_there_is_no_cost_per_update():
    row = per_update(metric_deltas(metrics(0, 0, 0, 0, 0), metrics(1, 1, 1, 1, 1)),
                     browser_s=1.0, server_s=1.0, updates=0, seconds=5.0)
    assert row["updates_per_s"] == 0
    assert all(row[key] is None for key in row if key != "updates_per_s")


def test_medians_leave_out_missing_values():
    rows = [{"a": 1.0, "b": None}, {"a": 3.0, "b": None}, {"a": 2.0, "b": 4.0}]
    assert medians(rows) == {"a": 2.0, "b": 4.0}
    assert medians([{"a": None}]) == {"a": None}


def test_visible_updates_count_the_changes_after_the_first_reading():
    assert visible_updates([[0.0, 0]]) == 0
    assert visible_updates([[0.0, 0], [40.0, 12], [80.0, 30]]) == 2
    assert visible_updates([]) == 0


def subject(scale: float) -> dict:
    load = {"wall_s": 1.0 * scale, **{key: 0.1 * scale for key in MAIN_THREAD},
            STYLE_RECALCS: 100 * scale, "browser_cpu_s": 1.0 * scale, "server_cpu_s": 0.5 * scale}
    weight = {"elements": 1000 * scale, "shadow_roots": 100 * scale, "styles": 500 * scale,
              "style_chars": 1024 * 1000 * scale, "links": 50 * scale, "sidebar": 0}
    play = {"updates_per_s": 20.0, **{key: 5.0 * scale for key in MAIN_THREAD},
            STYLE_RECALCS: 4 * scale, "browser_cpu_ms": 10 * scale, "server_cpu_ms": None}
    return {"load": load, "weight": weight, "play": play}


def test_report_sets_each_subject_side_by_side_with_the_apps_ratios():
    results = {"app": subject(2.0), "app, no shims": subject(2.5), "reference": subject(1.0)}
    text = report(results, repeats=3, seconds=6)
    assert "median of 3 pages of each" in text
    header = text.splitlines()[1].split()
    assert header[:4] == ["app", "app,", "no", "shims"]
    line = next(line for line in text.splitlines() if line.startswith("  elements "))
    assert line.split() == ["elements", "2000", "2500", "1000", "2.00x", "0.80x"]
    css = next(line for line in text.splitlines() if "CSS text" in line)
    assert css.split()[-5:] == ["2000", "2500", "1000", "2.00x", "0.80x"]
    missing = next(line for line in text.splitlines() if "server's processes, CPU (ms)" in line)
    assert missing.split()[-5:] == ["-", "-", "-", "-", "-"]
    # the settings panel: 0 / 0 has no ratio
    panel = next(line for line in text.splitlines() if "settings panel" in line)
    assert panel.split()[-2:] == ["-", "-"]


def test_the_subjects_are_the_app_with_and_without_the_shims_and_the_reference():
    assert list(bench_page.SUBJECTS) == ["app", "app, no shims", "reference"]
    plain, bare = bench_page.SUBJECTS["app"](), bench_page.SUBJECTS["app, no shims"]()
    assert "HESSIAN_LAB_BROWSER_SHIMS" not in plain.env
    assert bare.environment()["HESSIAN_LAB_BROWSER_SHIMS"] == "off"


def test_served_sets_its_environment_over_this_one_without_makes_variables(monkeypatch):
    monkeypatch.setenv("MAKEFLAGS", "-j2")
    monkeypatch.setenv("HESSIAN_LAB_BROWSER_SHIMS", "on")
    environment = Served(env={"HESSIAN_LAB_BROWSER_SHIMS": "off"}).environment()
    assert environment["HESSIAN_LAB_BROWSER_SHIMS"] == "off"
    assert "MAKEFLAGS" not in environment
    assert "HESSIAN_LAB_BROWSER_SHIMS" not in Served().env


@pytest.mark.parametrize("argv, message", [(["--repeats", "0"], "--repeats must be at least 1"),
                                           (["--seconds", "0"], "--seconds must be positive")])
def test_bad_arguments_are_refused_by_name(argv, message, capsys):
    with pytest.raises(SystemExit):
        bench_page.main(argv)
    assert message in capsys.readouterr().err
