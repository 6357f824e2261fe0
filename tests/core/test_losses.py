"""Cross-entropy and weight decay (docs/contract.md, "Losses beyond the paper").

Every gradient and exact Hessian is checked against the finite-difference reference computed
from the loss alone (tests/reference.py, ``loss=`` and ``weight_decay=``), over a table of
activation x depth x batch x level (x output time and W/U/b for RNNs), on every backend. Then
the properties: symmetry, eigvalsh() from the factors == the dense spectrum, Weyl containment,
each sample's cross-entropy loss Hessian of rank <= M - 1, weight decay moving every eigenvalue
of H_W and H_U by exactly lam (and leaving H_b alone), top_eigenvalues; and the errors.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
import reference
from core_cases import fnn_case, rnn_case
from core_checks import (
    EIGENVALUE_RTOL,
    GRADIENT_RTOL,
    HESSIAN_RTOL,
    LOSS_RTOL,
    ROUNDOFF_RTOL,
    WEYL_RTOL,
    ZERO_EIGENVALUE_RTOL,
    assert_close,
    assert_inside,
    spectral_scale,
    to_numpy,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LOSS_OPTIONS = [
    pytest.param("cross_entropy", 0.0, id="ce"),
    pytest.param("cross_entropy", 0.3, id="ce-decay"),
    pytest.param("mse", 0.3, id="mse-decay"),
]
FNN_SIZES = {1: (3, 3), 2: (3, 4, 3), 3: (2, 3, 2, 3)}
RNN_SIZES = {1: (2, 3), 2: (2, 2, 3)}
ACTIVATIONS = [("tanh", "identity"), ("sigmoid", "identity"), ("relu", "identity"),
               ("softplus", "tanh")]


def _probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Target rows that are class probabilities: half one-hot labels, half soft targets."""
    logits = rng.normal(size=shape) * 2.0
    soft = np.exp(logits - logits.max(axis=-1, keepdims=True))
    soft /= soft.sum(axis=-1, keepdims=True)
    hard = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
    choose = rng.random(size=shape[:-1] + (1,)) < 0.5
    return np.where(choose, hard, soft)


@functools.cache
def _fnn(depth: int, batch: int, activation: str, output: str, loss: str):
    case = fnn_case(FNN_SIZES[depth], batch, activation, output)
    targets = case.Z_target
    if loss == "cross_entropy":
        targets = _probabilities(np.random.default_rng(depth * 10 + batch), targets.shape)
    return case, targets


@functools.cache
def _rnn(depth: int, batch: int, activation: str, output: str, loss: str):
    case = rnn_case(RNN_SIZES[depth], batch, 3, activation, output)
    targets = case.Z_target
    if loss == "cross_entropy":
        targets = _probabilities(np.random.default_rng(depth * 10 + batch + 5), targets.shape)
    return case, targets


def _build_fnn(xp, case, targets, loss, lam):
    from hessian_core import FNN

    net = FNN([xp.asarray(W) for W in case.weights], [xp.asarray(b) for b in case.biases],
              activation=case.activation, output_activation=case.output_activation,
              loss=loss, weight_decay=lam)
    return net, xp.asarray(case.X), xp.asarray(targets)


def _build_rnn(xp, case, targets, loss, lam):
    from hessian_core import RNN

    net = RNN([xp.asarray(W) for W in case.weights], [xp.asarray(U) for U in case.recurrent],
              [xp.asarray(b) for b in case.biases], activation=case.activation,
              output_activation=case.output_activation, loss=loss, weight_decay=lam)
    return net, xp.asarray(case.X), xp.asarray(targets)


@functools.cache
def _fnn_reference(depth, batch, activation, output, loss, lam, layer, wrt):
    case, targets = _fnn(depth, batch, activation, output, loss)
    loss_fn, theta = reference.fnn_block_loss(
        case.weights, case.biases, activation, output, case.X, targets, layer, wrt,
        loss=loss, weight_decay=lam,
    )
    return reference.fd_gradient(loss_fn, theta), reference.fd_hessian(loss_fn, theta)


@functools.cache
def _rnn_reference(depth, batch, activation, output, loss, lam, layer, wrt, t):
    case, targets = _rnn(depth, batch, activation, output, loss)
    loss_fn, theta = reference.rnn_block_loss(
        case.weights, case.recurrent, case.biases, activation, output, case.X, targets,
        layer, wrt, t, loss=loss, weight_decay=lam,
    )
    return reference.fd_gradient(loss_fn, theta), reference.fd_hessian(loss_fn, theta)


# ------------------------------------------------------------------ against the FD reference


@pytest.mark.parametrize("loss,lam", LOSS_OPTIONS)
@pytest.mark.parametrize("activation,output", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("batch", [1, 3])
def test_fnn_loss_gradients_hessians_match_the_reference(xp, loss, lam, activation, output,
                                                         depth, batch):
    case, targets = _fnn(depth, batch, activation, output, loss)
    net, X, Z = _build_fnn(xp, case, targets, loss, lam)
    what = f"{case} loss={loss} lam={lam}"
    expected_loss = reference.fnn_loss(case.weights, case.biases, activation, output, case.X,
                                       targets, loss=loss, weight_decay=lam)
    assert_close(net.loss(X, Z), expected_loss, LOSS_RTOL, f"{what}: loss")
    for layer in range(1, depth + 1):
        g = net.gradient(X, Z, layer=layer)
        for wrt, value in (("W", g.W), ("b", g.b)):
            fd_g, fd_h = _fnn_reference(depth, batch, activation, output, loss, lam, layer, wrt)
            assert_close(to_numpy(value, xp).reshape(-1), fd_g, GRADIENT_RTOL,
                         f"{what} layer={layer}: G_{wrt}")
            h = net.hessian(X, Z, layer=layer, wrt=wrt)
            assert_close(to_numpy(h.dense(), xp), fd_h, HESSIAN_RTOL,
                         f"{what} layer={layer}: H_{wrt}")


@pytest.mark.parametrize("loss,lam", LOSS_OPTIONS)
@pytest.mark.parametrize("activation,output", [("tanh", "identity"), ("relu", "identity")])
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("t", [None, 2])
def test_rnn_loss_gradients_hessians_match_the_reference(xp, loss, lam, activation, output,
                                                         depth, t):
    batch = 2
    case, targets = _rnn(depth, batch, activation, output, loss)
    net, X, Z = _build_rnn(xp, case, targets, loss, lam)
    what = f"{case} loss={loss} lam={lam} t={t}"
    expected_loss = reference.rnn_loss(case.weights, case.recurrent, case.biases, activation,
                                       output, case.X, targets, t, loss=loss, weight_decay=lam)
    assert_close(net.loss(X, Z, t=t), expected_loss, LOSS_RTOL, f"{what}: loss")
    for layer in range(1, depth + 1):
        g = net.gradient(X, Z, layer=layer, t=t)
        for wrt in ("W", "U", "b"):
            fd_g, fd_h = _rnn_reference(depth, batch, activation, output, loss, lam, layer,
                                        wrt, t)
            assert_close(to_numpy(getattr(g, wrt), xp).reshape(-1), fd_g, GRADIENT_RTOL,
                         f"{what} layer={layer}: G_{wrt}")
            h = net.hessian(X, Z, layer=layer, t=t, wrt=wrt)
            assert_close(to_numpy(h.dense(), xp), fd_h, HESSIAN_RTOL,
                         f"{what} layer={layer}: H_{wrt}")


# ------------------------------------------------------------------ properties


def _spectral_checks(h, xp, what):
    dense = to_numpy(h.dense(), xp)
    assert_close(dense, dense.T, ROUNDOFF_RTOL, f"{what}: symmetric")
    expected = np.linalg.eigvalsh(dense)
    radius = max(1.0, float(np.max(np.abs(expected))))
    values = to_numpy(h.eigvalsh(), xp)
    assert_close(values, expected, EIGENVALUE_RTOL, f"{what}: eigvalsh", scale=radius)
    lower, upper = (to_numpy(bound, xp) for bound in h.weyl_bounds())
    slack = WEYL_RTOL * radius
    assert np.all(lower <= expected + slack), f"{what}: Weyl lower {lower} > {expected}"
    assert np.all(expected <= upper + slack), f"{what}: Weyl upper {upper} < {expected}"
    top = to_numpy(h.top_eigenvalues(2), xp)
    assert_close(top, expected[-2:], EIGENVALUE_RTOL, f"{what}: top_eigenvalues", scale=radius)
    return expected


@pytest.mark.parametrize("loss,lam", LOSS_OPTIONS)
@pytest.mark.parametrize("seed", range(4))
def test_fnn_spectra_symmetry_weyl_and_decay_shift(xp, loss, lam, seed):
    from hessian_core import FNN

    rng = np.random.default_rng(seed)
    sizes = (3, 4, 3) if seed % 2 else (2, 5, 4)
    batch = 1 + seed
    X = xp.asarray(rng.normal(size=(batch, sizes[0])))
    targets = _probabilities(rng, (batch, sizes[-1])) if loss == "cross_entropy" else (
        rng.normal(size=(batch, sizes[-1])))
    Z = xp.asarray(targets)
    like = xp.asarray(np.zeros(1))
    plain = FNN.random(sizes, "tanh", "identity", seed=seed, like=like, loss=loss)
    net = FNN(plain.weights, plain.biases, "tanh", "identity", loss=loss, weight_decay=lam)
    for layer in (1, 2):
        for wrt in ("W", "b"):
            what = f"FNN {sizes} r={batch} {loss} lam={lam} layer={layer} wrt={wrt}"
            shifted = _spectral_checks(net.hessian(X, Z, layer=layer, wrt=wrt), xp, what)
            base = _spectral_checks(plain.hessian(X, Z, layer=layer, wrt=wrt), xp, what)
            expected_shift = lam if wrt == "W" else 0.0
            assert_close(shifted - base, np.full_like(base, expected_shift), ROUNDOFF_RTOL * 100,
                         f"{what}: weight decay shifts every eigenvalue by lam")
            from_factors = to_numpy(net.hessian(X, Z, layer=layer, wrt=wrt).eigvalsh(), xp)
            base_factors = to_numpy(plain.hessian(X, Z, layer=layer, wrt=wrt).eigvalsh(), xp)
            assert np.array_equal(from_factors, base_factors + expected_shift), (
                f"{what}: eigvalsh() moves by exactly lam")


@pytest.mark.parametrize("loss,lam", LOSS_OPTIONS)
@pytest.mark.parametrize("seed", range(3))
def test_rnn_spectra_symmetry_weyl_and_decay_shift(xp, loss, lam, seed):
    from hessian_core import RNN

    rng = np.random.default_rng(seed + 100)
    sizes, batch, tau = (2, 3, 3), 1 + seed, 3
    X = xp.asarray(rng.normal(size=(batch, tau, sizes[0])))
    targets = _probabilities(rng, (batch, tau, sizes[-1])) if loss == "cross_entropy" else (
        rng.normal(size=(batch, tau, sizes[-1])))
    Z = xp.asarray(targets)
    like = xp.asarray(np.zeros(1))
    plain = RNN.random(sizes, "tanh", "identity", seed=seed, like=like, loss=loss)
    net = RNN(plain.weights, plain.recurrent, plain.biases, "tanh", "identity", loss=loss,
              weight_decay=lam)
    for layer in (1, 2):
        for wrt in ("W", "U", "b"):
            what = f"RNN {sizes} r={batch} {loss} lam={lam} layer={layer} wrt={wrt}"
            shifted = _spectral_checks(net.hessian(X, Z, layer=layer, t=None, wrt=wrt), xp, what)
            base = _spectral_checks(plain.hessian(X, Z, layer=layer, t=None, wrt=wrt), xp, what)
            expected_shift = lam if wrt in ("W", "U") else 0.0
            assert_close(shifted - base, np.full_like(base, expected_shift), ROUNDOFF_RTOL * 100,
                         f"{what}: weight decay shifts every eigenvalue by lam")


@pytest.mark.parametrize("M", [2, 3, 5])
@pytest.mark.parametrize("seed", range(3))
def test_each_samples_cross_entropy_loss_hessian_has_rank_at_most_M_minus_1(xp, M, seed):
    """(diag(p) - p p^T)/r annihilates the ones vector: rank <= M - 1 per sample (and per
    output time), so each sample's top-level H_W has rank <= (M - 1) * 1 Kronecker term."""
    from hessian_core import FNN, RNN

    rng = np.random.default_rng(seed)
    batch = 3
    like = xp.asarray(np.zeros(1))
    net = FNN.random((4, 5, M), "tanh", "identity", seed=seed, like=like, loss="cross_entropy")
    X = xp.asarray(rng.normal(size=(batch, 4)))
    Z = xp.asarray(_probabilities(rng, (batch, M)))
    forward = net.forward(X)
    adjoints = net.adjoints(forward, Z)
    seeds = to_numpy(adjoints.output_hessian, xp)  # (r, M, M)
    rnn = RNN.random((2, 3, M), "tanh", "identity", seed=seed, like=like, loss="cross_entropy")
    Xs = xp.asarray(rng.normal(size=(batch, 3, 2)))
    Zs = xp.asarray(_probabilities(rng, (batch, 3, M)))
    rnn_seeds = to_numpy(rnn.adjoints(rnn.forward(Xs), Zs).output_hessian, xp)  # (r, T, M, M)
    for what, matrix in [(f"FNN sample {p}", seeds[p]) for p in range(batch)] + [
        (f"RNN sample {p} time {s + 1}", rnn_seeds[p, s]) for p in range(batch) for s in range(3)
    ]:
        values = np.linalg.eigvalsh(matrix)
        tolerance = ZERO_EIGENVALUE_RTOL * max(1.0, float(np.max(np.abs(values))))
        rank = int(np.sum(np.abs(values) > tolerance))
        assert rank <= M - 1, f"{what}: rank {rank} > M - 1 = {M - 1}, eigenvalues {values}"
        assert np.all(values >= -tolerance), f"{what}: not positive semi-definite: {values}"
        assert_close(matrix @ np.ones(M), np.zeros(M), ROUNDOFF_RTOL, f"{what}: H 1 = 0")
    for p in range(batch):  # one sample: H_W^(l) = Q kron z z^T has rank <= M - 1
        h = net.hessian(X[p : p + 1, :], Z[p : p + 1, :], layer=2)
        values = to_numpy(h.eigvalsh(), xp)
        tolerance = ZERO_EIGENVALUE_RTOL * max(1.0, float(np.max(np.abs(values))))
        rank = int(np.sum(np.abs(values) > tolerance))
        assert rank <= M - 1, f"FNN sample {p}: rank of H_W^(2) {rank} > M - 1 = {M - 1}"


def test_cross_entropy_gradient_is_p_minus_target_over_r():
    """A closed form beside the FD reference: one level, identity output, dE/dz = (p - z*)/r."""
    from hessian_core import FNN

    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    net = FNN([W], [b], activation="identity", loss="cross_entropy")
    X, Z = rng.normal(size=(5, 3)), _probabilities(rng, (5, 4))
    logits = X @ W.T + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = (p - Z).T @ X / 5
    assert_close(net.gradient(X, Z, layer=1).W, expected, ROUNDOFF_RTOL, "G_W = (P - Z*)^T X / r")


# ------------------------------------------------------------------ errors


def _tiny(**options):
    from hessian_core import FNN, RNN

    fnn = FNN.random((2, 3), "tanh", "identity", seed=0, **options)
    rnn = RNN.random((2, 3), "tanh", "identity", seed=0, **options)
    return fnn, rnn


@pytest.mark.parametrize("value", ["MSE", "softmax", None, 3])
def test_unknown_loss_is_refused_with_the_allowed_values(value):
    from hessian_core import FNN, RNN

    for cls in (FNN, RNN):
        with pytest.raises(ValueError, match=r"loss must be one of 'mse', 'cross_entropy'"):
            cls.random((2, 3), seed=0, loss=value)


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "a lot", True, None])
def test_bad_weight_decay_is_refused(value):
    from hessian_core import FNN, RNN

    for cls in (FNN, RNN):
        with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0"):
            cls.random((2, 3), seed=0, weight_decay=value)


def test_paper_formula_with_cross_entropy_names_formula_and_loss():
    fnn, rnn = _tiny(loss="cross_entropy")
    X, Z = np.ones((2, 2)), np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"formula='paper'.*loss='mse'.*loss='cross_entropy'"):
        fnn.hessian(X, Z, layer=1, formula="paper")
    with pytest.raises(ValueError, match=r"formula='paper'.*loss='cross_entropy'"):
        rnn.hessian(np.ones((2, 3, 2)), np.full((2, 3, 3), 1 / 3), layer=1, formula="paper")


def test_paper_formula_with_weight_decay_adds_lam():
    """Weight decay is not a loss change: formula="paper" (squared loss) still works and
    moves by lam I like the exact one."""
    plain, _ = _tiny()
    decayed, _ = _tiny(weight_decay=0.5)
    X, Z = np.random.default_rng(0).normal(size=(3, 2)), np.zeros((3, 3))
    difference = (decayed.hessian(X, Z, layer=1, formula="paper").dense()
                  - plain.hessian(X, Z, layer=1, formula="paper").dense())
    assert_close(difference, 0.5 * np.eye(6), ROUNDOFF_RTOL, "paper H_W + lam I")


@pytest.mark.parametrize("targets, message", [
    (np.array([[0.5, 0.6, -0.1], [1.0, 0.0, 0.0]]), "negative entry"),
    (np.array([[0.5, 0.6, 0.1], [1.0, 0.0, 0.0]]), "sums to 1"),
    (np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "sums to 1"),
])
def test_cross_entropy_targets_must_be_probabilities(targets, message):
    fnn, rnn = _tiny(loss="cross_entropy")
    for call in (
        lambda: fnn.loss(np.ones((2, 2)), targets),
        lambda: fnn.gradient(np.ones((2, 2)), targets, layer=1),
        lambda: fnn.adjoints(fnn.forward(np.ones((2, 2))), targets),
        lambda: rnn.hessian(np.ones((2, 1, 2)), targets[:, None, :], layer=1),
    ):
        with pytest.raises(ValueError, match=rf"Z_target must hold class probabilities.*{message}"):
            call()
    mse, _ = _tiny()
    assert np.isfinite(mse.loss(np.ones((2, 2)), targets))  # any target is fine for "mse"


# ------------------------------------------------------------------ hypothesis properties

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
loss_options = st.sampled_from([("cross_entropy", 0.0), ("cross_entropy", 0.2), ("mse", 0.2),
                                ("cross_entropy", 1.5)])


@st.composite
def network_setups(draw, kind: str):
    """A seeded FNN or RNN case (any activation, identity or smooth output), a loss option,
    probability targets for cross-entropy, a level, and for RNNs an output time."""
    depth = draw(st.integers(min_value=1, max_value=3 if kind == "fnn" else 2))
    widths = st.integers(min_value=1, max_value=4)
    sizes = tuple(draw(widths) for _ in range(depth)) + (draw(st.integers(2, 4)),)
    batch = draw(st.integers(min_value=1, max_value=3))
    activation = draw(st.sampled_from(reference.ACTIVATIONS))
    output = draw(st.sampled_from(["identity", activation]))
    seed = draw(st.integers(min_value=0, max_value=10**6))
    loss, lam = draw(loss_options)
    layer = draw(st.integers(min_value=1, max_value=depth))
    if kind == "fnn":
        case = fnn_case(sizes, batch, activation, output, seed)
        t = None
    else:
        tau = draw(st.integers(min_value=1, max_value=3))
        case = rnn_case(sizes, batch, tau, activation, output, seed)
        t = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=tau)))
    targets = case.Z_target
    if loss == "cross_entropy":
        targets = _probabilities(np.random.default_rng(seed), targets.shape)
    return case, targets, loss, lam, layer, t


def _build(xp, case, targets, loss, lam):
    if hasattr(case, "recurrent"):
        return _build_rnn(xp, case, targets, loss, lam)
    return _build_fnn(xp, case, targets, loss, lam)


@PROPERTY_SETTINGS
@given(setup=network_setups("fnn"), wrt=st.sampled_from(["W", "b"]))
def test_fnn_hessian_with_loss_options_matches_finite_differences(xp, setup, wrt):
    case, targets, loss, lam, layer, _ = setup
    net, X, Z = _build(xp, case, targets, loss, lam)
    loss_fn, theta = reference.fnn_block_loss(
        case.weights, case.biases, case.activation, case.output_activation, case.X, targets,
        layer, wrt, loss=loss, weight_decay=lam,
    )
    what = f"{case} {loss} lam={lam} layer={layer} wrt={wrt}"
    gradient = getattr(net.gradient(X, Z, layer=layer), wrt)
    assert_close(to_numpy(gradient, xp).reshape(-1), reference.fd_gradient(loss_fn, theta),
                 GRADIENT_RTOL, f"{what}: gradient")
    assert_close(to_numpy(net.hessian(X, Z, layer=layer, wrt=wrt).dense(), xp),
                 reference.fd_hessian(loss_fn, theta), HESSIAN_RTOL, f"{what}: Hessian")


@PROPERTY_SETTINGS
@given(setup=network_setups("rnn"), wrt=st.sampled_from(["W", "U", "b"]))
def test_rnn_hessian_with_loss_options_matches_finite_differences(xp, setup, wrt):
    case, targets, loss, lam, layer, t = setup
    net, X, Z = _build(xp, case, targets, loss, lam)
    loss_fn, theta = reference.rnn_block_loss(
        case.weights, case.recurrent, case.biases, case.activation, case.output_activation,
        case.X, targets, layer, wrt, t, loss=loss, weight_decay=lam,
    )
    what = f"{case} {loss} lam={lam} layer={layer} t={t} wrt={wrt}"
    gradient = getattr(net.gradient(X, Z, layer=layer, t=t), wrt)
    assert_close(to_numpy(gradient, xp).reshape(-1), reference.fd_gradient(loss_fn, theta),
                 GRADIENT_RTOL, f"{what}: gradient")
    assert_close(to_numpy(net.hessian(X, Z, layer=layer, t=t, wrt=wrt).dense(), xp),
                 reference.fd_hessian(loss_fn, theta), HESSIAN_RTOL, f"{what}: Hessian")


@PROPERTY_SETTINGS
@given(setup=st.one_of(network_setups("fnn"), network_setups("rnn")),
       wrt=st.sampled_from(["W", "U", "b"]), form=st.sampled_from(["terms", "norm"]))
def test_loss_options_keep_symmetry_spectrum_weyl_and_the_exact_shift(xp, setup, wrt, form):
    case, targets, loss, lam, layer, t = setup
    rnn = hasattr(case, "recurrent")
    if not rnn and wrt == "U":
        wrt = "W"
    net, X, Z = _build(xp, case, targets, loss, lam)
    plain, _, _ = _build(xp, case, targets, loss, 0.0)
    options = {"layer": layer, "wrt": wrt} | ({"t": t} if rnn else {})
    h, h0 = net.hessian(X, Z, **options), plain.hessian(X, Z, **options)
    what = f"{case} {loss} lam={lam} {options} form={form}"
    H = to_numpy(h.dense(), xp)
    assert_close(H, H.T, ROUNDOFF_RTOL, f"{what}: H == H^T")
    values = np.linalg.eigvalsh(H)
    scale = spectral_scale(values)
    assert_close(to_numpy(h.eigvalsh(), xp), values, EIGENVALUE_RTOL, f"{what}: eigvalsh()",
                 scale=scale)
    lower, upper = (to_numpy(a, xp) for a in h.weyl_bounds(form=form))
    assert_inside(lower, values, upper, what)
    shift = lam if wrt in ("W", "U") else 0.0
    moved = to_numpy(h.eigvalsh(), xp) - to_numpy(h0.eigvalsh(), xp)
    assert_close(moved, np.full_like(moved, shift), ROUNDOFF_RTOL, f"{what}: eigenvalues + lam",
                 scale=max(1.0, scale))
    low0, up0 = (to_numpy(a, xp) for a in h0.weyl_bounds(form=form))
    assert_close(lower - low0, np.full_like(low0, shift), ROUNDOFF_RTOL, f"{what}: Weyl + lam",
                 scale=max(1.0, scale))
    assert_close(upper - up0, np.full_like(up0, shift), ROUNDOFF_RTOL, f"{what}: Weyl + lam",
                 scale=max(1.0, scale))


@PROPERTY_SETTINGS
@given(setup=st.one_of(network_setups("fnn"), network_setups("rnn")))
def test_cross_entropy_loss_hessian_rank_at_most_M_minus_1(xp, setup):
    case, targets, loss, lam, _, t = setup
    net, X, Z = _build(xp, case, targets, "cross_entropy" if loss == "mse" else loss, lam)
    if loss == "mse":  # the mse draws get probability targets too
        targets = _probabilities(np.random.default_rng(case.seed), targets.shape)
        Z = xp.asarray(targets)
    forward = net.forward(X)
    adjoints = net.adjoints(forward, Z, t=t) if hasattr(case, "recurrent") else (
        net.adjoints(forward, Z))
    seeds = to_numpy(adjoints.output_hessian, xp)
    M = seeds.shape[-1]
    for index in np.ndindex(seeds.shape[:-2]):
        values = np.linalg.eigvalsh(seeds[index])
        tolerance = ZERO_EIGENVALUE_RTOL * max(1.0, float(np.max(np.abs(values))))
        rank = int(np.sum(np.abs(values) > tolerance))
        assert rank <= M - 1, f"{case} sample/time {index}: rank {rank} > M - 1, {values}"
