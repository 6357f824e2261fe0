"""Spectrum view: its Bokeh sources hold the core's eigenvalues, its axis reads in real
eigenvalues, the RNN cites eq. (105), and a dead ReLU level or a too-large Hessian says so."""

from __future__ import annotations

import numpy as np
import pytest

from app.views.common import symlog
from tests.support.views import find, shown


def spectrum_of(dashboard):
    view = dashboard.views["spectrum"]
    X, Z = view.batch()
    options = view.hessian_options(X)
    return view, dashboard.session.net.hessian(X, Z, **options)


@pytest.mark.parametrize("settings", [
    dict(), dict(scope="sample", layer=2), dict(formula="paper", activation="tanh"),
    dict(model="rnn", time_step=3), dict(model="rnn", wrt="U", formula="paper"),
])
def test_sources_hold_the_cores_eigenvalues_and_weyl_band(rendered, settings):
    dashboard = rendered(view="spectrum", **settings)
    dashboard.step()
    view, hessian = spectrum_of(dashboard)
    eigenvalues = np.asarray(hessian.eigvalsh())
    lower, upper = (np.asarray(bound) for bound in hessian.weyl_bounds())
    np.testing.assert_allclose(view.points.data["value"], eigenvalues, rtol=1e-10, atol=1e-14)
    assert list(view.points.data["index"]) == list(range(1, eigenvalues.size + 1))
    # drawn heights are the symlog of the values; the axis labels invert the same transform
    ticker = view.spectrum_plot.yaxis[0].ticker
    labels = view.spectrum_plot.yaxis[0].major_label_overrides
    positions = np.array(ticker.ticks)
    largest = int(np.argmax(np.abs(view.points.data["value"])))
    value, y = view.points.data["value"][largest], view.points.data["y"][largest]
    linear = abs(value) / (10.0 ** abs(y) - 1.0)
    np.testing.assert_allclose(view.points.data["y"], symlog(eigenvalues, linear), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(view.band.data["lower"], symlog(lower, linear), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(view.band.data["upper"], symlog(upper, linear), rtol=1e-6,
                               atol=1e-9)
    for position in positions:
        real = np.sign(position) * linear * (10.0 ** abs(position) - 1.0)
        assert abs(float(labels[position]) - real) <= 0.06 * abs(real) + 1e-300
    # the ticks span the drawn eigenvalues
    assert positions.max() >= np.max(view.points.data["y"]) - 1.0
    assert positions.min() <= min(np.min(view.points.data["y"]), 0.0) + 1.0
    assert shown(view, "spectrum-plot") and "Look at" in view.note


def test_title_legend_and_caption_cite_the_same_equation(rendered):
    fnn = rendered(view="spectrum")
    fnn.step()
    rnn = rendered(view="spectrum", model="rnn")
    rnn.step()
    for dashboard, right, wrong in ((fnn, "(46)", "(105)"), (rnn, "(105)", "(46)")):
        view = dashboard.views["spectrum"]
        legend = [item.label["value"] for item in view.spectrum_plot.legend[0].items]
        caption = find(view, "spectrum-caption").object
        texts = [view.spectrum_plot.title.text, *legend, caption,
                 find(view, "spectrum-counts").object, view.note]
        assert any(right in text for text in legend)
        assert right in caption
        assert not any(wrong in text for text in texts), texts


def test_top_eigenvalue_history_follows_training(rendered):
    dashboard = rendered(view="spectrum")
    for _ in range(3):
        dashboard.step()
    view, hessian = spectrum_of(dashboard)
    data = view.top.data
    assert list(data["step"]) == [0.0, 1.0, 2.0, 3.0]
    assert data["top"][-1] == pytest.approx(float(np.asarray(hessian.eigvalsh())[-1]))
    np.testing.assert_allclose(data["threshold"], 2.0 / dashboard.settings.learning_rate)
    dashboard.views["spectrum"].refresh()  # a redraw without a step replaces, not appends
    assert list(view.top.data["step"]) == [0.0, 1.0, 2.0, 3.0]


def kill_level_one(dashboard):
    session = dashboard.session
    parameters = session.parameters()
    parameters[0] = np.zeros_like(parameters[0])
    parameters[1] = np.full_like(parameters[1], -10.0)
    session.net = session.run.with_parameters(parameters)


def test_a_dead_relu_level_is_named_with_what_to_do(rendered):
    dashboard = rendered(view="spectrum", activation="relu")
    kill_level_one(dashboard)
    dashboard.refresh_view()
    note = dashboard.views["spectrum"].note
    assert "Level 1 is dead" in note
    for advice in ("learning rate", "Reset", "activation"):
        assert advice in note
    assert "Zero means" not in note
    np.testing.assert_array_equal(dashboard.views["spectrum"].points.data["value"], 0.0)


def test_too_large_shows_the_note_in_place_of_the_plots(rendered):
    dashboard = rendered(architecture="2-256-256-1", batch_size=16, view="spectrum", layer=2)
    view = dashboard.views["spectrum"]
    assert "too large" in view.note
    assert not shown(view, "spectrum-plot") and not shown(view, "spectrum-counts")
    dashboard.settings.architecture = "2-8-8-1"
    assert shown(view, "spectrum-plot") and "too large" not in view.note
