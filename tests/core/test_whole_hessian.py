"""The whole Hessian (every level, cross-level blocks included) against independent routes.

Three routes to the same P x P matrix, compared with each other:

- the finite-difference Hessian of the loss as a function of the whole parameter vector
  (``tests/reference.py``; the vector is split here, in the contract's order, not by the code
  under test);
- ``H.dense()``: columns of the R-operator sweep (``H.matvec``);
- the block assembly: every ``H.block(k, l, (a, b)).dense()`` put together (FNN: the matrix
  form (X1)-(X4) of :mod:`hessian_core.whole`; RNN: diagonal blocks from the time
  recursions of ``rnn.hessian_from``, the others by the matrix form (R1)-(R3); for the
  Gauss-Newton part of an RNN, from the sweep with one array's directions).

The Gauss-Newton part is compared with J^T Q J, J = dz^(l)/dtheta built column by column by
finite differences and Q the loss Hessian written out here; the diagonal blocks with
``net.hessian(..., layer=k)``; ``top_eigenvalues`` with ``eigvalsh``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import reference
from core_cases import fnn_case, rnn_case
from core_checks import (
    EIGENVALUE_RTOL,
    GRADIENT_RTOL,
    HESSIAN_RTOL,
    ROUNDOFF_RTOL,
    assert_close,
    spectral_scale,
    to_numpy,
)

from hessian_core import FNN, RNN
from hessian_core import whole as whole_module
from hessian_core.rnn_curvature import cross_block

#: FNN cases: (layer sizes, activation, output activation, loss, weight decay, batch size)
FNN_WHOLE = {
    "tanh-l2-mse": ((3, 3, 2), "tanh", None, "mse", 0.0, 3),
    "sigmoid-l3-ce-decay": ((2, 3, 2, 3), "sigmoid", "identity", "cross_entropy", 0.05, 3),
    "relu-l3-mse-decay": ((2, 3, 3, 2), "relu", "identity", "mse", 0.1, 4),
    "softplus-l1-ce": ((3, 3), "softplus", None, "cross_entropy", 0.0, 2),
    "relu-l2-ce": ((3, 3, 3), "relu", None, "cross_entropy", 0.0, 3),
}
#: RNN cases: (layer sizes, activation, output activation, loss, weight decay, batch, t, a)
RNN_WHOLE = {
    "tanh-l2-mse-sum": ((2, 2, 2), "tanh", None, "mse", 0.0, 2, None, 2),
    "relu-l2-ce-decay-t2": ((2, 2, 2), "relu", "identity", "cross_entropy", 0.05, 2, 2, 1),
    "sigmoid-l1-mse-decay-t3": ((2, 3), "sigmoid", None, "mse", 0.1, 2, 3, 1),
    "softplus-l3-mse-sum": ((1, 2, 1, 2), "softplus", None, "mse", 0.0, 1, None, 1),
}
RNN_TAU = 3


# --- cases: networks and data in NumPy, then in any namespace ----------------------------------


def _targets(rng, shape, loss):
    if loss == "mse":
        return rng.normal(size=shape)
    logits = 2.0 * rng.normal(size=shape)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # class probabilities


@functools.cache
def _fnn(name):
    sizes, activation, output, loss, lam, batch = FNN_WHOLE[name]
    case = fnn_case(sizes, batch, activation, output)
    Z_target = _targets(np.random.default_rng(7), case.Z_target.shape, loss)
    return case, Z_target, loss, lam


@functools.cache
def _rnn(name):
    sizes, activation, output, loss, lam, batch, t, a = RNN_WHOLE[name]
    case = rnn_case(sizes, batch, RNN_TAU, activation, output)
    Z_target = _targets(np.random.default_rng(8), case.Z_target.shape, loss)
    return case, Z_target, loss, lam, t, a


def _build_fnn(name, xp):
    case, Z_target, loss, lam = _fnn(name)
    net = FNN([xp.asarray(W) for W in case.weights], [xp.asarray(b) for b in case.biases],
              activation=case.activation, output_activation=case.output_activation,
              loss=loss, weight_decay=lam)
    return net, xp.asarray(case.X), xp.asarray(Z_target)


def _build_rnn(name, xp):
    case, Z_target, loss, lam, t, a = _rnn(name)
    net = RNN([xp.asarray(W) for W in case.weights], [xp.asarray(U) for U in case.recurrent],
              [xp.asarray(b) for b in case.biases], activation=case.activation,
              output_activation=case.output_activation, loss=loss, weight_decay=lam)
    return net, xp.asarray(case.X), xp.asarray(Z_target), t, a


# --- the parameter vector in the contract's order, written out here -----------------------------


def _fnn_pieces(case):
    """[(level, kind, array)] in the contract's order: vec(W^(k)), b^(k) for k = 1..l."""
    levels = zip(case.weights, case.biases, strict=True)
    return [(k, kind, array) for k, (W, b) in enumerate(levels, 1)
            for kind, array in (("W", W), ("b", b))]


def _rnn_pieces(case):
    levels = zip(case.weights, case.recurrent, case.biases, strict=True)
    return [(k, kind, array) for k, (W, U, b) in enumerate(levels, 1)
            for kind, array in (("W", W), ("U", U), ("b", b))]


def _split(theta, pieces):
    arrays, start = {}, 0
    for k, kind, array in pieces:
        arrays[(k, kind)] = theta[start:start + array.size].reshape(array.shape)
        start += array.size
    return arrays


def _decay_mask(pieces, lam):
    return np.concatenate([np.full(a.size, 0.0 if kind == "b" else lam) for _, kind, a in pieces])


def _kink_guard(pre, base, names):
    for Y, Y0, name in zip(pre, base, names, strict=True):
        if name == "relu" and not np.array_equal(Y > 0, Y0 > 0):
            raise reference.KinkCrossed("a ReLU pre-activation changed sign")


def _names(case):
    names = [case.activation] * case.n_layers
    if case.output_activation is not None:
        names[-1] = case.output_activation
    return names


def _fnn_output_fn(case):
    """theta -> (pre-activations, z^(l)) by the reference forward pass, ReLU kinks guarded."""
    pieces = _fnn_pieces(case)
    L = case.n_layers
    base, _ = reference.fnn_forward(case.weights, case.biases, case.activation,
                                    case.output_activation, case.X)

    def output(theta):
        arrays = _split(np.asarray(theta, dtype=np.float64), pieces)
        weights = [arrays[(k, "W")] for k in range(1, L + 1)]
        biases = [arrays[(k, "b")] for k in range(1, L + 1)]
        pre, post = reference.fnn_forward(weights, biases, case.activation,
                                          case.output_activation, case.X)
        _kink_guard(pre, base, _names(case))
        return weights, post[-1]

    theta0 = np.concatenate([a.reshape(-1) for _, _, a in pieces])
    return output, theta0, pieces


def _rnn_output_fn(case):
    pieces = _rnn_pieces(case)
    L = case.n_layers
    base, _ = reference.rnn_forward(case.weights, case.recurrent, case.biases, case.activation,
                                    case.output_activation, case.X)

    def output(theta):
        arrays = _split(np.asarray(theta, dtype=np.float64), pieces)
        lists = {kind: [arrays[(k, kind)] for k in range(1, L + 1)] for kind in "WUb"}
        pre, post = reference.rnn_forward(lists["W"], lists["U"], lists["b"], case.activation,
                                          case.output_activation, case.X)
        _kink_guard(pre, base, _names(case))
        return lists["W"] + lists["U"], post[-1]

    theta0 = np.concatenate([a.reshape(-1) for _, _, a in pieces])
    return output, theta0, pieces


def _data_loss(Z_target, out, loss):
    r = out.shape[0]
    if loss == "mse":
        return float(np.sum((out - Z_target) ** 2) / (2 * r))
    top = out.max(axis=-1, keepdims=True)
    log_p = out - top - np.log(np.exp(out - top).sum(axis=-1, keepdims=True))
    return float(-np.sum(Z_target * log_p) / r)


def _times(tau, t, a):
    return [t] if t is not None else list(range(a, tau + 1))


@functools.cache
def fnn_whole_fd_hessian(name):
    case, Z_target, loss, lam = _fnn(name)
    output, theta0, _ = _fnn_output_fn(case)

    def loss_fn(theta):
        decayed, out = output(theta)
        return _data_loss(Z_target, out, loss) + 0.5 * lam * sum(np.sum(W * W) for W in decayed)

    return reference.fd_hessian(loss_fn, theta0)


@functools.cache
def rnn_whole_fd_hessian(name):
    case, Z_target, loss, lam, t, a = _rnn(name)
    output, theta0, _ = _rnn_output_fn(case)

    def loss_fn(theta):
        decayed, out = output(theta)
        data = sum(_data_loss(Z_target[:, s - 1], out[:, s - 1], loss)
                   for s in _times(case.tau, t, a))
        return data + 0.5 * lam * sum(np.sum(A * A) for A in decayed)

    return reference.fd_hessian(loss_fn, theta0)


def _fd_jacobian(output_fn, theta0):
    """d output / d theta, column by column by the five-point stencil (reference.fd_gradient)."""
    flat = lambda theta: output_fn(theta)[1].reshape(-1)  # noqa: E731
    size = flat(theta0).size
    rows = [reference.fd_gradient(lambda theta, i=i: float(flat(theta)[i]), theta0)
            for i in range(size)]
    return np.stack(rows)


def _loss_hessian(out, Z_target, loss):
    """Per-row Hessian of the loss in the output (no 1/r): I, or s (diag(p) - p p^T)."""
    M = out.shape[-1]
    if loss == "mse":
        return np.broadcast_to(np.eye(M), out.shape + (M,))
    p = np.exp(out - out.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    mass = Z_target.sum(axis=-1)[..., None, None]
    return mass * (p[..., :, None] * np.eye(M) - p[..., :, None] * p[..., None, :])


@functools.cache
def fnn_reference_gauss_newton(name):
    case, Z_target, loss, lam = _fnn(name)
    output, theta0, pieces = _fnn_output_fn(case)
    J = _fd_jacobian(output, theta0)  # (r*M, P)
    out = output(theta0)[1]
    r = out.shape[0]
    Q = _loss_hessian(out, Z_target, loss) / r  # (r, M, M)
    block_diagonal = np.zeros((J.shape[0], J.shape[0]))
    M = out.shape[1]
    for p in range(r):
        block_diagonal[p * M:(p + 1) * M, p * M:(p + 1) * M] = Q[p]
    return J.T @ block_diagonal @ J + np.diag(_decay_mask(pieces, lam))


@functools.cache
def rnn_reference_gauss_newton(name):
    case, Z_target, loss, lam, t, a = _rnn(name)
    output, theta0, pieces = _rnn_output_fn(case)
    J = _fd_jacobian(output, theta0)  # rows (p, s, i)
    out = output(theta0)[1]
    r, tau, M = out.shape
    Q = _loss_hessian(out, Z_target, loss) / r  # (r, tau, M, M)
    inside = set(_times(tau, t, a))
    block_diagonal = np.zeros((J.shape[0], J.shape[0]))
    for p in range(r):
        for s in range(1, tau + 1):
            if s in inside:
                at = (p * tau + s - 1) * M
                block_diagonal[at:at + M, at:at + M] = Q[p, s - 1]
    return J.T @ block_diagonal @ J + np.diag(_decay_mask(pieces, lam))


def _assembled(H, xp):
    """np.block of every H.block(k, l, (a, b)).dense(), in parameter_vector() order."""
    keys = [(k, kind) for k, kind, _ in H.network.parameter_layout()]
    rows = []
    for k, a in keys:
        row = []
        for l, b in keys:  # noqa: E741
            block = H.block(k, l, (a, b))
            matrix = to_numpy(block.dense(), xp, f"block({k}, {l}, {(a, b)})")
            assert matrix.shape == tuple(block.shape)
            row.append(matrix)
        rows.append(row)
    return np.block(rows)


# --- the whole Hessian against finite differences and between routes ----------------------------


def _check_routes(H, expected, xp, label):
    P = expected.shape[0]
    assert tuple(H.shape) == (P, P), f"{label}: shape {H.shape}, expected {(P, P)}"
    dense = to_numpy(H.dense(), xp, "H.dense()")
    assert_close(dense, expected, HESSIAN_RTOL, f"{label}: dense() (matvec) vs finite differences")
    assembled = _assembled(H, xp)
    assert_close(assembled, dense, ROUNDOFF_RTOL * 10, f"{label}: block assembly vs dense()")
    assert_close(assembled, expected, HESSIAN_RTOL, f"{label}: blocks vs finite differences")
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(P, 2))
    several = to_numpy(H.matvec(xp.asarray(vectors)), xp, "H.matvec(V)")
    one = to_numpy(H.matvec(xp.asarray(vectors[:, 0])), xp, "H.matvec(v)")
    assert_close(several, dense @ vectors, ROUNDOFF_RTOL * 10, f"{label}: matvec of (P, 2)")
    assert_close(one, dense @ vectors[:, 0], ROUNDOFF_RTOL * 10, f"{label}: matvec of (P,)")


@pytest.mark.parametrize("name", list(FNN_WHOLE))
def test_fnn_whole_hessian_matches_finite_differences(xp, name):
    net, X, Z_target = _build_fnn(name, xp)
    _check_routes(net.whole_hessian(X, Z_target), fnn_whole_fd_hessian(name), xp, name)


@pytest.mark.parametrize("name", list(RNN_WHOLE))
def test_rnn_whole_hessian_matches_finite_differences(xp, name):
    net, X, Z_target, t, a = _build_rnn(name, xp)
    H = net.whole_hessian(X, Z_target, t=t, outputs_from=a)
    _check_routes(H, rnn_whole_fd_hessian(name), xp, name)


# --- Gauss-Newton ---------------------------------------------------------------------------------


def _check_gauss_newton(G, expected, xp, label):
    dense = to_numpy(G.dense(), xp, "G.dense()")
    # J from five-point differences (error ~1e-11 per entry), products of two of them
    assert_close(dense, expected, GRADIENT_RTOL, f"{label}: GGN vs J^T Q J")
    assembled = _assembled(G, xp)
    assert_close(assembled, dense, ROUNDOFF_RTOL * 10, f"{label}: GGN blocks vs dense()")
    values = to_numpy(G.eigvalsh(), xp, "G.eigvalsh()")
    assert values[0] >= -ROUNDOFF_RTOL * 10 * spectral_scale(values), (
        f"{label}: the Gauss-Newton part has a negative eigenvalue {values[0]:.3e}"
    )


@pytest.mark.parametrize("name", list(FNN_WHOLE))
def test_fnn_gauss_newton_is_jt_q_j(xp, name):
    net, X, Z_target = _build_fnn(name, xp)
    G = net.whole_hessian(X, Z_target).gauss_newton()
    _check_gauss_newton(G, fnn_reference_gauss_newton(name), xp, name)


@pytest.mark.parametrize("name", list(RNN_WHOLE))
def test_rnn_gauss_newton_is_jt_q_j(xp, name):
    net, X, Z_target, t, a = _build_rnn(name, xp)
    G = net.whole_hessian(X, Z_target, t=t, outputs_from=a).gauss_newton()
    _check_gauss_newton(G, rnn_reference_gauss_newton(name), xp, name)


def test_residual_is_what_the_gauss_newton_part_leaves_out(xp):
    """H - GGN vanishes where the residual does: mse, identity output, one level (linear
    model), and does not vanish for a curved network."""
    rng = np.random.default_rng(5)
    X, Z = xp.asarray(rng.normal(size=(4, 3))), xp.asarray(rng.normal(size=(4, 2)))
    linear = FNN.random((3, 2), activation="identity", seed=1, like=X)
    H = linear.whole_hessian(X, Z)
    assert_close(to_numpy(H.dense(), xp), to_numpy(H.gauss_newton().dense(), xp),
                 ROUNDOFF_RTOL, "linear model: H == GGN")
    curved = FNN.random((3, 3, 2), activation="tanh", seed=1, like=X)
    H = curved.whole_hessian(X, Z)
    difference = to_numpy(H.dense(), xp) - to_numpy(H.gauss_newton().dense(), xp)
    assert np.max(np.abs(difference)) > 1e-3


# --- diagonal blocks, spectra, parameter vector ---------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid-l3-ce-decay", "relu-l3-mse-decay"])
def test_fnn_diagonal_blocks_are_layer_hessians(xp, name):
    net, X, Z_target = _build_fnn(name, xp)
    H = net.whole_hessian(X, Z_target)
    for k in range(1, net.n_layers + 1):
        for kind in ("W", "b"):
            expected = to_numpy(net.hessian(X, Z_target, layer=k, wrt=kind).dense(), xp)
            block = H.block(k, k, (kind, kind))
            assert_close(to_numpy(block.dense(), xp), expected, ROUNDOFF_RTOL,
                         f"{name}: block({k}, {k}, {kind})")
            assert_close(to_numpy(block.eigvalsh(), xp), np.linalg.eigvalsh(expected),
                         EIGENVALUE_RTOL, f"{name}: block({k}, {k}, {kind}).eigvalsh()")


@pytest.mark.parametrize("name", ["tanh-l2-mse-sum", "relu-l2-ce-decay-t2"])
def test_rnn_diagonal_blocks_are_layer_hessians(xp, name):
    net, X, Z_target, t, a = _build_rnn(name, xp)
    H = net.whole_hessian(X, Z_target, t=t, outputs_from=a)
    dense = to_numpy(H.dense(), xp)
    for k, kind, shape in net.parameter_layout():
        offset = sum(math.prod(s) for kk, kd, s in net.parameter_layout()
                     if (kk, "WUb".index(kd)) < (k, "WUb".index(kind)))
        size = math.prod(shape)
        layer = net.hessian(X, Z_target, layer=k, t=t, wrt=kind, outputs_from=a).dense()
        expected = to_numpy(layer, xp)
        assert_close(to_numpy(H.block(k, k, kind).dense(), xp), expected, ROUNDOFF_RTOL,
                     f"{name}: block({k}, {k}, {kind})")
        assert_close(dense[offset:offset + size, offset:offset + size], expected,
                     ROUNDOFF_RTOL * 10, f"{name}: dense() diagonal block {k}, {kind}")
        # (R1)-(R3) on the diagonal: eq. (74)-(76) with M, and for U the remainder B + B^T
        matrix = cross_block(net.weights, net.recurrent, net.level_activations(), H.forward,
                             H.adjoints, (k, kind), (k, kind))
        matrix = to_numpy(matrix, xp)
        decay = 0.0 if kind == "b" else net.weight_decay
        assert_close(matrix + decay * np.eye(size), expected, ROUNDOFF_RTOL * 10,
                     f"{name}: (R1)-(R3) for block {k}, {kind}")


@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_top_eigenvalues_match_eigvalsh(xp, model):
    rng = np.random.default_rng(11)
    if model == "fnn":
        X = xp.asarray(rng.normal(size=(20, 3)))
        net = FNN.random((3, 6, 6, 2), activation="tanh", seed=2, like=X, weight_decay=0.01)
        H = net.whole_hessian(X, xp.asarray(rng.normal(size=(20, 2))))
    else:
        X = xp.asarray(rng.normal(size=(4, 5, 2)))
        net = RNN.random((2, 4, 2), activation="tanh", seed=2, like=X)
        H = net.whole_hessian(X, xp.asarray(rng.normal(size=(4, 5, 2))), outputs_from=2)
    everything = to_numpy(H.eigvalsh(), xp, "H.eigvalsh()")
    assert everything.shape == (H.size,) and np.all(np.diff(everything) >= 0)
    top = to_numpy(H.top_eigenvalues(3, tol=1e-10), xp, "H.top_eigenvalues(3)")
    scale = spectral_scale(everything)
    assert_close(top, everything[-3:], EIGENVALUE_RTOL, f"{model}: top 3 vs eigvalsh",
                 scale=scale)
    hashed = to_numpy(H.top_eigenvalues(3, tol=1e-10, start="hash"), xp)
    assert_close(hashed, everything[-3:], EIGENVALUE_RTOL, f"{model}: top 3 from the hash",
                 scale=scale)
    gauss_newton = H.gauss_newton()
    assert_close(to_numpy(gauss_newton.top_eigenvalues(1, tol=1e-10), xp),
                 to_numpy(gauss_newton.eigvalsh(), xp)[-1:], EIGENVALUE_RTOL,
                 f"{model}: GGN top vs eigvalsh", scale=scale)


#: Sharpness cases whose Krylov space is far from exhausted at the default tolerance:
#: (layer sizes, activation, batch size, weight decay)
SHARPNESS_CASES = {
    "tanh-2-24-24-1": ((2, 24, 24, 1), "tanh", 60, 0.0),
    "sigmoid-3-16-16-2-decay": ((3, 16, 16, 2), "sigmoid", 40, 0.01),
}


@pytest.mark.parametrize("name", sorted(SHARPNESS_CASES))
def test_default_sharpness_is_within_its_stated_bound(xp, name):
    """The docstring's promise at the default ``tol``: the sharpness within tol * ||H|| of
    the largest eigenvalue of the dense matrix, from the gradient start, the hashed one and a
    given vector alike (the first has the gradient's sign pattern; nothing in the check uses
    the gradient)."""
    sizes, activation, batch, lam = SHARPNESS_CASES[name]
    rng = np.random.default_rng(5)
    X = xp.asarray(rng.normal(size=(batch, sizes[0])))
    net = FNN.random(sizes, activation=activation, seed=3, like=X, weight_decay=lam)
    H = net.whole_hessian(X, xp.asarray(rng.normal(size=(batch, sizes[-1]))))
    exact = np.linalg.eigvalsh(to_numpy(H.dense(), xp))
    scale = float(np.max(np.abs(exact)))
    given = xp.asarray(rng.normal(size=H.size))
    for start in ("gradient", "hash", given):
        top = to_numpy(H.top_eigenvalues(1, start=start), xp, "H.top_eigenvalues(1)")
        label = start if isinstance(start, str) else "a given vector"
        assert top.shape == (1,)
        assert abs(top[0] - exact[-1]) <= whole_module.SHARPNESS_TOL * scale, (
            f"{name}, start {label}: {top[0]!r} vs {exact[-1]!r}, bound "
            f"{whole_module.SHARPNESS_TOL * scale:.3e}"
        )
        assert top[0] <= exact[-1] + ROUNDOFF_RTOL * scale, f"{name}: a Ritz value above lambda_max"


@pytest.mark.parametrize("name", sorted(FNN_WHOLE))
def test_cached_derivatives_are_the_activations_own(xp, name):
    """What each product reuses, f'(y^(k)) and a^(k) o f''(y^(k)), against df and d2f called
    apart; and the sweep with them equals the sweep that computes its own."""
    net, X, Z_target = _build_fnn(name, xp)
    H = net.whole_hessian(X, Z_target)
    pairs = whole_module.level_derivatives(net, H.forward, H.adjoints)
    for k, (slope, weighted_second) in enumerate(pairs, start=1):
        activation = net.activation_of(k)
        Y = H.forward.pre_activations[k - 1]
        expected_slope = to_numpy(activation.df(xp, Y), xp)
        if slope is None:
            assert activation.is_identity and np.all(expected_slope == 1.0), (name, k)
        else:
            assert np.array_equal(to_numpy(slope, xp), expected_slope), (name, k, "f'")
        expected = to_numpy(H.adjoints.grad_z[k - 1] * activation.d2f(xp, Y), xp)
        if weighted_second is None:
            assert np.all(expected == 0.0), (name, k, "a f'' dropped but not zero")
        else:
            assert np.array_equal(to_numpy(weighted_second, xp), expected), (name, k, "a f''")
    for residual in (True, False):
        directions = {1: {"W": xp.asarray(np.random.default_rng(3).normal(
            size=(2,) + tuple(net.weights[0].shape)))}}
        cached = whole_module.fnn_parameter_tangents(
            net, H.forward, H.adjoints, directions, residual,
            whole_module.level_derivatives(net, H.forward, H.adjoints, residual))
        own = whole_module.fnn_parameter_tangents(net, H.forward, H.adjoints, directions, residual)
        for k in cached:
            for kind in ("W", "b"):
                assert np.array_equal(to_numpy(cached[k][kind], xp), to_numpy(own[k][kind], xp))


@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_parameter_vector_round_trip(xp, model):
    if model == "fnn":
        net, _, _ = _build_fnn("sigmoid-l3-ce-decay", xp)
        lists = {"W": net.weights, "b": net.biases}
    else:
        net, _, _, _, _ = _build_rnn("relu-l2-ce-decay-t2", xp)
        lists = {"W": net.weights, "U": net.recurrent, "b": net.biases}
    theta = net.parameter_vector()
    written_out = np.concatenate(
        [to_numpy(lists[kind][k], xp).reshape(-1)
         for k in range(net.n_layers) for kind in lists]
    )
    assert_close(to_numpy(theta, xp, "parameter_vector()"), written_out, 0.0, "theta order")
    other = net.with_parameter_vector(2.0 * theta - 1.0)
    assert type(other) is type(net)
    for option in ("activation", "output_activation", "loss_name", "weight_decay"):
        assert getattr(other, option) == getattr(net, option), option
    assert_close(to_numpy(other.parameter_vector(), xp), 2.0 * written_out - 1.0, 0.0,
                 "with_parameter_vector(theta).parameter_vector()")
    attribute = {"W": "weights", "U": "recurrent", "b": "biases"}
    for kind in lists:
        for old, new in zip(lists[kind], getattr(other, attribute[kind]), strict=True):
            assert tuple(new.shape) == tuple(old.shape)
            assert_close(to_numpy(new, xp), 2.0 * to_numpy(old, xp) - 1.0, 0.0, kind)
    back = other.with_parameter_vector(theta)
    assert_close(to_numpy(back.parameter_vector(), xp), written_out, 0.0, "round trip")


def test_errors_name_the_argument(xp, monkeypatch):
    net, X, Z_target = _build_fnn("tanh-l2-mse", xp)
    P = net.parameter_vector().shape[0]
    with pytest.raises(ValueError, match=rf"theta must be a vector of length P = {P}"):
        net.with_parameter_vector(xp.zeros((P + 1,), dtype=xp.float64))
    with pytest.raises(ValueError, match=r"theta must be a vector of length"):
        net.with_parameter_vector(xp.zeros((P, 1), dtype=xp.float64))
    with pytest.raises(ValueError, match=r"theta.*finite"):
        net.with_parameter_vector(xp.full((P,), float("nan"), dtype=xp.float64))
    H = net.whole_hessian(X, Z_target)
    for wrt in ("U", ("W",), ("W", "U"), ("W", "b", "W"), 3):
        with pytest.raises(ValueError, match=r"wrt must be a pair"):
            H.block(1, 1, wrt)
    with pytest.raises(ValueError, match=r"k must be an integer in 1\.\.2"):
        H.block(0, 1)
    with pytest.raises(ValueError, match=r"l must be an integer in 1\.\.2"):
        H.block(1, 3)
    with pytest.raises(ValueError, match=rf"v must have shape \({P}\)"):
        H.matvec(xp.zeros((P - 1,), dtype=xp.float64))
    with pytest.raises(ValueError, match=r"n must be an integer"):
        H.top_eigenvalues(0)
    with pytest.raises(ValueError, match=r"start"):
        H.top_eigenvalues(1, start="random")
    with pytest.raises(ValueError, match=r"start must have shape"):
        H.top_eigenvalues(1, start=xp.ones((P + 1,), dtype=xp.float64))
    monkeypatch.setattr(whole_module, "DENSE_LIMIT", P - 1)
    with pytest.raises(ValueError, match=r"DENSE_LIMIT"):
        H.eigvalsh()
    rnn, X, Z_target, _, _ = _build_rnn("tanh-l2-mse-sum", xp)
    with pytest.raises(ValueError, match=r"t must be an integer"):
        rnn.whole_hessian(X, Z_target, t=RNN_TAU + 1)
    with pytest.raises(ValueError, match=r"wrt must be a pair"):
        rnn.whole_hessian(X, Z_target).block(1, 2, ("W", "V"))
