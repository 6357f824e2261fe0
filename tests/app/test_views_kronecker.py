"""Kronecker view: the images hold the core's Hessian and factors (row 0 on top), the
difference panel shows only with formula=paper, and a too-large case shows only the note."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.views import shown


@pytest.mark.parametrize("settings", [dict(), dict(layer=2, scope="sample"),
                                      dict(formula="paper", activation="tanh"),
                                      dict(model="rnn", time_step=3)])
def test_images_hold_the_cores_hessian_and_factors(rendered, settings):
    dashboard = rendered(view="kronecker", **settings)
    dashboard.step()
    view, session = dashboard.views["kronecker"], dashboard.session
    X, Z = view.batch()
    hessian = session.net.hessian(X, Z, **view.hessian_options(X))
    np.testing.assert_allclose(view.plots["H"].matrix(), np.asarray(hessian.dense()),
                               rtol=1e-12, atol=1e-15)
    low, high = view.plots["H"].mapper.low, view.plots["H"].mapper.high
    assert -low == high == pytest.approx(float(np.max(np.abs(hessian.dense()))))
    blocks, inputs = np.asarray(hessian.blocks), np.asarray(hessian.inputs)
    p = 0 if dashboard.settings.scope == "sample" else view.sample_index()
    if session.is_rnn:
        T, m = blocks.shape[1], blocks.shape[2]
        np.testing.assert_allclose(view.plots["C"].matrix(), blocks[p].reshape(T * m, T * m))
        np.testing.assert_allclose(view.plots["z"].matrix(), inputs[p])
    else:
        np.testing.assert_allclose(view.plots["C"].matrix(), blocks[p, 0, :, 0, :])
        np.testing.assert_allclose(view.plots["z"].matrix(), np.outer(inputs[p, 0], inputs[p, 0]))
    paper = dashboard.settings.formula == "paper"
    assert shown(view, view.plots["diff"].figure) == paper
    if paper:
        exact = session.net.hessian(X, Z, **dict(view.hessian_options(X), formula="exact"))
        np.testing.assert_allclose(view.plots["diff"].matrix(),
                                   np.asarray(exact.dense()) - np.asarray(hessian.dense()),
                                   atol=1e-12)
    assert shown(view, view.plots["H"].figure) and "Look at" in view.note


def test_no_difference_panel_while_exact_is_selected(rendered):
    dashboard = rendered(view="kronecker", formula="paper")
    view = dashboard.views["kronecker"]
    assert shown(view, view.plots["diff"].figure)
    dashboard.settings.formula = "exact"
    assert not shown(view, view.plots["diff"].figure)
    assert shown(view, view.plots["H"].figure)


def test_too_large_rnn_shows_only_the_note(rendered):
    dashboard = rendered(model="rnn", hidden_width=64, tau=64, batch_size=64, view="kronecker",
                         formula="paper")
    view = dashboard.views["kronecker"]
    assert "too many" in view.note
    # no blank images, no "exact − paper" panel below the note
    assert not any(shown(view, plot.figure) for plot in view.plots.values())
    dashboard.settings.scope = "sample"
    assert shown(view, view.plots["H"].figure) and "too many" not in view.note


def test_a_dead_level_is_named(rendered):
    dashboard = rendered(view="kronecker", activation="relu")
    session = dashboard.session
    parameters = session.parameters()
    parameters[2] = np.zeros_like(parameters[2])
    parameters[3] = np.full_like(parameters[3], -10.0)
    session.net = session.run.with_parameters(parameters)
    dashboard.refresh_view()
    assert "Level 2 is dead" in dashboard.views["kronecker"].note
