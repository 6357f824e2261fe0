"""Every lesson's claim, checked on the numbers its view shows, before and after training.

Each test builds the dashboard as the lesson sets it (the lesson chosen in its menu, as a
student does), reads what the view shows (its table counts, the arrays behind its plots and
downloads, its note) at step 0, trains a few hundred to a few thousand steps (what some
seconds of Play do) and reads them again. The claim in the lesson's "Look at" line must hold
both times, or the lesson's text must say when it stops holding (and that statement is
checked too). The expected numbers come from the configuration (sizes, classes, batch, t),
never from the view under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.configuration.lessons import BY_KEY, LESSONS
from app.live.scheduler import FRAME_RATE
from tests.support.views import find, legend_item

#: training steps after which every claim is checked again (FNN, RNN)
FNN_STEPS, RNN_STEPS = 1500, 400
EPS = float(np.finfo(float).eps)


@pytest.fixture
def rendered():
    """Dashboards (not put into a document: the views draw into their Bokeh models all the
    same), closed after the test."""
    from app import Dashboard

    made = []

    def make(**settings):
        made.append(Dashboard(**settings))
        return made[-1]

    yield make
    for dashboard in made:
        dashboard.close()


def open_lesson(rendered, key: str, **after):
    """A dashboard with lesson ``key`` chosen in the menu (then ``after`` set)."""
    dashboard = rendered()
    dashboard.sidebar.lesson_select.value = key
    assert dashboard.settings.lesson == key
    if after:
        dashboard.apply_settings(after)
    return dashboard


def train(dashboard, steps: int) -> None:
    """Train ``steps`` steps, as Play does, then draw the view once (as after Pause)."""
    done = dashboard.session.train(steps)
    assert done == steps and dashboard.session.status == "", dashboard.session.status
    dashboard.refresh_view()


def at_step_0_and_after_training(rendered, key: str, check, steps: int | None = None,
                                 **after):
    dashboard = open_lesson(rendered, key, **after)
    view = dashboard.main.visible
    assert view.key == BY_KEY[key].settings["view"]
    check(dashboard, view)
    train(dashboard, steps or (RNN_STEPS if dashboard.session.is_rnn else FNN_STEPS))
    check(dashboard, view)
    return dashboard, view


def rank_above_round_off(sigma: np.ndarray, shape: tuple[int, int]) -> int:
    sigma = np.asarray(sigma)
    return int(np.sum(sigma > max(shape) * EPS * sigma.max()))


def bound_entry(view):
    """The legend entry of the dashed line of the paper's rank bound (rank view)."""
    return legend_item(view.spectra_plot, "the paper's rank bound")


# --- the rank lessons -----------------------------------------------------------------------
@pytest.mark.parametrize(("key", "name", "bound"), [
    ("rank-1", "W2", lambda r, t: 1),
    ("rank-r", "W2", lambda r, t: r),
    ("rank-t", "W2", lambda r, t: t),
    ("rank-rt", "W2", lambda r, t: r * t),
    ("rank-rt", "U2", lambda r, t: r * (t - 1)),  # h^(0) = 0: the first step adds nothing
])
def test_rank_lessons_count_singular_values_above_round_off(rendered, key, name, bound):
    def check(dashboard, view):
        session, settings = dashboard.session, dashboard.settings
        r = session.batch_size if settings.scope == "batch" else 1
        t = view.time_step() if session.is_rnn else 1
        expected = bound(r, t)
        k = settings.layer
        m, n = session.layer_sizes[k], session.layer_sizes[k - 1 if name[0] == "W" else k]
        sigma = view.arrays[f"sigma_{name}"]
        assert sigma.size == min(m, n) > expected, "the bound must be below the width"
        assert rank_above_round_off(sigma, (m, n)) == expected, sigma
        # a drop of at least ten decades after the last nonzero value (rank-r's "ten decades")
        assert sigma[expected - 1] > 1e10 * sigma[expected], sigma
        # the dashed line at bound + 1/2 is drawn, and listed, where the view's bound binds
        drawn = bound(r, t) if name[0] == "W" else r * t
        assert set(view.bound.data["x"]) == {drawn + 0.5} and bound_entry(view).visible
        assert "does not bind" not in view.note

    at_step_0_and_after_training(rendered, key, check)


def test_rank_lessons_text_names_their_widths_and_bounds():
    """The numbers in the texts are those of the configurations."""
    assert "8×8" in BY_KEY["rank-1"].explanation and "seven" in BY_KEY["rank-1"].look
    assert "r = 4" in BY_KEY["rank-r"].explanation and "16×16" in BY_KEY["rank-r"].explanation
    assert "t = 4" in BY_KEY["rank-t"].look
    rt = BY_KEY["rank-rt"]
    assert "2·3 = 6" in rt.explanation and "r·(t − 1) = 4" in rt.explanation
    assert "r·t = 6" in rt.look


def test_rnn_rank_bound_above_the_width_is_not_drawn_and_said_so(rendered):
    """Default RNN, Gradient rank: r·t = 4·8 = 32 exceeds the 8 singular values of every
    gradient: no dashed line, no legend entry for it, in neither plot, and the text says
    why."""
    dashboard = rendered(model="rnn", view="rank")
    view = dashboard.views["rank"]
    for _ in range(2):
        session = dashboard.session
        r, t = session.X.shape[0], view.time_step()
        widest = max(array.size for array in view.arrays.values())
        assert r * t > widest
        assert len(view.bound.data["x"]) == 0 and not bound_entry(view).visible
        assert np.all(np.isnan(view.history.data["bound"]))
        assert not legend_item(view.history_plot, "bound").visible
        table = find(view, "rank-table").object
        assert f"r·t = {r}·{t} = {r * t}" in table
        assert f"exceeds min(m, n) = {widest}" in table
        assert "does not bind" in table and "does not bind" in view.note
        assert "right of the dashed line" not in view.note
        # the history's axes hold the ranks, not an off-scale bound
        ranks = view.history.data["rank"]
        assert view.history_plot.y_range.end >= np.nanmax(ranks)
        assert view.history_plot.y_range.end <= widest + 1
        train(dashboard, 50)


# --- Kronecker structure --------------------------------------------------------------------
def test_kronecker_lesson_every_block_is_c_times_z_zt(rendered):
    def check(dashboard, view):
        H, blocks, inputs = (np.asarray(view.arrays[name]) for name in ("H", "blocks", "inputs"))
        C, z = blocks[0, 0, :, 0, :], inputs[0, 0]
        m, n = C.shape[0], z.size
        assert (m, n) == (4, 4) and H.shape == (16, 16)  # "every 4×4 block"
        np.testing.assert_allclose(H, np.kron(C, np.outer(z, z)), atol=1e-12 * np.abs(H).max())
        assert np.abs(C).max() > 0 and np.abs(z).max() > 0

    at_step_0_and_after_training(rendered, "kronecker", check)


def test_rnn_hessian_lesson_fills_all_t_squared_blocks(rendered):
    def check(dashboard, view):
        t = view.time_step()
        blocks = np.asarray(view.arrays["blocks"])[0]  # (T, m, T, m)
        assert blocks.shape[0] == blocks.shape[2] == t == 4 and blocks.shape[1] == 4
        norms = np.linalg.norm(blocks.transpose(0, 2, 1, 3).reshape(t, t, -1), axis=-1)
        assert np.all(norms > 1e-6 * norms.max()), norms  # "all t² = 16 blocks are filled"
        assert "t² = 16" in BY_KEY["rnn-hessian"].look

    at_step_0_and_after_training(rendered, "rnn-hessian", check)


# --- masks ------------------------------------------------------------------------------------
def test_relu_masks_lesson_masks_are_binary_and_differ_per_sample(rendered):
    def check(dashboard, view):
        masks = np.asarray(view.arrays["fprime_1"])
        assert masks.shape == (dashboard.session.batch_size, 16)
        assert set(np.unique(masks)) == {0.0, 1.0}
        rows = {tuple(row) for row in masks}
        assert len(rows) > 1, "the samples switch off different sets of units"
        assert "different sets of the 16" in BY_KEY["relu-masks"].look

    at_step_0_and_after_training(rendered, "relu-masks", check)


# --- spectra ----------------------------------------------------------------------------------
def expected_single_sample_zeros(session, layer: int) -> int:
    """m(n - 1) from z z^T, plus one from diag(p) - p p^T at the last level under softmax
    cross-entropy (computed here from the configuration)."""
    m, n = session.layer_sizes[layer], session.layer_sizes[layer - 1]
    settings = session.settings
    softmax = (settings.loss == "cross_entropy" and layer == len(session.layer_sizes) - 1
               and settings.output_activation == "identity")
    return m * (n - 1) + int(softmax)


def test_eq46_lesson_crosses_on_dots_of_both_signs(rendered):
    def check(dashboard, view):
        exact = view.arrays["eigenvalues"]
        predicted = view.arrays["eq46_prediction"]
        scale = np.abs(exact).max()
        np.testing.assert_allclose(predicted, exact, atol=1e-10 * scale)
        counts = view.counts
        assert counts["negative"] > 0 and counts["positive"] > 0, counts
        expected = expected_single_sample_zeros(dashboard.session, dashboard.settings.layer)
        assert counts["zero"] == counts["expected_zeros"] == expected == 56
        assert f"with {expected} zeros" in view.note

    at_step_0_and_after_training(rendered, "eq46", check)


def test_weyl_lesson_every_eigenvalue_inside_its_band(rendered):
    def check(dashboard, view):
        exact, lower, upper = (view.arrays[name] for name in ("eigenvalues", "weyl_lower",
                                                              "weyl_upper"))
        tolerance = view.counts["tolerance"]
        assert np.all(lower - tolerance <= exact) and np.all(exact <= upper + tolerance)
        assert view.counts["inside_weyl"]
        assert "inside the Weyl band: **yes**" in find(view, "spectrum-counts").object
        assert dashboard.session.X.shape[0] == 8

    at_step_0_and_after_training(rendered, "weyl", check)


def test_softmax_lesson_two_positive_the_rest_zero_none_negative(rendered):
    """After Play the exact zero eigenvalue of diag(p) - p p^T comes out at about -1e-16
    while the largest eigenvalue falls to 1e-4: it is round-off, and counted as zero."""
    lesson = BY_KEY["softmax-hessian"]

    def check(dashboard, view):
        session, settings = dashboard.session, dashboard.settings
        classes = settings.classes
        expected = expected_single_sample_zeros(session, settings.layer)
        counts = view.counts
        assert (counts["negative"], counts["zero"], counts["positive"]) == (
            0, expected, classes - 1), find(view, "spectrum-counts").object
        assert f"| 0 | {expected} | {classes - 1} |" in find(view, "spectrum-counts").object
        assert counts["expected_zeros"] == expected
        assert f"predicts {expected} zeros" in find(view, "spectrum-counts").object
        assert f"with {expected} zeros" in view.note
        assert "Zero means |λ| ≤ 10·N·ε·s" in find(view, "spectrum-counts").object
        # the lesson's words carry the same numbers
        assert f"the other {expected} at zero" in lesson.look
        assert f"M − 1 = {classes - 1}" in lesson.look
        assert f"= {expected} eigenvalues are zero" in lesson.explanation

    dashboard, view = at_step_0_and_after_training(rendered, "softmax-hessian", check,
                                                   steps=2000)
    # the claim is not empty: after training the top eigenvalue is small and round-off is
    # of the order eps ||z||^2, far above eps times it
    assert np.max(view.arrays["eigenvalues"]) < 1e-2


def test_weight_decay_lesson_at_least_m_n_minus_1_at_the_decay(rendered):
    lesson = BY_KEY["weight-decay"]
    lam = lesson.settings["weight_decay"]

    def check(dashboard, view):
        session, k = dashboard.session, dashboard.settings.layer
        m, n = session.layer_sizes[k], session.layer_sizes[k - 1]
        eigenvalues = view.arrays["eigenvalues"]
        at_decay = int(np.sum(np.abs(eigenvalues - lam) <= view.counts["tolerance"]))
        assert at_decay >= m * (n - 1) == 56 and at_decay < m * n
        assert view.counts["data_zeros"] == at_decay
        assert f"{at_decay} zero eigenvalues" in find(view, "spectrum-counts").object
        assert f"{m * (n - 1)} zeros at λ_wd = {lam:g}" in view.note

    at_step_0_and_after_training(rendered, "weight-decay", check, steps=3000)
    assert f"at least {56} dots" in lesson.look and f"at {lam:g}" in lesson.look
    assert f"λ_wd = {lam:g}" in lesson.explanation


def test_weight_decay_lesson_says_when_its_claim_stops_holding(rendered):
    """The lesson: at 0.1 the decay empties every weight matrix within a thousand steps, all
    64 eigenvalues sit at 0.1 and the loss stops falling. That is what the view shows."""
    lesson = BY_KEY["weight-decay"]
    assert "Set it to 0.1 and within a thousand steps" in lesson.explanation
    assert "all 64 eigenvalues sit at 0.1" in lesson.explanation
    dashboard = open_lesson(rendered, "weight-decay", weight_decay=0.1)
    view = dashboard.main.visible
    train(dashboard, 1000)
    eigenvalues = view.arrays["eigenvalues"]
    assert eigenvalues.size == 64
    np.testing.assert_allclose(eigenvalues, 0.1, atol=view.counts["tolerance"])
    assert "all 64 eigenvalues of the data term are zero" in view.note
    counts = find(view, "spectrum-counts").object
    assert "The data term has 64 zero eigenvalues, all of them" in counts
    weights = [np.abs(np.asarray(W)).max() for W in dashboard.session.net.weights]
    assert max(weights) < 1e-10
    losses = np.asarray(dashboard.session.loss_values[-200:])
    train(dashboard, 300)
    later = np.asarray(dashboard.session.loss_values[-200:])
    assert later.mean() > 0.8 * losses.mean(), "the loss has stopped falling"


# --- the paper's slips, meProp, truncated BPTT ------------------------------------------------
def test_errata_lesson_errors_of_order_one(rendered):
    def check(dashboard, view):
        errors = view.arrays["relative_error"]
        errors = errors[np.isfinite(errors)]
        assert errors.size and errors.min() > 0.1, errors  # "0.1 and more"
        if dashboard.session.step == 0:
            assert errors.max() > 1.0, errors  # "above 1 at the start"
            assert "above 1 at the start" in BY_KEY["errata"].look
        assert "0.1 and more" in BY_KEY["errata"].look
        assert "yes |" not in find(view, "errata-table").object.replace("n/a", "")

    at_step_0_and_after_training(rendered, "errata", check)


def test_meprop_lesson_cosine_below_one_and_two_loss_curves(rendered):
    def check(dashboard, view):
        k = dashboard.settings.layer
        assert view.arrays[f"cosine_W{k}"][0] < 0.99
        session = dashboard.session
        assert session.full_net is not None, "a twin with full back-propagation"
        if session.step:
            arrays = view.download_arrays()
            assert arrays["loss_full"].size == arrays["loss_sparse"].size == session.step
            assert not np.array_equal(arrays["loss_full"], arrays["loss_sparse"])

    at_step_0_and_after_training(rendered, "meprop", check)


def test_truncated_bptt_lesson_ranks_and_the_loss_curves_part(rendered):
    def check(dashboard, view):
        rank_full, rank_truncated = view.arrays["rank_U1"]
        K, t = dashboard.settings.truncate, view.time_step()
        assert (rank_full, rank_truncated) == (t - 1, K) == (7, 2)
        look = BY_KEY["truncated-bptt"].look
        assert "two singular values" in look and "seven for full BPTT" in look

    dashboard, view = at_step_0_and_after_training(rendered, "truncated-bptt", check,
                                                   steps=RNN_STEPS)
    arrays = view.download_arrays()
    last = slice(-100, None)
    assert arrays["loss_sparse"][last].mean() > 1.2 * arrays["loss_full"][last].mean(), (
        "the loss curves part: full BPTT sees the input 4 steps back, K = 2 cannot")


# --- axes that fit what is shown --------------------------------------------------------------
def test_spectrum_axes_fit_the_lesson_not_the_view_before(rendered):
    """Softmax (24 eigenvalues) after Weyl (64) and a long run: the index axis ends at 24.5
    and the step axis of the top eigenvalue starts again at the lesson's step 0."""
    dashboard = open_lesson(rendered, "weyl")
    train(dashboard, 400)
    dashboard.sidebar.lesson_select.value = "softmax-hessian"
    view = dashboard.views["spectrum"]
    size = view.arrays["eigenvalues"].size
    assert size == 24
    assert (view.spectrum_plot.x_range.start, view.spectrum_plot.x_range.end) == (0.5, 24.5)
    drawn = np.concatenate([view.points.data["y"], view.prediction.data["y"]])
    y_range = view.spectrum_plot.y_range
    assert y_range.start <= drawn.min() and drawn.max() <= y_range.end
    assert y_range.end - y_range.start <= 1.2 * max(drawn.max() - min(drawn.min(), 0), 1) + 1
    top = view.top_plot
    assert (top.x_range.start, top.x_range.end) == (0.0, 1.0)
    train(dashboard, 30)
    assert (top.x_range.start, top.x_range.end) == (0.0, 30.0)
    values = np.concatenate([view.top.data["top"], view.top.data["threshold"]])
    assert top.y_range.start <= values.min() and values.max() <= top.y_range.end
    dashboard.reset()
    assert (top.x_range.start, top.x_range.end) == (0.0, 1.0)


def test_edge_of_stability_lesson_sharpness_climbs_to_two_over_alpha(rendered):
    """The sharpness line of the Whole Hessian view starts below 2/alpha and, after the
    training steps of some seconds of Play, is within 10 % of it (the plateau itself, over
    thousands of steps and for other alphas: tests/app/test_whole_view.py)."""
    lesson = BY_KEY["edge-of-stability"]
    threshold = 2.0 / lesson.settings["learning_rate"]
    assert f"2/α = {threshold:g}" in lesson.look and f"2/α = {threshold:g}" in lesson.explanation

    def check(dashboard, view):
        assert dashboard.session.batch_size == dashboard.settings.samples  # full batch
        data = view.sharpness.data
        assert list(data["threshold"]) == [threshold] * len(data["step"])
        top = data["sharpness"][-1]
        assert top == pytest.approx(view.counts["top"], rel=1e-9)  # Lanczos, dense
        if dashboard.session.step == 0:
            assert top < 0.5 * threshold
        else:
            assert abs(top / threshold - 1) <= 0.10, (top, threshold)

    at_step_0_and_after_training(rendered, "edge-of-stability", check)


def test_edge_of_stability_lesson_swings_then_settles_as_it_says(rendered):
    """The words of the lesson about the way to the plateau: an overshoot above 2/alpha and
    swings between about 6.5 and 14.5 until step 1100 or so, then within a few per cent from
    about step 1200, measured every 15 steps: the line's spacing at 3 steps a frame (a point
    per redraw, at most every 0.2 s at 25 frames a second), where the lesson says it shows
    the swings; at 10 steps a frame the spacing is 50 steps, as it says."""
    lesson = BY_KEY["edge-of-stability"]
    assert "6.5 to 14.5 at 3 steps a frame" in lesson.look
    assert "between about 6.5 and 14.5" in lesson.explanation
    assert "every 0.2 s: at 10 steps a frame that is every 50 steps" in lesson.explanation
    threshold = 2.0 / lesson.settings["learning_rate"]
    dashboard = open_lesson(rendered, "edge-of-stability")
    view, session = dashboard.views["whole"], dashboard.session
    assert view.min_redraw_interval == 0.2 and FRAME_RATE == 25.0
    spacing = round(3 * FRAME_RATE * view.min_redraw_interval)
    assert spacing == 15 and round(10 * FRAME_RATE * view.min_redraw_interval) == 50
    sharpness = {}
    for step in range(0, 2001, spacing):
        if step:
            session.train(spacing)
        sharpness[step] = float(np.asarray(view.whole_hessian(session.net).top_eigenvalues(1))[-1])
    swings = [value for step, value in sharpness.items() if 300 <= step <= 1100]
    assert 14.0 <= max(swings) <= 15.0 and 6.0 <= min(swings) <= 7.0, swings
    assert all(0.6 * threshold < value < 1.5 * threshold for value in swings), swings
    settled = [value for step, value in sharpness.items() if step >= 1300]
    assert all(abs(value / threshold - 1) <= 0.06 for value in settled), settled


def test_every_lesson_has_a_claim_test():
    """A new lesson needs its claim checked here."""
    tested = {"rank-1", "rank-r", "rank-t", "rank-rt", "kronecker", "rnn-hessian",
              "relu-masks", "eq46", "weyl", "softmax-hessian", "weight-decay", "errata",
              "meprop", "truncated-bptt", "edge-of-stability"}
    assert {lesson.key for lesson in LESSONS} == tested


def test_step_axes_restart_with_the_lesson(rendered):
    """The loss and cosine curves (meProp, truncated BPTT) and the rank history start again
    at step 0 when a lesson is chosen after a long run, and their step axes with them."""
    dashboard = open_lesson(rendered, "meprop")
    train(dashboard, 300)
    sparse = dashboard.views["sparse"]
    assert (sparse.loss_plot.x_range.start, sparse.loss_plot.x_range.end) == (0.0, 300.0)
    dashboard.sidebar.lesson_select.value = "truncated-bptt"
    for plot in (sparse.loss_plot, sparse.cosine_plot):
        assert (plot.x_range.start, plot.x_range.end) == (0.0, 1.0)
    train(dashboard, 20)
    for plot in (sparse.loss_plot, sparse.cosine_plot):
        assert (plot.x_range.start, plot.x_range.end) == (0.0, 20.0)
    dashboard.sidebar.lesson_select.value = "rank-r"
    train(dashboard, 200)
    history = dashboard.views["rank"].history_plot
    assert (history.x_range.start, history.x_range.end) == (0.0, 200.0)
    dashboard.sidebar.lesson_select.value = "rank-1"
    assert (history.x_range.start, history.x_range.end) == (0.0, 1.0)
    assert history.y_range.end == 8.5  # G_W^(2) is 8x8: its rank is at most 8
