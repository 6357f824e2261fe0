"""Dense exact Hessians (formula="exact") against the finite-difference reference.

FNN: H w.r.t. W^(k) and b^(k) at every level. RNN: H of E^(t) w.r.t. W^(k), U^(k), b^(k) at
every level, for several t, and for E = sum_{t=a..tau} E^(t) (t=None, outputs_from=a).
Also the Kronecker form: dense() == sum blocks kron outer(inputs) where it is structured.
"""

from __future__ import annotations

import numpy as np
import pytest
from core_cases import (
    ACTIVATION_PAIRS,
    BATCH_SIZES,
    FNN_CASES,
    FNN_SIZES,
    RNN_SIZES,
    RNN_TAU,
    fnn_case,
    fnn_fd_hessian,
    rnn_case,
    rnn_fd_hessian,
)
from core_checks import HESSIAN_RTOL, ROUNDOFF_RTOL, assert_close, to_numpy

#: (t, outputs_from): one output time, or the sum over t = a..tau (a = 1 is drawn by the
#: property tests and checked for gradients).
RNN_TIMES = [(1, 1), (2, 1), (RNN_TAU, 1), (None, 2)]
RNN_CASES = [
    pytest.param(activation, output, depth, batch, layer, t, a,
                 id=f"{activation}-{output or 'same'}-l{depth}-r{batch}-k{layer}-t{t or f'{a}..'}")
    for activation, output in ACTIVATION_PAIRS
    for depth in (1, 2)
    for batch in (BATCH_SIZES if output is None else BATCH_SIZES[-1:])  # mixed: batch only
    for layer in range(1, depth + 1)
    for t, a in RNN_TIMES
] + [  # three levels: a smaller table (the property tests also draw depth 3)
    pytest.param(activation, None, 3, 2, layer, t, a,
                 id=f"{activation}-same-l3-r2-k{layer}-t{t or f'{a}..'}")
    for activation in ("relu", "tanh", "softplus")
    for layer in (1, 2, 3)
    for t, a in [(2, 1), (None, 2)]
]


def _check_dense(h, expected, size, xp, label):
    assert tuple(h.shape) == (size, size), f"{label}: h.shape {h.shape}, expected {(size, size)}"
    H = to_numpy(h.dense(), xp, "h.dense()")
    assert_close(H, expected, HESSIAN_RTOL, f"{label}: dense()")
    assert_close(H, H.T, ROUNDOFF_RTOL, f"{label}: dense() symmetric")


@pytest.mark.parametrize("activation,output_activation,depth,batch_size,layer", FNN_CASES)
@pytest.mark.parametrize("wrt", ["W", "b"])
def test_fnn_hessian_matches_finite_differences(
    xp, activation, output_activation, depth, batch_size, layer, wrt
):
    case = fnn_case(FNN_SIZES[depth], batch_size, activation, output_activation)
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer, formula="exact", wrt=wrt)
    m, n = case.weights[layer - 1].shape
    _check_dense(h, fnn_fd_hessian(case, layer, wrt), m * n if wrt == "W" else m, xp,
                 f"{case} layer={layer} wrt={wrt}")


def test_fnn_hessian_default_is_exact_wrt_W(xp):
    case = fnn_case(FNN_SIZES[2], 3, "sigmoid")
    net, X, Z_target = case.build(xp)
    default = to_numpy(net.hessian(X, Z_target, layer=1).dense(), xp)
    assert_close(default, fnn_fd_hessian(case, 1, "W"), HESSIAN_RTOL, "default hessian()")


@pytest.mark.parametrize("activation,output_activation,depth,batch_size,layer,t,outputs_from",
                         RNN_CASES)
@pytest.mark.parametrize("wrt", ["W", "U", "b"])
def test_rnn_hessian_matches_finite_differences(
    xp, activation, output_activation, depth, batch_size, layer, t, outputs_from, wrt
):
    case = rnn_case(RNN_SIZES[depth], batch_size, RNN_TAU, activation, output_activation)
    net, X, Z_target = case.build(xp)
    kwargs = {"outputs_from": outputs_from} if t is None else {}
    h = net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt, formula="exact", **kwargs)
    m, n = case.weights[layer - 1].shape
    size = {"W": m * n, "U": m * m, "b": m}[wrt]
    _check_dense(h, rnn_fd_hessian(case, layer, wrt, t, outputs_from), size, xp,
                 f"{case} layer={layer} t={t} a={outputs_from} wrt={wrt}")


# ------------------------------------------------------------- the Kronecker form of H_W


def _reconstruct(h, xp) -> np.ndarray:
    """sum_{p,s,zeta} blocks[p,s,:,zeta,:] kron outer(inputs[p,s], inputs[p,zeta])."""
    blocks = to_numpy(h.blocks, xp, "h.blocks")
    inputs = to_numpy(h.inputs, xp, "h.inputs")
    r, T, m = blocks.shape[:3]
    n = inputs.shape[2]
    assert blocks.shape == (r, T, m, T, m), f"blocks shape {blocks.shape}"
    assert inputs.shape == (r, T, n), f"inputs shape {inputs.shape}, blocks {blocks.shape}"
    total = np.zeros((m * n, m * n))
    for p in range(r):
        for s in range(T):
            for zeta in range(T):
                total += np.kron(blocks[p, s, :, zeta, :], np.outer(inputs[p, s], inputs[p, zeta]))
    return total


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softplus"])
@pytest.mark.parametrize("formula", ["exact", "paper"])
def test_fnn_dense_is_the_kronecker_sum(xp, activation, formula):
    case = fnn_case(FNN_SIZES[3], 3, activation)
    net, X, Z_target = case.build(xp)
    for layer in (1, 2, 3):
        h = net.hessian(X, Z_target, layer=layer, formula=formula)
        assert h.layer == layer and h.wrt == "W" and h.formula == formula
        assert_close(_reconstruct(h, xp), to_numpy(h.dense(), xp), ROUNDOFF_RTOL,
                     f"{case} layer={layer} {formula}: sum_p C_p kron z_p z_p^T")


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("layer", [1, 2])
@pytest.mark.parametrize("t", [1, RNN_TAU])
def test_rnn_dense_is_the_kronecker_sum(xp, activation, layer, t):
    """H_W = sum_{s,zeta} M_{s,zeta} kron z^(k-1,s) z^(k-1,zeta)^T for every activation."""
    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, activation)
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer, t=t, wrt="W")
    assert h.structured, "the exact H_W of an RNN is a sum of Kronecker products"
    assert_close(_reconstruct(h, xp), to_numpy(h.dense(), xp), ROUNDOFF_RTOL,
                 f"{case} layer={layer} t={t}: sum M_(s,zeta) kron z_s z_zeta^T")
