"""Gradient rank view: its sources hold the core's singular values, each gradient has its
own legend entry, and the rank history survives tab changes (restarting only on Reset)."""

from __future__ import annotations

import numpy as np
import pytest

from app.views.common import superscript
from tests.support.views import find


@pytest.mark.parametrize("settings", [dict(), dict(scope="sample"),
                                      dict(model="rnn", time_step=3)])
def test_sources_hold_the_cores_singular_values(rendered, settings):
    from hessian_core.rank import numerical_rank, singular_values

    dashboard = rendered(view="rank", **settings)
    dashboard.step()
    view, session = dashboard.views["rank"], dashboard.session
    X, Z = view.batch()
    extra = {"t": view.time_step()} if session.is_rnn else {}
    names = ("W", "U") if session.is_rnn else ("W",)
    legend = [item.label["value"] for item in view.spectra_plot.legend[0].items]
    for g in session.net.gradients(X, Z, **extra):
        for name in names:
            label = f"G_{name}{superscript(g.layer)}"
            sigma = np.asarray(singular_values(np.asarray(getattr(g, name))))
            np.testing.assert_allclose(view.spectra[label].data["sigma"],
                                       np.maximum(sigma, 1e-20), rtol=1e-12)
            assert label in legend
    bound = X.shape[0] * (view.time_step() if session.is_rnn else 1)
    widest = max(len(source.data["sigma"]) for source in view.spectra.values())
    # the dashed line and its legend entry only where the bound is below min(m, n)
    assert set(view.bound.data["x"]) == ({bound + 0.5} if bound < widest else set())
    legend = view.spectra_plot.legend[0].items
    bound_item = next(item for item in legend if item.label.value == "the paper's rank bound")
    assert bound_item.visible == (bound < widest)
    k = view.layer()
    G = np.asarray(session.net.gradients(X, Z, **extra)[k - 1].W)
    assert view.history.data["rank"][-1] == numerical_rank(G)
    drawn = view.history.data["bound"][-1]
    assert drawn == bound if bound < min(G.shape) else np.isnan(drawn)
    assert "Look at" in view.note


def test_rank_history_survives_a_tab_change_and_restarts_on_reset(rendered):
    dashboard = rendered(view="rank")
    view = dashboard.views["rank"]
    for _ in range(3):
        dashboard.step()
    before = list(view.history.data["step"])
    assert before == [0.0, 1.0, 2.0, 3.0]
    dashboard.settings.view = "training"
    dashboard.step()
    dashboard.step()
    dashboard.settings.view = "rank"
    assert list(view.history.data["step"]) == before + [5.0]
    dashboard.settings.layer = 2  # another level: its own ranks, over the same steps
    assert list(view.history.data["step"]) == before + [5.0]
    dashboard.reset()
    assert list(view.history.data["step"]) == [0.0]


@pytest.mark.parametrize("settings", [dict(), dict(model="rnn", time_step=2)])
def test_with_weight_decay_the_view_shows_the_loss_term_the_bound_is_about(rendered, settings):
    """lam W makes the whole gradient full-rank; the lemma bounds the loss term V Z^T."""
    from hessian_core.rank import numerical_rank

    dashboard = rendered(view="rank", batch_size=2, weight_decay=0.1, **settings)
    dashboard.step()
    view, session = dashboard.views["rank"], dashboard.session
    X, Z = view.batch()
    extra = {"t": view.time_step()} if session.is_rnn else {}
    bound = X.shape[0] * (view.time_step() if session.is_rnn else 1)
    k = view.layer()
    g = session.net.gradients(X, Z, **extra)[k - 1]
    assert numerical_rank(np.asarray(g.W)) > bound  # the whole gradient breaks the bound
    V, factor = g.factors("W")
    assert view.history.data["rank"][-1] == numerical_rank(np.asarray(V) @ np.asarray(factor).T)
    assert view.history.data["rank"][-1] <= bound
    table = find(view, "rank-table").object
    assert "**no**" not in table
    assert "weight decay λ = 0.1" in table and "not low-rank" in table
