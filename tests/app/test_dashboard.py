"""Parameter-level tests of the dashboard: no browser, no server."""

from __future__ import annotations

import numpy as np
import pytest

from app import Dashboard
from app.configuration.settings import VIEWS, ArchitectureError, Settings, parse_architecture
from app.training.session import TrainingSession
from tests.support.views import csv_download, npz_download, parts


def weights_of(dashboard):
    return [array.copy() for array in dashboard.session.parameters()]


def test_step_and_reset_change_state():
    dashboard = Dashboard()
    before = weights_of(dashboard)
    assert dashboard.session.step == 0
    assert dashboard.step()
    assert dashboard.session.step == 1
    assert dashboard.readouts.step == "step 1"
    assert any(not np.array_equal(a, b) for a, b in zip(before, weights_of(dashboard), strict=True))
    assert len(dashboard.session.loss_values) == 1
    dashboard.reset()
    assert dashboard.session.step == 0
    assert dashboard.readouts.step == "step 0"
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(dashboard), strict=True))


def test_training_lowers_the_loss():
    dashboard = Dashboard(dataset="blobs", learning_rate=0.05, seed=1)
    first = dashboard.session.current_loss()
    dashboard.session.train(150)
    X, Z = dashboard.session.data.X, dashboard.session.data.Z
    assert dashboard.session.net.loss(X, Z) < first


def test_seed_reproduces_data_and_weights():
    one, two = Dashboard(seed=7), Dashboard(seed=7)
    for a, b in zip(weights_of(one), weights_of(two), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.session.data.X, two.session.data.X)
    one.session.train(5)
    two.session.train(5)
    for a, b in zip(weights_of(one), weights_of(two), strict=True):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_and_momentum_change_without_reset():
    dashboard = Dashboard()
    dashboard.session.train(3)
    version, net = dashboard.session.version, dashboard.session.net
    dashboard.settings.learning_rate = 0.2
    dashboard.settings.momentum = 0.5
    assert dashboard.session.step == 3
    assert dashboard.session.version == version
    assert dashboard.session.net is net
    assert dashboard.sidebar.learning_rate_slider.value == 0.2
    # the next step uses the new values: v = 0.5 v + g, W -= 0.2 v
    weights = weights_of(dashboard)
    dashboard.session.train_step()
    for w_old, w_new, v_new in zip(weights, weights_of(dashboard),
                                   dashboard.session.run.velocities, strict=True):
        np.testing.assert_allclose(w_new, w_old - 0.2 * v_new, rtol=1e-12, atol=1e-14)
    assert dashboard.session.step == 4


def test_structural_change_rebuilds():
    dashboard = Dashboard()
    dashboard.session.train(2)
    version = dashboard.session.version
    dashboard.settings.architecture = "2-5-3-1"
    assert dashboard.session.version == version + 1
    assert dashboard.session.layer_sizes == (2, 5, 3, 1)
    assert dashboard.session.step == 0
    assert dashboard.sidebar.widgets["layer"].end == 3
    dashboard.settings.model = "rnn"
    assert dashboard.session.is_rnn
    # the default RNN: the adding task (2 inputs), two hidden levels of 8, a batch of 4
    assert dashboard.session.layer_sizes == (2, 8, 8, 1)
    assert dashboard.session.X.shape == (4, 8, 2)
    dashboard.settings.tau = 5
    assert dashboard.session.X.shape == (4, 5, 2)


def test_dataset_change_fits_the_architecture():
    dashboard = Dashboard(architecture="2-6-1")
    version = dashboard.session.version
    dashboard.settings.dataset = "regression"
    assert dashboard.settings.architecture == "1-6-1"
    assert dashboard.sidebar.architecture_input.value == "1-6-1"
    assert dashboard.session.layer_sizes == (1, 6, 1)
    assert dashboard.session.version == version + 1
    assert not dashboard.messages


def test_invalid_architecture_does_not_stop_training():
    dashboard = Dashboard()
    dashboard.session.running = True
    dashboard.settings.architecture = "2-x-1"
    assert dashboard.session.running
    dashboard.tick()
    assert dashboard.session.step >= 1


@pytest.mark.parametrize("text", ["2-x-1", "2", "3-8-1", "2-8-2", "2--1", "2-0-1"])
def test_invalid_architecture_keeps_the_model_and_says_why(text):
    dashboard = Dashboard()
    dashboard.session.train(2)
    net, step = dashboard.session.net, dashboard.session.step
    dashboard.settings.architecture = text
    assert dashboard.session.net is net
    assert dashboard.session.step == step
    assert dashboard.messages.get("architecture")
    assert dashboard.sidebar.architecture_message.visible
    assert "2-8-8-1" in dashboard.sidebar.architecture_message.object
    dashboard.session.train(1)  # still trains the old model
    assert dashboard.session.step == step + 1
    dashboard.settings.architecture = "2-4-1"
    assert dashboard.session.layer_sizes == (2, 4, 1)
    assert not dashboard.messages.get("architecture")
    assert not dashboard.sidebar.architecture_message.visible


def test_parse_architecture():
    assert parse_architecture("2-16-16-1") == (2, 16, 16, 1)
    with pytest.raises(ArchitectureError):
        parse_architecture("2-x-1")


def test_non_finite_loss_pauses_and_keeps_finite_weights():
    dashboard = Dashboard(dataset="regression", architecture="1-8-1", activation="identity",
                          clip_norm=0.0)
    dashboard.session.train(3)
    dashboard.settings.learning_rate = 10.0
    dashboard.settings.momentum = 0.99
    dashboard.session.running = True
    for _ in range(300):
        if not dashboard.session.train_step():
            break
    assert not dashboard.session.running
    assert "Paused" in dashboard.session.status
    assert dashboard.sidebar.status.visible
    assert dashboard.sidebar.play_button.label.endswith("Play")
    for array in dashboard.session.parameters():
        assert np.all(np.isfinite(array))
    assert np.isfinite(dashboard.session.current_loss())


def test_nan_in_the_loss_pauses(monkeypatch):
    dashboard = Dashboard()
    dashboard.session.train(2)
    step = dashboard.session.step
    dashboard.session.running = True
    # the step takes its loss with the gradients from one forward pass
    monkeypatch.setattr(dashboard.session.net, "loss_and_gradients",
                        lambda *args, **keywords: (float("nan"), []))
    assert not dashboard.session.train_step()
    assert not dashboard.session.running
    assert "nan" in dashboard.session.status
    assert dashboard.session.step == step
    for array in dashboard.session.parameters():
        assert np.all(np.isfinite(array))


def test_url_values_are_applied_one_by_one():
    settings = Settings()
    errors = settings.apply({
        "model": "rnn", "tau": "12", "learning_rate": "0.01", "activation": "tanh",
        "batch_size": "abc", "view": "nonsense", "architecture": "2-x-1",
    })
    assert settings.model == "rnn" and settings.tau == 12
    assert settings.learning_rate == 0.01 and settings.activation == "tanh"
    assert set(errors) == {"batch_size", "view", "architecture"}
    assert settings.batch_size == Settings().batch_size and settings.view == "training"
    assert settings.architecture == "2-8-8-1"


def test_url_error_handler_reports_next_to_the_controls():
    from panel.io.location import Location

    dashboard = Dashboard()
    # the address as a whole cannot be applied: its values are applied one by one
    dashboard.sync_location(Location(search="?seed=3&momentum=lots&architecture=2-8-1"))
    assert dashboard.settings.seed == 3
    assert dashboard.session.layer_sizes == (2, 8, 1)
    assert "momentum" in dashboard.messages
    assert dashboard.sidebar.url_message.visible
    assert "momentum" in dashboard.sidebar.url_message.object


def test_settings_given_as_keywords_reproduce_a_configuration():
    dashboard = Dashboard(model="rnn", task="echo", tau=6, hidden_width=5, batch_size=4,
                          view="spectrum", layer=2)
    assert dashboard.session.layer_sizes == (1, 5, 5, 1)  # two hidden levels by default
    assert dashboard.session.X.shape == (4, 6, 1)
    assert dashboard.main.tabs.active == VIEWS.index("spectrum")


def test_lesson_sets_controls_and_explains():
    dashboard = Dashboard()
    dashboard.sidebar.lesson_select.value = "rank-r"
    assert dashboard.settings.view == "rank"
    assert dashboard.settings.batch_size == 4
    assert dashboard.session.layer_sizes == (2, 16, 16, 1)
    assert dashboard.main.lesson_box.visible
    assert "$$" in dashboard.main.lesson_equation.object


def test_tick_trains_only_when_running_and_skips_overlap(monkeypatch):
    import app.page.dashboard

    monkeypatch.setattr(app.page.dashboard, "TICK_BUDGET_S", 60.0)  # a busy machine must not matter
    dashboard = Dashboard()
    assert dashboard.tick()
    assert dashboard.session.step == 0
    dashboard.session.running = True
    dashboard.tick(steps=3)
    assert dashboard.session.step == 3
    dashboard.loop.busy = True
    assert dashboard.tick() is False
    assert dashboard.session.step == 3


def test_tick_work_is_bounded_in_time(monkeypatch):
    import app.page.dashboard

    monkeypatch.setattr(app.page.dashboard, "TICK_BUDGET_S", 0.0)
    dashboard = Dashboard()
    dashboard.session.running = True
    dashboard.tick(steps=50)
    assert dashboard.session.step == 1  # the budget stops training after the first step


def test_sessions_are_independent():
    one, two = Dashboard(), Dashboard()
    one.session.train(4)
    assert two.session.step == 0
    assert one.settings is not two.settings
    one.settings.architecture = "2-3-1"
    assert two.session.layer_sizes == (2, 8, 8, 1)


def test_close_frees_arrays():
    dashboard = Dashboard()
    dashboard.close()
    assert dashboard.session.net is None and dashboard.session.X is None
    assert all(not view.arrays for view in dashboard.views.values())


@pytest.mark.parametrize("model", ["fnn", "rnn"])
@pytest.mark.parametrize("view", VIEWS)
def test_every_view_draws(rendered, model, view):
    dashboard = rendered(model=model, view=view)
    dashboard.session.running = True
    for _ in range(2):
        dashboard.tick()
    assert dashboard.session.step == 2
    assert dashboard.views[view].arrays, f"{view} produced no data"
    assert "Could not draw" not in dashboard.views[view].note


@pytest.mark.parametrize("options", [
    dict(scope="sample", formula="paper", layer=2),
    dict(activation="sigmoid", output_activation="sigmoid", formula="paper"),
    dict(model="rnn", wrt="U", formula="paper", time_step=3, levels=2),
    dict(model="rnn", scope="sample", task="adding", activation="tanh"),
    dict(dataset="regression", architecture="1-8-1"),
])
@pytest.mark.parametrize("view", ["rank", "kronecker", "masks", "spectrum", "errata", "training"])
def test_views_under_other_settings(rendered, options, view):
    dashboard = rendered(view=view, **options)
    dashboard.step()
    assert dashboard.views[view].arrays


def test_wide_layers_are_block_averaged(rendered):
    dashboard = rendered(architecture="2-32-32-1", view="kronecker", layer=2)
    assert "means of" in dashboard.views["kronecker"].note
    assert dashboard.views["kronecker"].arrays["H"].shape == (1024, 1024)


def test_downloads_give_csv_and_npz(rendered):
    dashboard = rendered(view="spectrum")
    view = dashboard.views["spectrum"]
    text = csv_download(view)
    assert text.startswith("array,row,column,value\n") and "eigenvalues" in text
    archive = npz_download(view)
    assert "eigenvalues" in archive.files and "weyl_lower" in archive.files


def test_training_session_standalone():
    session = TrainingSession(Settings(model="rnn", task="adding"))
    assert session.X.shape[-1] == 2
    assert session.train(3) == 3


def test_gradient_clipping_bounds_the_step():
    dashboard = Dashboard(clip_norm=0.01, learning_rate=0.5, momentum=0.0)
    before = weights_of(dashboard)
    dashboard.session.train_step()
    change = np.sqrt(sum(float(np.sum((a - b) ** 2))
                         for a, b in zip(before, weights_of(dashboard), strict=True)))
    assert change <= 0.5 * 0.01 * (1 + 1e-9)


def test_very_wide_layers_fall_back_without_forming_the_hessian(rendered):
    dashboard = rendered(architecture="2-256-256-1", view="kronecker", layer=2, batch_size=16)
    view = dashboard.views["kronecker"]
    assert view.arrays["H_block_means"].shape == (256, 256)
    assert "H" not in view.arrays
    dashboard.settings.view = "spectrum"
    assert "too large" in dashboard.views["spectrum"].note
    dashboard.settings.view = "errata"
    assert "too large" in dashboard.views["errata"].note
    dashboard.settings.view = "masks"
    assert dashboard.views["masks"].arrays


def test_block_means_match_the_dense_hessian():
    from app.views.kronecker import block_means
    from hessian_core import FNN, RNN

    rng = np.random.default_rng(0)
    net = FNN.random((3, 4, 5, 2), activation="tanh", seed=1)
    X, Z = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    h = net.hessian(X, Z, layer=2)
    dense = np.asarray(h.dense()).reshape(5, 4, 5, 4)
    np.testing.assert_allclose(block_means(h), dense.mean(axis=(1, 3)), atol=1e-12)
    rnn = RNN.random((2, 3, 1), activation="tanh", seed=2)
    X, Z = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 1))
    h = rnn.hessian(X, Z, layer=1, t=3)
    dense = np.asarray(h.dense()).reshape(3, 2, 3, 2)
    np.testing.assert_allclose(block_means(h), dense.mean(axis=(1, 3)), atol=1e-12)


def test_a_lesson_rebuilds_and_redraws_once(monkeypatch):
    dashboard = Dashboard()
    rebuilds, redraws = [], []
    rebuild = dashboard.session.rebuild
    monkeypatch.setattr(dashboard.session, "rebuild", lambda: rebuilds.append(1) or rebuild())
    for view in dashboard.views.values():
        monkeypatch.setattr(view, "refresh",
                            lambda original=view.refresh: redraws.append(1) or original())
    dashboard.sidebar.lesson_select.value = "rank-t"
    assert dashboard.settings.model == "rnn" and dashboard.settings.view == "rank"
    assert len(rebuilds) == 1
    assert len(redraws) == 1


def test_huge_rnn_hessians_are_refused_not_computed(rendered):
    dashboard = rendered(model="rnn", hidden_width=64, tau=64, batch_size=64, view="kronecker")
    assert "too many" in dashboard.views["kronecker"].note
    dashboard.settings.scope = "sample"
    assert "too many" not in dashboard.views["kronecker"].note


def test_url_query_string_is_applied_and_written_back():
    from panel.io.location import Location

    location = Location(search="?model=rnn&tau=6&view=spectrum&batch_size=oops&architecture=2-x-1")
    dashboard = Dashboard()
    dashboard.sync_location(location)
    assert dashboard.settings.model == "rnn" and dashboard.settings.tau == 6
    assert dashboard.settings.view == "spectrum"
    assert dashboard.session.X.shape[1] == 6
    assert dashboard.settings.batch_size == Settings().batch_size
    assert "batch_size" in dashboard.messages
    assert dashboard.sidebar.url_message.visible
    dashboard.settings.hidden_width = 5
    assert "hidden_width=5" in location.search


@pytest.mark.parametrize("view", ["kronecker", "spectrum", "errata"])
def test_heavy_views_compute_on_the_worker_while_ticks_go_on(rendered, view, monkeypatch):
    import time

    from app.views import common

    # every computation counts as heavy here (these ones take less than the threshold)
    monkeypatch.setattr(common, "INLINE_COMPUTE_S", 0.0)
    dashboard = rendered(model="rnn", view=view, formula="paper", tau=6)
    dashboard.start_worker()
    dashboard.session.running = True
    worker = dashboard.views[view]
    before = dashboard.loop.last_redraw_end
    deadline = time.monotonic() + 60
    while dashboard.loop.last_redraw_end == before and time.monotonic() < deadline:
        dashboard.tick()
        time.sleep(0.01)
    assert dashboard.loop.last_redraw_end != before, "the redraw never finished"
    assert worker.worker_seconds > 0
    assert worker.arrays and "Could not draw" not in worker.note
    dashboard.close()
    assert dashboard.loop.executor is None


def test_a_closed_page_stops_training_at_the_next_tick():
    """Served: once no browser is connected (a closed tab), the tick pauses instead of
    training and pushing updates until Bokeh destroys the session some 20 s later."""
    from types import SimpleNamespace

    dashboard = Dashboard()
    server_session = SimpleNamespace(connection_count=1, destroyed=False)
    dashboard.loop.session_context = SimpleNamespace(session=server_session)
    dashboard.session.running = True
    assert dashboard.tick() and dashboard.session.step == 1
    server_session.connection_count = 0
    assert dashboard.tick() is False
    assert not dashboard.session.running and dashboard.session.step == 1


def test_served_dashboard_is_built_from_the_url_at_once(monkeypatch):
    """A link's settings are in force when the dashboard is built: no default FNN drawn first."""
    import panel as pn
    from panel.io.location import Location

    location = Location(search="?model=rnn&tau=5&view=spectrum&sparse=truncate&truncate=2")
    monkeypatch.setattr(type(pn.state), "location", property(lambda self: location))
    dashboard = Dashboard(sync_url=True)
    assert dashboard.session.version == 1  # built once, as an RNN
    assert dashboard.session.is_rnn and dashboard.session.X.shape[1] == 5
    assert dashboard.session.rule == {"truncate": 2}
    assert dashboard.main.tabs.active == VIEWS.index("spectrum")
    training = dashboard.views["training"]  # the hidden tab was never drawn
    assert not training.arrays
    assert not any(isinstance(part, pn.pane.Bokeh) for part, _ in parts(training))


def test_a_link_of_an_older_version_opens_without_its_retired_pace_settings(monkeypatch):
    """``steps_per_tick`` and ``refresh_every`` were settings before ``speed``: a link that
    names them opens without a note, and the address the page then shows drops them."""
    import panel as pn
    from panel.io.location import Location

    location = Location(search="?steps_per_tick=5&refresh_every=3&speed=1&seed=4")
    monkeypatch.setattr(type(pn.state), "location", property(lambda self: location))
    dashboard = Dashboard(sync_url=True)
    assert not dashboard.messages
    assert (dashboard.settings.speed, dashboard.settings.seed) == (1, 4)
    assert "steps_per_tick" not in dashboard.settings.param
    assert "refresh_every" not in dashboard.settings.param
    assert "steps_per_tick" not in location.search and "speed=1" in location.search


def test_the_training_views_download_holds_the_loss_of_every_step_up_to_now(rendered):
    dashboard = rendered(view="training")
    dashboard.session.running = True
    for _ in range(3):
        dashboard.tick()
    view = dashboard.views["training"]
    assert "loss" not in view.arrays  # a redraw does not copy the history
    dashboard.session.train(4)  # trained after the last redraw: the download has it
    arrays = view.download_arrays()
    np.testing.assert_array_equal(arrays["loss_step"], dashboard.session.loss_steps)
    np.testing.assert_array_equal(arrays["loss"], dashboard.session.loss_values)
    assert arrays["loss_step"][-1] == dashboard.session.step == 7
    assert set(view.arrays) < set(arrays)
    archive = npz_download(view)
    np.testing.assert_array_equal(archive["loss"], dashboard.session.loss_values)


@pytest.mark.parametrize("view", ["kronecker", "spectrum", "errata", "network"])
def test_a_cheap_computation_runs_in_the_frame_and_a_costly_one_on_the_worker(rendered, view):
    from concurrent.futures import ThreadPoolExecutor

    from app.views.common import INLINE_COMPUTE_S, WAITING

    dashboard = rendered(model="rnn", view=view)
    worker = dashboard.views[view]
    worker.compute_seconds = float("inf")
    worker.refresh()  # as after a settings change: in the frame, and measured
    assert worker.compute_seconds < float("inf")  # measured
    worker.compute_seconds = INLINE_COMPUTE_S  # as if measured cheap
    with ThreadPoolExecutor(max_workers=1) as executor:
        worker.executor = executor
        worker.worker_seconds = 0.0
        steps = list(worker.redraw())  # a live redraw
        assert WAITING not in steps and worker.worker_seconds == 0.0
        worker.compute_seconds = float("inf")  # as if it had become costly
        list(worker.redraw())
        assert worker.worker_seconds > 0.0  # computed on the worker thread
        assert worker.compute_seconds < float("inf")  # and measured there again
        worker.executor = None
    assert worker.arrays and "Could not draw" not in worker.note
