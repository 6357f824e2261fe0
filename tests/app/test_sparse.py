"""Sparse back-propagation in the dashboard: the rules train, the comparison is right,
refused rules keep the last valid one, and the settings travel in the URL (no browser)."""

from __future__ import annotations

import numpy as np
import pytest

from app import Dashboard
from app.configuration.settings import (
    SparseRuleError,
    parse_backtrack,
    parse_sparse_rule,
    parse_topk,
)
from app.training.session import cosine_similarity
from tests.support.views import csv_download, npz_download

RNN = dict(model="rnn", hidden_width=6, tau=6, batch_size=4)
RULES = [
    pytest.param(dict(sparse="topk", topk="2"), {"topk": 2}, id="fnn-topk-count"),
    pytest.param(dict(sparse="topk", topk="0.25"), {"topk": 0.25}, id="fnn-topk-fraction"),
    pytest.param(dict(RNN, sparse="topk", topk="0.5"), {"topk": 0.5}, id="rnn-topk"),
    pytest.param(dict(RNN, sparse="truncate", truncate=2), {"truncate": 2}, id="rnn-truncate"),
    pytest.param(dict(RNN, sparse="backtrack", backtrack="largest:2"),
                 {"backtrack": "largest:2"}, id="rnn-largest"),
    pytest.param(dict(RNN, sparse="backtrack", backtrack="1, 3,5"),
                 {"backtrack": frozenset({1, 3, 5})}, id="rnn-steps"),
]


def parameters(session, net):
    return [array.copy() for array in session.parameters(net)]


@pytest.mark.parametrize(("settings", "rule"), RULES)
def test_each_rule_trains_beside_a_full_run(settings, rule):
    dashboard = Dashboard(**settings)
    session = dashboard.session
    assert session.rule == rule and not dashboard.messages
    assert session.full_net is not None
    # the twin starts from the same initial weights
    for a, b in zip(parameters(session, session.net), parameters(session, session.full_net),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert session.train(3) == 3
    assert session.step == 3
    assert np.all(np.isfinite(session.loss_values))
    assert np.all(np.isfinite(session.full_loss_values))
    assert len(session.full_loss_values) == len(session.similarity_values) == 3
    assert np.asarray(session.similarity_values).shape == (3, len(session.gradient_names()))
    assert np.all(np.abs(np.asarray(session.similarity_values)) <= 1 + 1e-12)
    # the twin trained too, differently from the sparse run
    assert any(not np.array_equal(a, b) for a, b in zip(
        parameters(session, session.net), parameters(session, session.full_net), strict=True))
    assert dashboard.step() and session.step == 4


@pytest.mark.parametrize(("settings", "rule"), RULES)
def test_recorded_similarity_is_the_cores(settings, rule):
    """The cosine recorded at a step is that of hessian_core's sparse and full gradients
    for the same weights and the same batch."""
    dashboard = Dashboard(**settings)
    session = dashboard.session
    session.train(2)
    net = session.run.with_parameters(session.run.last_good)  # where the last step started
    keywords = session.loss_keywords()
    sparse = net.gradients(session.X, session.Z, **keywords, **rule)
    full = net.gradients(session.X, session.Z, **keywords)
    expected = []
    for g, h in zip(sparse, full, strict=True):
        expected.append(cosine_similarity(g.W, h.W))
        if session.is_rnn:
            expected.append(cosine_similarity(g.U, h.U))
    np.testing.assert_allclose(session.similarity_values[-1], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("settings", [
    dict(sparse="topk", topk="0.25", layer=2),
    dict(RNN, sparse="truncate", truncate=2, time_step=5, wrt="U"),
    dict(RNN, sparse="backtrack", backtrack="2,4", scope="sample", time_step=4),
])
def test_view_shows_the_cores_comparison(rendered, settings):
    from hessian_core.rank import numerical_rank, singular_values

    dashboard = rendered(view="sparse", **settings)
    dashboard.session.running = True
    for _ in range(3):
        dashboard.tick()
    dashboard.refresh_view()
    view, session = dashboard.views["sparse"], dashboard.session
    X, Z = view.batch()
    extra = {"t": view.time_step()} if session.is_rnn else {}
    sparse = session.net.gradients(X, Z, **extra, **session.rule)
    full = session.net.gradients(X, Z, **extra)
    for g, h in zip(sparse, full, strict=True):
        k = g.layer
        np.testing.assert_allclose(view.arrays[f"cosine_W{k}"], [cosine_similarity(g.W, h.W)],
                                   rtol=1e-12)
        np.testing.assert_allclose(view.arrays[f"sigma_sparse_W{k}"], singular_values(g.W))
        np.testing.assert_allclose(view.arrays[f"sigma_full_W{k}"], singular_values(h.W))
        assert list(view.arrays[f"rank_W{k}"]) == [numerical_rank(h.W), numerical_rank(g.W)]
    assert "loss_sparse" not in view.arrays  # a redraw does not copy the history
    downloaded = view.download_arrays()
    assert downloaded["loss_sparse"].size == downloaded["loss_full"].size == session.step
    assert downloaded["similarity"].shape == (session.step, len(session.gradient_names()))
    np.testing.assert_array_equal(downloaded["loss_step"], session.loss_steps)
    assert "Could not draw" not in view.note and session.rule_text in view.note


def test_truncation_of_one_sample_drops_the_rank_to_K(rendered):
    """Eq. (55) keeps its last K terms: for one sample the rank of G_U^(k,t) is at most K."""
    dashboard = rendered(view="sparse", **dict(RNN, hidden_width=8, tau=8), sparse="truncate",
                         truncate=2, scope="sample", time_step=8, wrt="U")
    dashboard.step()
    full_rank, sparse_rank = dashboard.views["sparse"].arrays["rank_U1"]
    assert sparse_rank <= 2 < full_rank


def test_rule_none_gives_similarity_one_and_one_run(rendered):
    dashboard = rendered(view="sparse")
    session = dashboard.session
    assert session.rule == {} and session.full_net is None and session.reference_net is session.net
    session.running = True
    for _ in range(3):
        dashboard.tick()
    dashboard.refresh_view()
    assert session.loss_values == session.full_loss_values
    np.testing.assert_array_equal(session.similarity_values, np.ones((3, 3)))
    arrays = dashboard.views["sparse"].arrays
    for k in (1, 2, 3):
        np.testing.assert_allclose(arrays[f"cosine_W{k}"], [1.0], rtol=1e-14)
        np.testing.assert_array_equal(arrays[f"sigma_full_W{k}"], arrays[f"sigma_sparse_W{k}"])


def test_a_rule_that_keeps_everything_trains_the_twin_identically():
    """top-k with k = the widest level keeps every entry: the sparse run and its full-backprop
    twin (same initial weights, same batches) stay equal, which checks the twin's set-up."""
    dashboard = Dashboard(architecture="2-8-8-1", sparse="topk", topk="8")
    session = dashboard.session
    assert session.full_net is not None
    session.train(5)
    assert session.loss_values == session.full_loss_values
    for a, b in zip(parameters(session, session.net), parameters(session, session.full_net),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(session.similarity_values, 1.0, rtol=1e-12)


def test_reset_restarts_both_runs_together():
    dashboard = Dashboard(sparse="topk", topk="1")
    session = dashboard.session
    start = parameters(session, session.net)
    session.train(3)
    dashboard.reset()
    assert session.step == 0 and session.full_loss_values == [] and session.similarity_values == []
    for a, b, c in zip(start, parameters(session, session.net),
                       parameters(session, session.full_net), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_changing_the_rule_restarts_both_runs():
    dashboard = Dashboard(sparse="topk", topk="2")
    dashboard.session.train(3)
    version = dashboard.session.version
    dashboard.settings.topk = "0.5"
    assert dashboard.session.rule == {"topk": 0.5}
    assert dashboard.session.step == 0 and dashboard.session.version == version + 1
    dashboard.settings.sparse = "none"
    assert dashboard.session.full_net is None


@pytest.mark.parametrize(("change", "reason"), [
    (dict(sparse="truncate"), "needs an RNN"),
    (dict(sparse="backtrack"), "needs an RNN"),
    (dict(topk="many"), "not a number"),
    (dict(topk="1.5"), "whole count"),
    (dict(topk="0"), "whole count"),
])
def test_invalid_rule_keeps_the_last_valid_one_with_a_message(change, reason):
    dashboard = Dashboard(sparse="topk", topk="2")
    session = dashboard.session
    session.train(2)
    net, full, version = session.net, session.full_net, session.version
    session.running = True
    for name, value in change.items():
        setattr(dashboard.settings, name, value)
    assert session.rule == {"topk": 2}
    assert session.net is net and session.full_net is full and session.version == version
    assert session.running and session.step == 2
    assert reason in dashboard.messages["sparse"]
    message = dashboard.sidebar.sparse_message
    assert message.visible and reason in message.object
    assert "Still training with top-k" in dashboard.sidebar.sparse_message.object
    assert session.train(1) == 1  # the last valid rule still trains
    dashboard.settings.param.update(sparse="topk", topk="3")
    assert session.rule == {"topk": 3} and "sparse" not in dashboard.messages
    assert not dashboard.sidebar.sparse_message.visible


def test_rnn_rule_refused_after_switching_to_fnn_falls_back_to_full_backprop():
    dashboard = Dashboard(**RNN, sparse="truncate", truncate=3)
    assert dashboard.session.rule == {"truncate": 3}
    dashboard.settings.truncate = 9  # above tau = 6 (possible from the URL)
    assert dashboard.session.rule == {"truncate": 3}
    assert "τ = 6" in dashboard.messages["sparse"]
    dashboard.settings.model = "fnn"
    assert not dashboard.session.is_rnn and dashboard.session.rule == {}
    assert "needs an RNN" in dashboard.sidebar.sparse_message.object
    assert "none (full backprop)" in dashboard.sidebar.sparse_message.object
    assert dashboard.session.train(2) == 2


def test_shorter_tau_clamps_the_truncation_window():
    dashboard = Dashboard(**RNN, sparse="truncate", truncate=5)
    dashboard.settings.tau = 3
    assert dashboard.settings.truncate == 3 and dashboard.session.rule == {"truncate": 3}
    assert dashboard.sidebar.widgets["truncate"].end == 3
    assert not dashboard.messages


def test_only_the_rules_parameter_is_shown():
    dashboard = Dashboard()
    controls = dashboard.sidebar.widgets
    assert not any(controls[name].visible for name in ("topk", "truncate", "backtrack"))
    dashboard.settings.sparse = "topk"
    assert controls["topk"].visible and not controls["truncate"].visible
    dashboard.settings.model = "rnn"
    dashboard.settings.sparse = "backtrack"
    assert controls["backtrack"].visible and not controls["topk"].visible


def test_parsers():
    assert parse_topk("3") == 3 and parse_topk("0.05") == 0.05 and parse_topk("5%") == 0.05
    assert parse_backtrack("largest:4") == "largest:4"
    assert parse_backtrack("1 2,7") == frozenset({1, 2, 7})
    assert parse_sparse_rule("none", "x", 0, "x", "fnn", 4) == {}
    for bad in [("topk", "2.5", 1, "", "fnn", 4), ("truncate", "1", 5, "", "rnn", 4),
                ("backtrack", "1", 1, "largest:0", "rnn", 4),
                ("backtrack", "1", 1, "2,9", "rnn", 4),
                ("truncate", "1", 2, "", "fnn", 4)]:
        with pytest.raises(SparseRuleError):
            parse_sparse_rule(*bad)


def test_sparse_settings_round_trip_through_the_url():
    from panel.io.location import Location

    location = Location(search="?model=rnn&tau=6&sparse=backtrack&backtrack=1%2C3&view=sparse")
    dashboard = Dashboard()
    dashboard.sync_location(location)
    assert dashboard.settings.sparse == "backtrack" and dashboard.settings.backtrack == "1,3"
    assert dashboard.session.rule == {"backtrack": frozenset({1, 3})}
    assert dashboard.settings.view == "sparse" and not dashboard.messages
    dashboard.settings.param.update(sparse="truncate", truncate=4)
    assert "sparse=truncate" in location.search and "truncate=4" in location.search
    dashboard.settings.param.update(sparse="topk", topk="0.1")
    assert "topk=0.1" in location.search
    # the written query string reproduces the configuration in a fresh session
    again = Dashboard()
    again.sync_location(Location(search=location.search))
    assert again.session.rule == {"topk": 0.1} and again.session.is_rnn
    assert again.settings.truncate == 4


def test_invalid_sparse_url_values_show_next_to_the_control():
    from panel.io.location import Location

    dashboard = Dashboard()
    dashboard.sync_location(Location(search="?sparse=truncate&truncate=3"))
    assert dashboard.session.rule == {}
    assert dashboard.sidebar.sparse_message.visible
    assert "needs an RNN" in dashboard.sidebar.sparse_message.object
    assert not dashboard.sidebar.url_message.visible  # shown beside the sparse controls instead
    assert dashboard.session.train(1) == 1
    other = Dashboard()
    other.sync_location(Location(search="?sparse=topk&topk=lots"))
    assert other.session.rule == {}
    message = other.sidebar.sparse_message
    assert "not a number" in message.object and message.visible
    assert other.session.train(1) == 1


def test_sparse_lesson_sets_the_rule_in_one_rebuild(monkeypatch):
    dashboard = Dashboard()
    rebuilds = []
    rebuild = dashboard.session.rebuild
    monkeypatch.setattr(dashboard.session, "rebuild", lambda: rebuilds.append(1) or rebuild())
    dashboard.sidebar.lesson_select.value = "truncated-bptt"
    assert dashboard.session.rule == {"truncate": 2} and dashboard.settings.view == "sparse"
    assert len(rebuilds) == 1 and not dashboard.messages
    dashboard.sidebar.lesson_select.value = "meprop"
    assert dashboard.session.rule == {"topk": 0.05} and not dashboard.session.is_rnn
    dashboard.sidebar.lesson_select.value = "rank-1"
    assert dashboard.session.rule == {}


def test_sparse_view_downloads(rendered):
    dashboard = rendered(view="sparse", sparse="topk", topk="0.5")
    dashboard.step()
    view = dashboard.views["sparse"]
    text = csv_download(view)
    assert text.startswith("array,row,column,value\n") and "similarity" in text
    archive = npz_download(view)
    for name in ("loss_full", "loss_sparse", "similarity", "sigma_full_W1", "sigma_sparse_W1"):
        assert name in archive.files


def test_view_sources_hold_the_streamed_curves_and_the_cores_singular_values(rendered):
    from hessian_core.rank import singular_values

    dashboard = rendered(view="sparse", sparse="topk", topk="0.25", layer=2)
    session = dashboard.session
    session.running = True
    for _ in range(4):
        dashboard.tick()
    dashboard.refresh_view()
    view = dashboard.views["sparse"]
    view.stream(force=True)
    loss = view.loss.data
    # the first point is the initial weights' loss, then one point per step
    np.testing.assert_array_equal(loss["step"][1:], session.loss_steps)
    np.testing.assert_array_equal(loss["sparse"][1:], session.loss_values)
    np.testing.assert_array_equal(loss["full"][1:], session.full_loss_values)
    similarity = np.asarray(session.similarity_values)
    for i, name in enumerate(session.gradient_names()):
        np.testing.assert_array_equal(view.cosine.data[view.column_of[name]], similarity[:, i])
    X, Z = view.batch()
    full = session.net.gradients(X, Z)[1].W
    sparse = session.net.gradients(X, Z, **session.rule)[1].W
    np.testing.assert_allclose(view.sigma["full"].data["sigma"],
                               np.maximum(singular_values(full), 1e-20))
    np.testing.assert_allclose(view.sigma["sparse"].data["sigma"],
                               np.maximum(singular_values(sparse), 1e-20))
    legends = {item.label["value"] for item in view.spectra_plot.legend[0].items}
    assert legends == {"full backprop", "sparse rule"}
