"""top_eigenvalues and the matrix-free Hessian-vector product against dense eigvalsh.

Every case compares with ``numpy.linalg.eigvalsh(h.dense())`` of the same LayerHessian, on
each backend of the ``xp`` fixture. ``DIRECT_SIZE`` is also forced to 0 so that the
Lanczos iteration itself runs on layers small enough to check densely, through each of its
operators: the Gram-reduced one (r*T < n), the full one (r*T >= n) and the dense remainder
of the exact RNN H_U.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from core_checks import EIGENVALUE_RTOL, assert_close, spectral_scale, to_numpy

import hessian_core.lanczos as lanczos_module
from hessian_core import FNN, RNN
from hessian_core.lanczos import hessian_vector_product, lanczos, top_eigenvalues


def _fnn_hessian(xp, sizes, batch, layer, activation="tanh", wrt="W", seed=0):
    rng = np.random.default_rng(seed)
    net = FNN.random(sizes, activation=activation, seed=seed, like=xp.asarray([0.0]))
    X = xp.asarray(rng.standard_normal((batch, sizes[0])))
    Z_target = xp.asarray(rng.standard_normal((batch, sizes[-1])))
    return net.hessian(X, Z_target, layer=layer, wrt=wrt)


def _rnn_hessian(xp, sizes, batch, tau, t, layer, wrt="W", activation="tanh", seed=0):
    rng = np.random.default_rng(seed)
    net = RNN.random(sizes, activation=activation, seed=seed, like=xp.asarray([0.0]))
    X = xp.asarray(rng.standard_normal((batch, tau, sizes[0])))
    Z_target = xp.asarray(rng.standard_normal((batch, tau, sizes[-1])))
    return net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt)


#: name -> builder(xp) of a LayerHessian; the comment gives (m, n, R = r*T) and the operator.
CASES = {
    "fnn one sample": lambda xp: _fnn_hessian(xp, (9, 11, 4), 1, layer=1),  # 11, 9, 1: reduced
    "fnn batch, R < n": lambda xp: _fnn_hessian(xp, (30, 20, 5), 6, layer=1),  # 20, 30, 6
    "fnn batch, R >= n": lambda xp: _fnn_hessian(xp, (10, 14, 3), 12, layer=1),  # 14, 10, 12
    "fnn output level": lambda xp: _fnn_hessian(xp, (6, 20, 18), 5, layer=2, activation="sigmoid"),
    "fnn bias": lambda xp: _fnn_hessian(xp, (6, 20, 3), 4, layer=1, wrt="b"),  # 20, 1, 4
    "rnn W": lambda xp: _rnn_hessian(xp, (25, 12, 3), 2, tau=4, t=3, layer=1),  # 12, 25, 6
    "rnn W, R >= n": lambda xp: _rnn_hessian(xp, (5, 18, 2), 2, tau=4, t=4, layer=1),
    "rnn U exact (remainder)": lambda xp: _rnn_hessian(xp, (3, 12, 2), 2, 3, 3, 1, wrt="U"),
}

#: (k, which) pairs every case is checked with.
QUERIES = [(1, "LA"), (10, "LA"), (3, "SA"), (5, "LM")]


def _expected(eigenvalues: np.ndarray, k: int, which: str) -> np.ndarray:
    if which == "LA":
        return eigenvalues[-k:]
    if which == "SA":
        return eigenvalues[:k]
    order = np.argsort(-np.abs(eigenvalues), kind="stable")[:k]
    return np.sort(eigenvalues[order])


@pytest.fixture(scope="module")
def dense_spectra():
    """NumPy eigenvalues of each case's dense Hessian, computed once."""
    return {
        name: np.linalg.eigvalsh(to_numpy(build(np).dense(), np)) for name, build in CASES.items()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_hessian_vector_product_equals_dense_product(xp, name):
    hessian = CASES[name](xp)
    dense = to_numpy(hessian.dense(), xp, "dense")
    rng = np.random.default_rng(1)
    size = dense.shape[0]
    vector = rng.standard_normal(size)
    block = rng.standard_normal((size, 3))
    one = to_numpy(hessian_vector_product(hessian, xp.asarray(vector)), xp, "H v")
    three = to_numpy(hessian_vector_product(hessian, xp.asarray(block)), xp, "H V")
    scale = max(1.0, float(np.max(np.abs(dense @ block))))
    assert_close(one, dense @ vector, 1e-12, f"{name}: H v", scale=scale)
    assert_close(three, dense @ block, 1e-12, f"{name}: H V (three columns)", scale=scale)


@pytest.mark.parametrize("path", ["auto", "lanczos"])
@pytest.mark.parametrize("name", list(CASES))
def test_top_eigenvalues_match_dense_eigvalsh(xp, name, path, dense_spectra, monkeypatch):
    if path == "lanczos":
        monkeypatch.setattr(lanczos_module, "DIRECT_SIZE", 0)
    hessian = CASES[name](xp)
    eigenvalues = dense_spectra[name]
    scale = spectral_scale(eigenvalues)
    for k, which in QUERIES:
        k = min(k, eigenvalues.size)
        got = to_numpy(top_eigenvalues(hessian, k, which=which), xp, "top_eigenvalues")
        assert got.shape == (k,)
        assert np.all(np.diff(got) >= 0), f"{name} {which} k={k}: not ascending: {got}"
        assert_close(
            got, _expected(eigenvalues, k, which), EIGENVALUE_RTOL,
            f"{name} ({path}) which={which} k={k}", scale=scale,
        )


def test_layer_hessian_method_is_this_function():
    hessian = _fnn_hessian(np, (8, 10, 3), 3, layer=1)
    assert np.array_equal(hessian.top_eigenvalues(3), top_eigenvalues(hessian, 3))


def test_an_invariant_krylov_space_restarts_and_finds_repeated_eigenvalues():
    """Four distinct eigenvalues, each 50 times: every Krylov space is invariant after four
    steps, and the restarts must find the further copies of the wanted eigenvalues."""
    values = np.repeat([1.0, 2.0, 3.0, -4.0], 50)
    for k, which, expected in [(5, "LA", [3.0] * 5), (3, "SA", [-4.0] * 3),
                               (6, "LM", [-4.0] * 6)]:
        got = lanczos(lambda v: values * v, values.size, k, which, like=values)
        assert_close(got, np.asarray(expected), 1e-10, f"{which} k={k}")


def test_lanczos_on_a_diagonal_operator():
    values = np.linspace(-3.0, 5.0, 400)
    got = lanczos(lambda v: values * v, values.size, 3, "LA", like=values)
    assert_close(got, values[-3:], 1e-10, "diagonal, LA")
    got = lanczos(lambda v: values * v, values.size, 2, "SA", like=values)
    assert_close(got, values[:2], 1e-10, "diagonal, SA")


def test_a_given_start_is_used():
    """An eigenvector as the start: the Krylov space is invariant after one product, so the
    first Ritz value is that eigenvalue exactly, and the search goes on from the hashed vector
    for the rest; a zero start falls back to the hashed vector."""
    values = np.linspace(-3.0, 5.0, 400)
    calls = []

    def operator(v):
        calls.append(v)
        return values * v

    start = np.zeros(values.size)
    start[-2] = 3.0  # the second largest, 4.98
    got = lanczos(operator, values.size, 1, "SA", like=values, start=start, tol=1e-12)
    assert np.array_equal(calls[0], start / 3.0)
    assert_close(got, values[:1], 1e-10, "SA from an eigenvector")
    calls.clear()
    got = lanczos(operator, values.size, 2, "LA", like=values, start=np.zeros(values.size))
    assert np.linalg.norm(calls[0]) == pytest.approx(1.0)
    assert_close(got, values[-2:], 1e-10, "LA from a zero start")


def test_too_few_steps_warn():
    values = np.linspace(0.0, 1.0, 2000) ** 4
    with pytest.warns(RuntimeWarning, match="Lanczos stopped"):
        lanczos(lambda v: values * v, values.size, 1, "SA", tol=1e-14, maxiter=5, like=values)


@pytest.mark.parametrize(("k", "which", "message"), [(0, "LA", "k must"), (1, "BE", "which")])
def test_bad_arguments(k, which, message):
    hessian = _fnn_hessian(np, (4, 5, 2), 2, layer=1)
    with pytest.raises(ValueError, match=message):
        top_eigenvalues(hessian, k, which=which)


def test_a_loose_tol_stops_early_instead_of_restarting_at_every_step():
    """With tol=0.1, a beta under a tenth of the largest eigenvalue is no invariant space: the
    run goes on, tests convergence and stops after a few products with a value within the
    bound, instead of taking every step for a restart until maxiter (300 products, a warning
    and a mix of one-step Ritz values)."""
    values = np.linspace(0.0, 1.0, 400)
    values[-1] = 10.0
    start = np.full(values.size, 0.01)
    start[-1] = 1.0  # close to the top eigenvector: the first beta is small
    calls = []

    def operator(v):
        calls.append(v)
        return values * v

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = lanczos(operator, values.size, 1, "LA", tol=0.1, like=values, start=start)
    assert len(calls) <= 10, f"{len(calls)} products for tol=0.1"
    assert abs(float(got[-1]) - 10.0) <= 0.1 * 10.0
