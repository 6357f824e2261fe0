"""Property tests (hypothesis) over random small networks.

- dense() is symmetric;
- eig(A kron B) = {a_i b_j}: one FNN sample's Hessian C kron (z z^T) has the eigenvalues
  {0 (multiplicity (n-1) m), ||z||^2 lambda(C)} (eq. 45-46), read from h.blocks / h.inputs;
- at least (n-1) m zero eigenvalues for one FNN sample;
- Weyl containment (eq. 101-108), both forms;
- numerical rank of the gradient <= r (FNN, Corollary 1) and <= r*t (RNN, Corollary 3);
- exact gradients and Hessians == finite differences on random small networks (any
  depth 1-3, activation pair, batch, tau, t or t=None with outputs_from, wrt);
- formula="paper" == exact where the paper's derivation holds: ReLU/identity FNNs at any
  level, one-level ReLU RNNs for W and b at any t.

Networks come from seeded builders, so a failing example is reproduced by its arguments.
"""

from __future__ import annotations

import os

import numpy as np
import reference
from core_cases import (
    fnn_case,
    fnn_fd_gradient,
    fnn_fd_hessian,
    rnn_case,
    rnn_fd_gradient,
    rnn_fd_hessian,
)
from core_checks import (
    EIGENVALUE_RTOL,
    GRADIENT_RTOL,
    HESSIAN_RTOL,
    ROUNDOFF_RTOL,
    ZERO_EIGENVALUE_RTOL,
    assert_close,
    assert_inside,
    spectral_scale,
    to_numpy,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # CI runs the same examples every time (a red CI then always means a change in the
    # code); elsewhere every run explores new ones. Failures print how to reproduce them.
    derandomize=bool(os.environ.get("CI")),
    print_blob=True,
    # ``xp`` is a plain module chosen by parametrization: nothing to reset between examples
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

activations = st.sampled_from(reference.ACTIVATIONS)
seeds = st.integers(min_value=0, max_value=10**6)


@st.composite
def fnn_setups(draw, max_batch: int = 4, min_width: int = 1, max_width: int = 5):
    depth = draw(st.integers(min_value=1, max_value=3))
    widths = st.integers(min_value=min_width, max_value=max_width)
    sizes = tuple(draw(widths) for _ in range(depth + 1))
    batch = draw(st.integers(min_value=1, max_value=max_batch))
    case = fnn_case(sizes, batch, draw(activations), None, draw(seeds))
    layer = draw(st.integers(min_value=1, max_value=depth))
    return case, layer


@st.composite
def rnn_setups(draw, max_batch: int = 3, max_tau: int = 4, min_width: int = 1):
    depth = draw(st.integers(min_value=1, max_value=2))
    widths = st.integers(min_value=min_width, max_value=4 + min_width // 2)
    sizes = tuple(draw(widths) for _ in range(depth + 1))
    batch = draw(st.integers(min_value=1, max_value=max_batch))
    tau = draw(st.integers(min_value=1, max_value=max_tau))
    case = rnn_case(sizes, batch, tau, draw(activations), None, draw(seeds))
    layer = draw(st.integers(min_value=1, max_value=depth))
    t = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=tau)))
    return case, layer, t


@PROPERTY_SETTINGS
@given(setup=fnn_setups(), formula=st.sampled_from(["exact", "paper"]),
       wrt=st.sampled_from(["W", "b"]))
def test_fnn_hessian_is_symmetric(xp, setup, formula, wrt):
    case, layer = setup
    net, X, Z_target = case.build(xp)
    H = to_numpy(net.hessian(X, Z_target, layer=layer, formula=formula, wrt=wrt).dense(), xp)
    assert_close(H, H.T, ROUNDOFF_RTOL, f"{case} layer={layer} {formula} wrt={wrt}: H == H^T")


@PROPERTY_SETTINGS
@given(setup=rnn_setups(), formula=st.sampled_from(["exact", "paper"]),
       wrt=st.sampled_from(["W", "U", "b"]))
def test_rnn_hessian_is_symmetric(xp, setup, formula, wrt):
    case, layer, t = setup
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt, formula=formula)
    H = to_numpy(h.dense(), xp)
    assert_close(H, H.T, ROUNDOFF_RTOL, f"{case} layer={layer} t={t} {formula} wrt={wrt}")


@PROPERTY_SETTINGS
@given(setup=fnn_setups(max_batch=1), formula=st.sampled_from(["exact", "paper"]))
def test_single_sample_spectrum_is_kronecker(xp, setup, formula):
    """lambda(C kron z z^T) = {0 x (n-1) m} u ||z||^2 lambda(C), and eigvalsh() agrees."""
    case, layer = setup
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer, formula=formula)
    blocks, inputs = to_numpy(h.blocks, xp), to_numpy(h.inputs, xp)
    m, n = case.weights[layer - 1].shape
    assert blocks.shape == (1, 1, m, 1, m) and inputs.shape == (1, 1, n)
    C, z = blocks[0, 0, :, 0, :], inputs[0, 0]
    assert_close(C, C.T, ROUNDOFF_RTOL, "C is symmetric")
    kron = np.sort(np.concatenate([np.zeros((n - 1) * m), (z @ z) * np.linalg.eigvalsh(C)]))
    H = to_numpy(h.dense(), xp)
    dense = np.linalg.eigvalsh(H)
    label = f"{case} layer={layer} {formula}"
    scale = spectral_scale(dense)
    assert_close(kron, dense, EIGENVALUE_RTOL, f"{label}: {{0, |z|^2 lambda(C)}}", scale=scale)
    assert_close(to_numpy(h.eigvalsh(), xp), dense, EIGENVALUE_RTOL, f"{label}: eigvalsh()",
                 scale=scale)
    zeros = int(np.sum(np.abs(to_numpy(h.eigvalsh(), xp)) <= ZERO_EIGENVALUE_RTOL * scale))
    assert zeros >= (n - 1) * m, f"{label}: {zeros} zero eigenvalues, expected >= {(n - 1) * m}"


@PROPERTY_SETTINGS
@given(setup=fnn_setups(), form=st.sampled_from(["terms", "norm"]))
def test_fnn_weyl_bounds_contain_the_spectrum(xp, setup, form):
    case, layer = setup
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer)
    values = np.linalg.eigvalsh(to_numpy(h.dense(), xp))
    lower, upper = (to_numpy(a, xp) for a in h.weyl_bounds(form=form))
    assert_inside(lower, values, upper, f"{case} layer={layer} form={form}")


@PROPERTY_SETTINGS
@given(setup=rnn_setups(), form=st.sampled_from(["terms", "norm"]),
       wrt=st.sampled_from(["W", "U", "b"]), formula=st.sampled_from(["exact", "paper"]))
def test_rnn_weyl_bounds_contain_the_spectrum(xp, setup, form, wrt, formula):
    case, layer, t = setup
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt, formula=formula)
    values = np.linalg.eigvalsh(to_numpy(h.dense(), xp))
    assert_close(to_numpy(h.eigvalsh(), xp), values, EIGENVALUE_RTOL, "eigvalsh()",
                 scale=spectral_scale(values))
    lower, upper = (to_numpy(a, xp) for a in h.weyl_bounds(form=form))
    assert_inside(lower, values, upper,
                  f"{case} layer={layer} t={t} wrt={wrt} {formula} form={form}")


def _numpy_rank(G: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(G)) if G.size else 0


# widths >= 3 and small batches, so that r (or r*t) < min(m, n) and the bound has teeth


@PROPERTY_SETTINGS
@given(setup=fnn_setups(max_batch=2, min_width=3, max_width=6))
def test_fnn_gradient_rank_at_most_batch_size(xp, setup):
    from hessian_core.rank import numerical_rank

    case, layer = setup
    net, X, Z_target = case.build(xp)
    g = net.gradient(X, Z_target, layer=layer)
    G = to_numpy(g.W, xp)
    ranks = (_numpy_rank(G), numerical_rank(g.W))
    assert max(ranks) <= case.batch_size, (
        f"{case} layer={layer}: rank(G) = {ranks} (numpy, core) > r = {case.batch_size}"
    )


@PROPERTY_SETTINGS
@given(setup=rnn_setups(max_batch=2, max_tau=3, min_width=3))
def test_rnn_gradient_rank_at_most_batch_times_t(xp, setup):
    from hessian_core.rank import numerical_rank

    case, layer, t = setup
    net, X, Z_target = case.build(xp)
    g = net.gradient(X, Z_target, layer=layer, t=t)
    steps = case.tau if t is None else t
    bound = case.batch_size * steps
    for name in ("W", "U"):
        G = getattr(g, name)
        ranks = (_numpy_rank(to_numpy(G, xp)), numerical_rank(G))
        assert max(ranks) <= bound, (
            f"{case} layer={layer} t={t}: rank(G_{name}) = {ranks} (numpy, core) > r*t = {bound}"
        )


# ---------------------------------------------------------------- exact == FD, anywhere

small_widths = st.integers(min_value=1, max_value=3)


@PROPERTY_SETTINGS
@given(depth=st.integers(min_value=1, max_value=3), data=st.data(),
       activation=activations, output_activation=st.one_of(st.none(), activations),
       batch=st.integers(min_value=1, max_value=3), seed=seeds,
       wrt=st.sampled_from(["W", "b"]))
def test_fnn_exact_hessian_matches_fd_anywhere(
    xp, depth, data, activation, output_activation, batch, seed, wrt
):
    sizes = tuple(data.draw(small_widths) for _ in range(depth + 1))
    layer = data.draw(st.integers(min_value=1, max_value=depth))
    case = fnn_case(sizes, batch, activation, output_activation, seed)
    net, X, Z_target = case.build(xp)
    label = f"{case} layer={layer} wrt={wrt}"
    g = net.gradient(X, Z_target, layer=layer)
    assert_close(to_numpy(getattr(g, wrt), xp), fnn_fd_gradient(case, layer, wrt),
                 GRADIENT_RTOL, f"{label}: gradient")
    H = to_numpy(net.hessian(X, Z_target, layer=layer, wrt=wrt).dense(), xp)
    assert_close(H, fnn_fd_hessian(case, layer, wrt), HESSIAN_RTOL, f"{label}: Hessian")


@PROPERTY_SETTINGS
@given(depth=st.integers(min_value=1, max_value=3), data=st.data(),
       activation=activations, output_activation=st.one_of(st.none(), activations),
       batch=st.integers(min_value=1, max_value=2), tau=st.integers(min_value=1, max_value=3),
       seed=seeds, wrt=st.sampled_from(["W", "U", "b"]))
def test_rnn_exact_hessian_matches_fd_anywhere(
    xp, depth, data, activation, output_activation, batch, tau, seed, wrt
):
    sizes = tuple(data.draw(small_widths) for _ in range(depth + 1))
    layer = data.draw(st.integers(min_value=1, max_value=depth))
    t = data.draw(st.one_of(st.none(), st.integers(min_value=1, max_value=tau)))
    outputs_from = data.draw(st.integers(min_value=1, max_value=tau)) if t is None else 1
    case = rnn_case(sizes, batch, tau, activation, output_activation, seed)
    net, X, Z_target = case.build(xp)
    label = f"{case} layer={layer} t={t} a={outputs_from} wrt={wrt}"
    g = net.gradient(X, Z_target, layer=layer, t=t, outputs_from=outputs_from)
    assert_close(to_numpy(getattr(g, wrt), xp),
                 rnn_fd_gradient(case, layer, wrt, t, outputs_from), GRADIENT_RTOL,
                 f"{label}: gradient")
    h = net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt, outputs_from=outputs_from)
    assert_close(to_numpy(h.dense(), xp), rnn_fd_hessian(case, layer, wrt, t, outputs_from),
                 HESSIAN_RTOL, f"{label}: Hessian")


# ---------------------------------------------------------------- paper == exact where it holds


@PROPERTY_SETTINGS
@given(depth=st.integers(min_value=1, max_value=3), data=st.data(),
       activation=st.sampled_from(["relu", "identity"]),
       output_activation=st.sampled_from([None, "relu", "identity"]),
       batch=st.integers(min_value=1, max_value=4), seed=seeds, wrt=st.sampled_from(["W", "b"]))
def test_paper_equals_exact_for_piecewise_linear_fnn(
    xp, depth, data, activation, output_activation, batch, seed, wrt
):
    sizes = tuple(data.draw(st.integers(min_value=1, max_value=5)) for _ in range(depth + 1))
    layer = data.draw(st.integers(min_value=1, max_value=depth))
    case = fnn_case(sizes, batch, activation, output_activation, seed)
    net, X, Z_target = case.build(xp)
    paper = to_numpy(net.hessian(X, Z_target, layer=layer, wrt=wrt, formula="paper").dense(), xp)
    exact = to_numpy(net.hessian(X, Z_target, layer=layer, wrt=wrt, formula="exact").dense(), xp)
    assert_close(paper, exact, ROUNDOFF_RTOL, f"{case} layer={layer} wrt={wrt}: paper == exact")


@PROPERTY_SETTINGS
@given(sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)), data=st.data(),
       batch=st.integers(min_value=1, max_value=3), tau=st.integers(min_value=1, max_value=4),
       seed=seeds, wrt=st.sampled_from(["W", "b"]))
def test_paper_equals_exact_for_one_level_relu_rnn(xp, sizes, data, batch, tau, seed, wrt):
    t = data.draw(st.one_of(st.none(), st.integers(min_value=1, max_value=tau)))
    case = rnn_case(sizes, batch, tau, "relu", None, seed)
    net, X, Z_target = case.build(xp)
    paper, exact = (
        to_numpy(net.hessian(X, Z_target, layer=1, t=t, wrt=wrt, formula=f).dense(), xp)
        for f in ("paper", "exact")
    )
    assert_close(paper, exact, ROUNDOFF_RTOL, f"{case} t={t} wrt={wrt}: paper == exact")
