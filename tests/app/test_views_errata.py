"""Paper-vs-exact view: the points are the core's measured relative errors, coloured by
whether the equation holds here, and for ReLU the view reports (75) holding at t = 2."""

from __future__ import annotations

import pytest

from app.views.errata import FLOOR, ROUND_OFF
from tests.support.views import find, shown


def drawn(view) -> dict[str, float]:
    points = {}
    for label, source in view.sources.items():
        for equation, error in zip(source.data["equation"], source.data["error"], strict=True):
            points[equation] = (label, float(error))
    return points


@pytest.mark.parametrize("settings", [
    dict(), dict(activation="sigmoid", output_activation="sigmoid"),
    dict(model="rnn", activation="tanh", time_step=3),
])
def test_points_are_the_cores_measurements(rendered, settings):
    from hessian_core import errata

    dashboard = rendered(view="errata", **settings)
    dashboard.step()
    view, session = dashboard.views["errata"], dashboard.session
    X, Z = view.batch()
    if session.is_rnn:
        measured = errata.measure_rnn(session.net, X, Z, view.time_step())
    else:
        measured = errata.measure_fnn(session.net, X, Z)
    points = drawn(view)
    applicable = [item for item in measured if item.relative_error is not None]
    assert list(view.plot.x_range.factors) == [f"eq. {item.equation}" for item in applicable]
    for item in applicable:
        label, error = points[f"eq. {item.equation}"]
        assert error == pytest.approx(max(item.relative_error, FLOOR), rel=1e-9)
        assert label.startswith("holds") == (item.relative_error <= ROUND_OFF)
    legend = [entry.label["value"] for entry in view.plot.legend[0].items]
    assert legend == ["holds here (round-off)", "differs from the exact Hessian"]
    if settings.get("activation") in ("sigmoid", "tanh"):
        assert any(label.startswith("differs") for label, _ in points.values())


@pytest.mark.parametrize("time_step", [1, 2])
def test_relu_rnn_h_u_of_eq_75_holds_at_t_1_and_2(rendered, time_step):
    dashboard = rendered(view="errata", model="rnn", activation="relu", levels=2,
                         time_step=time_step)
    dashboard.step()
    view = dashboard.views["errata"]
    label, error = drawn(view)["eq. (75)"]
    assert label.startswith("holds") and error <= ROUND_OFF
    table = find(view, "errata-table").object
    row = next(line for line in table.splitlines() if line.startswith("| (75)"))
    assert row.split("|")[5].strip() == "yes"  # the "holds here now" column
    assert "only for t = 1" not in table + view.note


def test_too_large_shows_only_the_note(rendered):
    dashboard = rendered(architecture="2-256-256-1", batch_size=16, view="errata")
    view = dashboard.views["errata"]
    assert "too large" in view.note and not shown(view, view.plot)
    assert not shown(view, "errata-table")
