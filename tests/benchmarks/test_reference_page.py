"""The class benchmark's reference page and how the benchmark sets it beside the app."""

from __future__ import annotations

import numpy as np
import panel as pn
import pytest
from bokeh.document import Document

from benchmarks import bench_classroom, reference_page
from benchmarks.bench_classroom import PageFigures, ReferenceServed, print_reference_run
from benchmarks.reference_page import STEPS_PER_FRAME, ReferencePage, ReferenceTrainer


def test_trainer_takes_the_steps_asked_and_lowers_the_loss():
    trainer = ReferenceTrainer(seed=3)
    first = trainer.train(STEPS_PER_FRAME)
    for _ in range(50):
        last = trainer.train(STEPS_PER_FRAME)
    assert trainer.step == 51 * STEPS_PER_FRAME
    assert np.isfinite(first) and np.isfinite(last)
    assert last < first / 10  # the noise floor is 0.1**2 / 2


def test_each_frame_streams_one_point_and_writes_the_counter():
    page = ReferencePage()
    pn.panel(page).get_root(Document())
    page.frame()
    page.frame()
    assert list(page.source.data["step"]) == [STEPS_PER_FRAME, 2 * STEPS_PER_FRAME]
    assert all(loss > 0 for loss in page.source.data["loss"])
    assert page.counter.object == f"step {2 * STEPS_PER_FRAME}"
    assert bench_classroom.STEP.search(page.counter.object).group(1) == "40"


class FakeCallback:
    def __init__(self):
        self.stopped = False

    def stop(self):
        self.stopped = True


def test_play_starts_and_pause_stops_the_frames(monkeypatch):
    started = []

    def add_periodic_callback(callback, period):
        started.append((callback, period, FakeCallback()))
        return started[-1][2]

    monkeypatch.setattr(pn.state, "add_periodic_callback", add_periodic_callback)
    page = ReferencePage()
    page.play.clicks += 1
    assert page.playing and page.play.label == "Pause"
    [(callback, period, handle)] = started
    assert callback == page.frame and period == reference_page.FRAME_MS
    page.play.clicks += 1
    assert not page.playing and page.play.label == "Play" and handle.stopped


def test_reference_server_serves_the_reference_page_to_its_own_origin_only():
    served = ReferenceServed(port=5999)
    command = served.command()
    assert str(bench_classroom.REFERENCE_PAGE) in command
    assert "--allow-websocket-origin=127.0.0.1:5999" in command
    assert not any(part.endswith("=*") for part in command)
    assert served.page_url == "http://127.0.0.1:5999/reference_page"


def test_the_served_reference_page_sets_its_process_up_as_the_app(monkeypatch):
    import runpy

    import app.page.serving

    calls = []
    monkeypatch.setattr(app.page.serving, "configure_served_process", lambda: calls.append(1))
    monkeypatch.setattr(type(pn.state), "served", property(lambda self: True))
    monkeypatch.setattr(ReferencePage, "servable", lambda self, **options: self)
    runpy.run_path(reference_page.__file__)
    assert calls == [1]


def run_of(updates: list[float], gap: float, load_s: float, cpu_ms: float | None) -> dict:
    return {"pages": [PageFigures(u, 100 * u, gap) for u in updates], "load_s": load_s,
            "cpu_ms_per_update": cpu_ms, "not_loaded": [],
            "cpu_shares": {"server": 0.5, "server_waiting": 0.1, "browsers": 1.2}}


def test_the_app_is_printed_as_ratios_of_the_reference(capsys):
    app = run_of([2.0, 4.0, 6.0], gap=3.0, load_s=60.0, cpu_ms=6.0)
    reference = run_of([8.0, 8.0, 8.0], gap=0.5, load_s=30.0, cpu_ms=3.0)
    print_reference_run(3, app, reference)
    out = capsys.readouterr().out
    assert "median updates/s 0.50x, slowest page 0.25x" in out
    assert "worst gap 6.00x; load time 2.00x; server CPU per update 2.00x" in out
    assert out.rstrip().endswith("NOT met")


@pytest.mark.parametrize("app_load, verdict", [(30.0, "met"), (30.5, "NOT met")])
def test_no_worse_needs_every_figure_at_least_as_good(capsys, app_load, verdict):
    reference = run_of([5.0, 5.0], gap=0.5, load_s=30.0, cpu_ms=None)
    app = run_of([5.0, 6.0], gap=0.5, load_s=app_load, cpu_ms=2.0)
    print_reference_run(2, app, reference)
    out = capsys.readouterr().out
    assert "server CPU per update -" in out  # no reference figure: no ratio
    assert out.rstrip().endswith(f": {verdict}")
