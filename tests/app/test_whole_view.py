"""The Whole Hessian view, the whole Hessian's line in the Spectrum view, and the edge of
stability lesson's claim checked on its numbers.

The matrix the view draws is checked against a finite-difference Hessian of the reference
loss (``tests/reference.py``, from the loss alone); its eigenvalues, its Gauss-Newton part's
and the sharpness against NumPy on the core's dense matrices; the lesson's plateau against
2/alpha from the configuration.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.configuration.lessons import BY_KEY
from app.views import whole as whole_module
from app.views.whole import LANCZOS_COUNT, WHOLE_DENSE_LIMIT, block_labels
from tests.reference import fd_hessian, fnn_loss
from tests.support.views import csv_download, find, shown

#: relative tolerance of the finite-difference reference (float64, Richardson)
FD_RTOL = 1e-6


def split(theta: np.ndarray, sizes: tuple[int, ...]):
    """theta (parameter_vector order: vec(W^(k)) row-major, b^(k)) -> (weights, biases)."""
    weights, biases, offset = [], [], 0
    for n, m in zip(sizes[:-1], sizes[1:], strict=True):
        weights.append(theta[offset : offset + m * n].reshape(m, n))
        offset += m * n
        biases.append(theta[offset : offset + m])
        offset += m
    return weights, biases


def test_view_draws_the_whole_hessian_of_the_batch_loss(rendered):
    dashboard = rendered(view="whole", architecture="2-3-2-1", batch_size=5)
    session = dashboard.session
    view = dashboard.views["whole"]
    dashboard.refresh_view()
    H = view.arrays["hessian"]
    P = 2 * 3 + 3 + 3 * 2 + 2 + 2 * 1 + 1
    assert H.shape == (P, P)
    X, Z = np.asarray(session.X), np.asarray(session.Z)
    sizes = (2, 3, 2, 1)

    def loss(theta):
        weights, biases = split(theta, sizes)
        return fnn_loss(weights, biases, "tanh", "identity", X, Z)

    reference = fd_hessian(loss, np.asarray(session.net.parameter_vector()))
    scale = float(np.max(np.abs(reference)))
    assert np.max(np.abs(H - reference)) <= FD_RTOL * scale, np.max(np.abs(H - reference))
    # cross-level blocks are not zero: the whole matrix is more than the paper's blocks
    assert np.max(np.abs(H[:9, 9:])) > 1e-3 * scale
    # the image is the matrix itself (P below MAX_IMAGE_SIDE) with the arrays outlined
    np.testing.assert_array_equal(view.matrix_plot.matrix(), H)
    starts = [0, 6, 9, 15, 17, 19]
    np.testing.assert_array_equal(view.arrays["block_starts"], starts)
    assert sorted(set(view.matrix_plot.grid.data["x0"]) - {0.0}) == starts[1:]
    assert list(view.labels.data["text"]) == ["W⁽¹⁾", "b⁽¹⁾", "W⁽²⁾", "b⁽²⁾", "W⁽³⁾",
                                              "b⁽³⁾"]
    # the spectra, the Gauss-Newton part and the table
    np.testing.assert_allclose(view.arrays["eigenvalues"], np.linalg.eigvalsh(H),
                               atol=1e-12 * scale)
    G = view.arrays["gauss_newton"]
    np.testing.assert_allclose(G, G.T, atol=1e-14 * scale)
    gauss = view.arrays["gauss_newton_eigenvalues"]
    assert gauss.min() >= -1e-12 * scale  # positive semi-definite
    negative = int(np.sum(np.linalg.eigvalsh(reference) < -1e-6 * scale))
    assert negative > 0 and view.counts["negative"] == negative
    assert view.counts["gauss_newton_negative"] == 0
    share = np.linalg.norm(H - G) / np.linalg.norm(H)
    assert view.counts["residual_share"] == pytest.approx(share, rel=1e-12)
    assert f"**{share:.3g}**" in find(view, "whole-table").object
    assert "Beyond the paper" in view.note and "edge of" in view.note


def test_above_the_dense_limit_no_matrix_but_lanczos_eigenvalues(rendered, monkeypatch):
    dashboard = rendered(view="whole")  # 2-8-8-1: P = 105
    view = dashboard.views["whole"]
    dashboard.refresh_view()
    dense = view.arrays["eigenvalues"]
    dense_gauss = view.arrays["gauss_newton_eigenvalues"]
    share = view.counts["residual_share"]
    assert dense.size == 105 <= WHOLE_DENSE_LIMIT and shown(view, view.matrix_plot.figure)
    monkeypatch.setattr(whole_module, "WHOLE_DENSE_LIMIT", 50)
    dashboard.refresh_view()
    assert not shown(view, view.matrix_plot.figure) and "hessian" not in view.arrays
    assert "above 50" in view.note and "no matrix is drawn" in view.note
    top = view.arrays["eigenvalues"]
    assert top.size == LANCZOS_COUNT
    scale = float(np.max(np.abs(dense)))
    np.testing.assert_allclose(top, dense[-LANCZOS_COUNT:], atol=1e-7 * scale)
    np.testing.assert_allclose(view.arrays["gauss_newton_eigenvalues"],
                               dense_gauss[-LANCZOS_COUNT:], atol=1e-7 * scale)
    assert view.counts["negative"] == "—"
    # the random-probe estimate of ||H - GGN||_F / ||H||_F is near the exact value
    assert abs(view.counts["residual_share"] - share) < 0.5 * share
    np.testing.assert_array_equal(view.points.data["index"], np.arange(94, 106))


def test_sharpness_streams_over_training_against_two_over_alpha(rendered):
    dashboard = rendered(view="whole", learning_rate=0.1)
    session, view = dashboard.session, dashboard.views["whole"]
    dashboard.refresh_view()
    dashboard.refresh_view()  # no training in between: the point is replaced, not added
    for _ in range(3):
        session.train(40)
        dashboard.refresh_view()
    data = view.sharpness.data
    assert list(data["step"]) == [0.0, 40.0, 80.0, 120.0]
    assert list(data["threshold"]) == [20.0] * 4
    dense = np.asarray(session.net.whole_hessian(session.X, session.Z).dense())
    assert data["sharpness"][-1] == pytest.approx(np.linalg.eigvalsh(dense)[-1], rel=1e-8)
    assert len(set(data["sharpness"])) == 4
    dashboard.settings.learning_rate = 0.5
    session.train(1)
    dashboard.refresh_view()
    assert view.sharpness.data["threshold"][-1] == 4.0
    assert view.sharpness_plot.x_range.end == 121.0
    arrays = view.download_arrays()
    np.testing.assert_array_equal(arrays["sharpness_step"], [0, 40, 80, 120, 121])
    np.testing.assert_array_equal(arrays["sharpness_sharpness"], view.sharpness.data["sharpness"])
    csv = csv_download(view)
    assert "sharpness_threshold,4,0,4" in csv and csv.count("\nhessian,") == 105 * 105


def test_rnn_whole_hessian_has_u_blocks_and_matches_the_core(rendered):
    dashboard = rendered(view="whole", model="rnn", levels=1, hidden_width=3, tau=4,
                         batch_size=2)
    session, view = dashboard.session, dashboard.views["whole"]
    dashboard.refresh_view()
    labels = [label for label, _, _ in block_labels(session.net)]
    assert "U⁽¹⁾" in labels and list(view.labels.data["text"]) == labels
    H = view.arrays["hessian"]
    expected = session.net.whole_hessian(session.X, session.Z, t=None,
                                         outputs_from=session.output_from).dense()
    np.testing.assert_allclose(H, np.asarray(expected), rtol=0, atol=1e-14 * np.max(np.abs(H)))
    assert view.sharpness.data["sharpness"][-1] == pytest.approx(
        np.linalg.eigvalsh(H)[-1], rel=1e-8)


@pytest.mark.parametrize("scope", ["batch", "sample"])
def test_spectrum_shows_the_whole_hessian_top_above_the_layer_top(rendered, scope):
    dashboard = rendered(view="spectrum", scope=scope)
    view = dashboard.views["spectrum"]
    dashboard.refresh_view()
    dashboard.session.train(200)
    dashboard.refresh_view()
    data = view.top.data
    assert len(data["whole"]) == len(data["top"]) == 2
    for layer_top, whole_top in zip(data["top"], data["whole"], strict=True):
        assert whole_top >= layer_top * (1 - 1e-9)
    X, Z = view.batch()
    dense = np.asarray(dashboard.session.net.whole_hessian(X, Z).dense())
    assert data["whole"][-1] == pytest.approx(np.linalg.eigvalsh(dense)[-1], rel=1e-8)
    legend = [item.label.value for item in view.top_plot.legend[0].items]
    assert "top λ of H⁽ᵏ⁾ (≤ the whole H's)" in legend
    assert "top λ of the whole Hessian" in legend
    assert "Cauchy interlacing" in find(view, "spectrum-counts").object


# --- the edge of stability lesson ---------------------------------------------------------
def sharpness(session) -> float:
    whole = session.net.whole_hessian(session.X, session.Z)
    return float(np.asarray(whole.top_eigenvalues(1))[-1])


@pytest.mark.parametrize("alpha", [0.1, 0.2, 0.5])
def test_edge_of_stability_plateau_at_two_over_alpha(alpha):
    """Full-batch gradient descent on the lesson's configuration: from step 1000 to 3000
    (about three seconds of Play) the sharpness stays within 10 % of 2/alpha while the loss
    falls, not at every step."""
    from app.configuration.settings import Settings
    from app.training.session import TrainingSession

    lesson = BY_KEY["edge-of-stability"]
    settings = Settings()
    assert settings.apply({"lesson": lesson.key, "learning_rate": alpha}) == {}
    session = TrainingSession(settings)
    assert session.batch_size == settings.samples == 64  # every sample in every step
    assert settings.momentum == 0.0 and settings.clip_norm == 0.0
    assert session.net.parameter_vector().shape == (337,)
    threshold = 2.0 / alpha
    start = sharpness(session)
    assert start == pytest.approx(4.4, abs=0.05)  # "starts near 4.4"
    assert session.train(1000) == 1000
    measured = []
    for _ in range(8):
        assert session.train(250) == 250
        measured.append(sharpness(session))
    measured = np.array(measured)
    assert np.all(np.abs(measured / threshold - 1) <= 0.10), (threshold, measured)
    losses = np.array(session.loss_values)
    assert np.median(losses[-500:]) < 0.8 * np.median(losses[:500])  # the loss falls ...
    assert np.mean(np.diff(losses) > 0) > 0.05  # ... and steps raise it (far below
    # the edge of stability gradient descent lowers it at every step)


@pytest.mark.parametrize(("view_key", "source", "plot"), [
    ("whole", "threshold_line", "sharpness_plot"), ("spectrum", "top_threshold", "top_plot")])
def test_the_two_over_alpha_line_shows_from_step_0_across_the_frame(rendered, view_key, source,
                                                                       plot):
    """A line of one point draws nothing: before the first step the dashed 2/α spans the
    frame, and a change of α shows as a step where it happened."""
    dashboard = rendered(view=view_key, learning_rate=0.1)
    view = dashboard.views[view_key]
    line, frame = getattr(view, source), getattr(view, plot)
    assert line.data["threshold"] == [20.0, 20.0]
    assert line.data["step"] == [0.0, frame.x_range.end]
    dashboard.step()
    dashboard.settings.learning_rate = 0.2
    dashboard.step()
    assert line.data["threshold"] == [20.0, 20.0, 10.0, 10.0]
    assert line.data["step"][-1] == frame.x_range.end == 2.0
