"""Masks view: the level image is f'(y) > 0 of the batch (row 0 on top), F^(k) is the outer
product of the chosen sample's mask, ReLU draws a two-colour legend, smooth a colour bar."""

from __future__ import annotations

import numpy as np
import pytest
from bokeh.models import ColorBar, Legend


def levels_of(image: np.ndarray) -> list[np.ndarray]:
    """Split the combined image at its blank (NaN) separator columns."""
    blank = np.all(np.isnan(image), axis=0)
    parts, start = [], 0
    for column in [*np.flatnonzero(blank), image.shape[1]]:
        parts.append(image[:, start:column])
        start = column + 1
    return parts


@pytest.mark.parametrize(
    "settings", [dict(activation="relu"), dict(activation="relu", scope="sample", layer=2)]
)
def test_relu_mask_image_is_f_prime_positive(rendered, settings):
    dashboard = rendered(view="masks", **settings)
    dashboard.step()
    view, session = dashboard.views["masks"], dashboard.session
    X, _ = view.batch()
    forward = session.net.forward(X)
    parts = levels_of(view.levels_plot.matrix())
    assert len(parts) == session.net.n_layers
    for k, part in enumerate(parts, start=1):
        y = np.asarray(forward.pre_activations[k - 1])
        activation = session.net.activation_of(k)
        # f' of ReLU is 1 where y > 0 (0 at y = 0); the identity's is 1 everywhere
        expected = y > 0 if activation.name == "relu" else np.ones_like(y, dtype=bool)
        assert activation.name in ("relu", "identity")
        np.testing.assert_array_equal(part, expected.astype(float))
    k = view.layer()
    p = 0 if dashboard.settings.scope == "sample" else view.sample_index()
    y = np.asarray(forward.pre_activations[k - 1])[p]
    mask = (y > 0 if session.net.activation_of(k).name == "relu" else y == y).astype(float)
    np.testing.assert_array_equal(view.mask_plot.matrix(), np.outer(mask, mask))
    figure = view.levels_plot.figure
    assert len(view.levels_plot.mapper.palette) == 2
    assert not any(isinstance(item, ColorBar) and item.visible for item in figure.right)
    legend = next(item for item in figure.below if isinstance(item, Legend) and item.visible)
    assert [item.label["value"] for item in legend.items] == [
        "f' = 0: unit blocked", "f' = 1: unit passes"]
    assert list(figure.xaxis[0].major_label_overrides.values()) == [
        f"level {k}" for k in range(1, session.net.n_layers + 1)]


def test_smooth_activation_draws_values_with_a_colour_bar(rendered):
    dashboard = rendered(view="masks", activation="tanh")
    dashboard.step()
    view = dashboard.views["masks"]
    X, _ = view.batch()
    y = np.asarray(dashboard.session.net.forward(X).pre_activations[0])
    np.testing.assert_allclose(levels_of(view.levels_plot.matrix())[0], 1 - np.tanh(y) ** 2)
    assert any(isinstance(item, ColorBar) and item.visible
               for item in view.levels_plot.figure.right)
    assert "smooth" in view.note


def test_rnn_rows_are_time_steps(rendered):
    dashboard = rendered(view="masks", model="rnn", scope="sample", activation="relu")
    dashboard.step()
    view = dashboard.views["masks"]
    X, _ = view.batch()
    y = np.asarray(dashboard.session.net.forward(X).pre_activations[0])  # (1, tau, m)
    np.testing.assert_array_equal(levels_of(view.levels_plot.matrix())[0],
                                  (y[0] > 0).astype(float))
