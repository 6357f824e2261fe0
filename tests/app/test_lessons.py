"""Lessons: readable text, complete configurations, and claims that show in the numbers.

Each lesson claims a result of the paper; its settings must make that result unmistakable.
The claims are checked here on the numbers the lesson's configuration produces (with
hessian_core and plain NumPy), not on pixels: the rank equals the bound and the bound is
below the gradient's width, the Hessian really is the Kronecker product and not zero, the
paper's errors are large where the lesson is about them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.configuration.lessons import BY_KEY, LESSONS
from app.configuration.settings import Settings, lesson_configuration, settle
from app.training.session import TrainingSession
from hessian_core.rank import numerical_rank

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def lesson_setup(key: str | None = None, **values):
    """(settings, session, X, Z) of a lesson (or of the defaults): the batch as its scope
    chooses, the whole mini-batch or one sample."""
    settings = Settings()
    errors = settings.apply({"lesson": key, **values} if key else values)
    assert not errors, errors
    session = TrainingSession(settings)
    X, Z = session.X, session.Z
    if settings.scope == "sample":
        p = min(settings.sample, X.shape[0] - 1)
        X, Z = X[p : p + 1], Z[p : p + 1]
    return settings, session, X, Z


def gradient(session, X, Z, settings, **options):
    t = {"t": settings.resolved_time()} if session.is_rnn else {}
    return session.net.gradients(X, Z, **t, **options)[settings.layer - 1]


# --- text -------------------------------------------------------------------------------
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_lesson_text_has_no_control_characters(lesson):
    for part in (lesson.title, lesson.explanation, lesson.equation, lesson.look, lesson.text):
        assert not CONTROL.search(part), (lesson.key, CONTROL.findall(part), part)
    # TeX commands that a lost backslash would turn into words or control characters
    for word in ("big", "tilde", "text", "times", "theta", "beta", "frac", "right", "nabla"):
        assert not re.search(rf"(?<![\\a-zA-Z]){word[1:]}[\[\{{(]", lesson.equation), word
    assert lesson.equation.count("{") == lesson.equation.count("}"), lesson.key


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_every_lesson_is_valid_and_says_what_to_look_at(lesson):
    settings = Settings()
    assert settings.apply({"lesson": lesson.key}) == {}
    values = settings.values()
    assert settle(values) == (values, {}), "the lesson's settings do not hold together"
    for name, value in lesson.settings.items():
        assert values[name] == value, name
    assert lesson.look and "\n" not in lesson.look and len(lesson.look) < 160
    assert f"**Look at:** {lesson.look}" in lesson.text
    assert set(lesson_configuration(lesson.key)) == set(Settings().query_parameters())
    TrainingSession(settings)  # the model and data build


def lesson_walk(keys: list[str]) -> list[str]:
    """A walk through the lessons in which every ordered pair (A, B), A != B, follows once
    (an Euler circuit of the complete directed graph, by Hierholzer's algorithm)."""
    unused = {a: [b for b in keys if b != a] for a in keys}
    stack, walk = [keys[0]], []
    while stack:
        here = stack[-1]
        if unused[here]:
            stack.append(unused[here].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


def state_of(dashboard) -> dict:
    session = dashboard.session
    return {
        "settings": dashboard.settings.values(),
        "sizes": session.layer_sizes,
        "step": session.step,
        "weights": [array.copy() for array in session.parameters()],
        "data": session.data.X.copy(),
        "batch": session.X.copy(),
        "rule": session.rule,
    }


def assert_same_state(state: dict, expected: dict, where: str) -> None:
    differing = {name for name, value in state["settings"].items()
                 if expected["settings"][name] != value}
    assert not differing, f"{where}: settings differ: " + ", ".join(
        f"{name}={state['settings'][name]!r} (fresh: {expected['settings'][name]!r})"
        for name in sorted(differing))
    for name in ("sizes", "step", "rule"):
        assert state[name] == expected[name], (where, name)
    for name in ("data", "batch"):
        np.testing.assert_array_equal(state[name], expected[name], err_msg=f"{where}: {name}")
    for a, b in zip(state["weights"], expected["weights"], strict=True):
        np.testing.assert_array_equal(a, b, err_msg=f"{where}: weights")


def test_a_lesson_is_the_same_whatever_was_open_before():
    """For every pair (A, B): lesson B chosen after lesson A (and two training steps, and
    a setting changed by hand) equals B chosen on a fresh dashboard: every setting, the
    model, the data and the batch."""
    from app import Dashboard

    fresh = {}
    for lesson in LESSONS:
        dashboard = Dashboard()
        dashboard.sidebar.lesson_select.value = lesson.key
        fresh[lesson.key] = state_of(dashboard)
        dashboard.close()
    walk = lesson_walk([lesson.key for lesson in LESSONS])
    assert len(walk) == len(LESSONS) * (len(LESSONS) - 1) + 1
    dashboard = Dashboard()
    before = None
    for key in walk:
        dashboard.sidebar.lesson_select.value = key
        assert_same_state(state_of(dashboard), fresh[key], f"{key} after {before}")
        dashboard.session.train(2)
        dashboard.settings.seed += 1  # a leftover that the next lesson must not keep
        before = key
    dashboard.close()


def test_a_lesson_chosen_from_the_menu_keeps_the_training_speed_in_force():
    """The pace is the teacher's: every other setting is the lesson's, as on a fresh page."""
    from app import Dashboard

    dashboard = Dashboard()
    dashboard.settings.speed = 0  # fastest
    dashboard.sidebar.lesson_select.value = "kronecker"
    assert dashboard.settings.speed == 0
    fresh = Dashboard()
    fresh.sidebar.lesson_select.value = "kronecker"
    assert fresh.settings.speed == fresh.settings.param["speed"].default
    kept = {name: getattr(dashboard.settings, name) for name in dashboard.settings.param
            if name not in ("name", "speed")}
    assert kept == {name: getattr(fresh.settings, name) for name in kept}
    dashboard.close()
    fresh.close()


# --- the claims ---------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "bound"), [("rank-1", 1), ("rank-r", 4), ("rank-t", 4),
                                            ("rank-rt", 6)])
def test_rank_lessons_reach_a_bound_below_the_width(key, bound):
    settings, session, X, Z = lesson_setup(key)
    r = X.shape[0]
    expected = r * settings.resolved_time() if session.is_rnn else r
    assert expected == bound
    G = np.asarray(gradient(session, X, Z, settings).W)
    assert min(G.shape) > bound, f"G_W^({settings.layer}) is {G.shape}: the bound cannot bite"
    assert numerical_rank(G) == bound


def test_kronecker_lesson_is_a_nonzero_kronecker_product():
    settings, session, X, Z = lesson_setup("kronecker")
    h = session.net.hessian(X, Z, layer=settings.layer)
    H = np.asarray(h.dense())
    C = np.asarray(h.blocks)[0, 0, :, 0, :]
    z = np.asarray(h.inputs)[0, 0]
    m, n = C.shape[0], z.shape[0]
    assert m >= 4 and n >= 4, "blocks of at least 4x4 in a grid of at least 4x4"
    np.testing.assert_allclose(H, np.kron(C, np.outer(z, z)), atol=1e-12)
    assert numerical_rank(C) == m and numerical_rank(H) == m  # C full, not zero


def test_relu_masks_lesson_masks_are_binary_and_vary():
    settings, session, X, Z = lesson_setup("relu-masks")
    assert settings.activation == "relu"
    W, b = session.net.weights[0], session.net.biases[0]
    active = (X @ W.T + b) > 0  # f'(y^(1)) for every sample of the batch
    assert active.any() and not active.all(), "the masks must show both 0 and 1"
    assert len({tuple(row) for row in active}) > 1, "the samples switch different units"
    # one sample: the rows of H_W^(1) of its inactive units are exactly zero
    H = np.asarray(session.net.hessian(X[:1], Z[:1], layer=1).dense())
    n = X.shape[1]
    for i, on in enumerate(active[0]):
        rows = H[i * n : (i + 1) * n]
        assert np.any(rows != 0) if on else np.all(rows == 0), (i, on)


def test_eq46_lesson_eigenvalues_of_both_signs_from_the_small_matrix():
    settings, session, X, Z = lesson_setup("eq46")
    h = session.net.hessian(X, Z, layer=settings.layer)
    C = np.asarray(h.blocks)[0, 0, :, 0, :]
    z = np.asarray(h.inputs)[0, 0]
    predicted = np.sort(np.concatenate([np.zeros(C.shape[0] * (z.size - 1)),
                                        z @ z * np.linalg.eigvalsh(C)]))
    exact = np.linalg.eigvalsh(np.asarray(h.dense()))
    np.testing.assert_allclose(exact, predicted, atol=1e-10)
    scale = np.abs(exact).max()
    assert exact.min() < -1e-3 * scale and exact.max() > 1e-3 * scale, "H is indefinite"


def test_rnn_hessian_lesson_fills_all_t_squared_blocks():
    settings, session, X, Z = lesson_setup("rnn-hessian")
    t = settings.resolved_time()
    h = session.net.hessian(X, Z, layer=settings.layer, t=t, wrt="W")
    blocks = np.asarray(h.blocks)[0]  # (T, m, T, m)
    inputs = np.asarray(h.inputs)[0]  # (T, n)
    T, m, n = blocks.shape[0], blocks.shape[1], inputs.shape[1]
    assert T == t and m >= 2 and n >= 2, "a t x t grid of matrices, not of 1x1 numbers"
    norms = np.linalg.norm(blocks.transpose(0, 2, 1, 3).reshape(T, T, -1), axis=-1)
    assert np.all(norms > 1e-6 * norms.max()), f"empty blocks among the t^2 = {t * t}"
    dense = sum(np.kron(blocks[s, :, zeta, :], np.outer(inputs[s], inputs[zeta]))
                for s in range(T) for zeta in range(T))
    np.testing.assert_allclose(np.asarray(h.dense()), dense, atol=1e-10)


def test_weyl_lesson_eigenvalues_lie_in_their_bands():
    settings, session, X, Z = lesson_setup("weyl")
    assert X.shape[0] >= 4, "several Kronecker terms"
    h = session.net.hessian(X, Z, layer=settings.layer)
    exact = np.asarray(h.eigvalsh())
    lower, upper = (np.asarray(bound) for bound in h.weyl_bounds())
    tolerance = 1e-10 * np.abs(exact).max()
    assert np.all(lower - tolerance <= exact) and np.all(exact <= upper + tolerance)
    assert np.any(upper - lower > 1e-3 * np.abs(exact).max()), "the bands have a width"
    assert exact.min() < 0 < exact.max()


def test_errata_lesson_paper_is_far_from_exact():
    from hessian_core import errata

    settings, session, X, Z = lesson_setup("errata")
    assert settings.formula == "paper"
    errors = [m.relative_error for m in errata.measure_fnn(session.net, X, Z)
              if m.relative_error is not None]
    assert errors and min(errors) > 0.5, errors


def test_meprop_lesson_update_touches_only_the_kept_rows():
    from app.training.session import cosine_similarity

    settings, session, X, Z = lesson_setup("meprop")
    r = X.shape[0]
    sparse = np.asarray(gradient(session, X, Z, settings, topk=float(settings.topk)).W)
    full = np.asarray(gradient(session, X, Z, settings).W)
    rows = int(np.count_nonzero(np.abs(sparse).sum(axis=1)))
    assert 1 <= rows <= r < sparse.shape[0]
    assert cosine_similarity(sparse, full) < 0.99


def test_truncated_bptt_lesson_rank_drops_to_the_window():
    settings, session, X, Z = lesson_setup("truncated-bptt")
    K = settings.truncate
    full = np.asarray(gradient(session, X, Z, settings).U)
    truncated = np.asarray(gradient(session, X, Z, settings, truncate=K).U)
    assert numerical_rank(truncated) == K < numerical_rank(full)


# --- the defaults -------------------------------------------------------------------------
def test_default_fnn_rank_bound_bites():
    settings, session, X, Z = lesson_setup()
    r = X.shape[0]
    G = np.asarray(gradient(session, X, Z, settings).W)
    assert min(G.shape) > r and numerical_rank(G) == r


def test_default_activation_shows_the_papers_slips():
    from hessian_core import errata

    settings, session, X, Z = lesson_setup()
    errors = [m.relative_error for m in errata.measure_fnn(session.net, X, Z)
              if m.relative_error is not None]
    assert max(errors) > 1e-2, errors  # ReLU gives 0 (f'' = 0): empty bars


def test_default_rnn_has_several_inputs_and_visible_blocks():
    settings, session, X, Z = lesson_setup(model="rnn")
    assert session.layer_sizes[0] >= 2 and X.shape[-1] >= 2
    k = settings.layer
    m, n = session.layer_sizes[k], session.layer_sizes[k - 1]
    assert m >= 2 and n >= 2, f"H_W^({k}) is a grid of {n}x{n} blocks"
    h = session.net.hessian(X[:1], Z[:1], layer=k, t=settings.resolved_time(), wrt="W")
    assert np.linalg.norm(np.asarray(h.dense())) > 0


def test_lessons_and_settings_know_the_same_keys():
    assert set(BY_KEY) == {lesson.key for lesson in LESSONS} and len(BY_KEY) == len(LESSONS)
