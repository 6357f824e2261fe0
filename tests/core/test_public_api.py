"""The public forward/adjoint API (docs/contract.md): the pieces give what the one-call
methods give, on every backend, and validate their inputs with messages naming them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from core_cases import FNN_SIZES, RNN_SIZES, RNN_TAU, fnn_case, rnn_case
from core_checks import ROUNDOFF_RTOL, assert_close, to_numpy

from hessian_core import FNN, RNN


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_fnn_pieces_equal_the_one_call_methods(xp, activation):
    case = fnn_case(FNN_SIZES[3], 3, activation)
    net, X, Z = case.build(xp)
    forward = net.forward(X)
    adjoints = net.adjoints(forward, Z)
    assert len(adjoints.grad_z) == len(adjoints.grad_y) == 3
    assert tuple(adjoints.output_hessian.shape) == (3, 2, 2)
    for layer in (1, 2, 3):
        what = f"{case} layer={layer}"
        assert_close(to_numpy(net.gradient_from(forward, adjoints, layer).W, xp),
                     to_numpy(net.gradient(X, Z, layer=layer).W, xp), ROUNDOFF_RTOL, what)
        for formula in ("exact", "paper"):
            for wrt in ("W", "b"):
                pieces = net.hessian_from(forward, adjoints, layer, formula=formula, wrt=wrt)
                whole = net.hessian(X, Z, layer=layer, formula=formula, wrt=wrt)
                assert_close(to_numpy(pieces.dense(), xp), to_numpy(whole.dense(), xp),
                             ROUNDOFF_RTOL, f"{what} {formula} {wrt}")
            matrices = net.preactivation_hessians(forward, adjoints, layer, formula, formula)
            blocks = net.hessian(X, Z, layer=layer, formula=formula).blocks
            assert_close(to_numpy(matrices, xp), to_numpy(blocks, xp)[:, 0, :, 0, :],
                         ROUNDOFF_RTOL, f"{what}: the switches {formula}/{formula}")


@pytest.mark.parametrize("t", [None, 1, 2, RNN_TAU])
def test_rnn_pieces_equal_the_one_call_methods(xp, t):
    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, "tanh")
    net, X, Z = case.build(xp)
    for forward in (net.forward(X), net.forward(X, steps=RNN_TAU if t is None else t)):
        adjoints = net.adjoints(forward, Z, t=t)
        for layer in (1, 2):
            what = f"{case} t={t} layer={layer} steps={forward.output.shape[1]}"
            pieces, whole = net.gradient_from(forward, adjoints, layer), net.gradient(
                X, Z, layer=layer, t=t)
            for wrt in ("W", "U", "b"):
                assert_close(to_numpy(getattr(pieces, wrt), xp), to_numpy(getattr(whole, wrt), xp),
                             ROUNDOFF_RTOL, f"{what}: G_{wrt}")
            for formula in ("exact", "paper"):
                for wrt in ("W", "U", "b"):
                    pieces = net.hessian_from(forward, adjoints, layer, wrt=wrt, formula=formula)
                    whole = net.hessian(X, Z, layer=layer, t=t, wrt=wrt, formula=formula)
                    assert_close(to_numpy(pieces.dense(), xp), to_numpy(whole.dense(), xp),
                                 ROUNDOFF_RTOL, f"{what}: {formula} H_{wrt}")


def test_rnn_truncated_adjoints_equal_the_truncated_gradient(xp):
    case = rnn_case(RNN_SIZES[1], 2, RNN_TAU, "tanh")
    net, X, Z = case.build(xp)
    forward = net.forward(X)
    adjoints = net.adjoints(forward, Z, t=None, truncate=1)
    assert_close(to_numpy(net.gradient_from(forward, adjoints, 1).W, xp),
                 to_numpy(net.gradient(X, Z, layer=1, truncate=1).W, xp), ROUNDOFF_RTOL,
                 "truncate=1")


def test_adjoints_check_the_targets_against_the_forward_pass(xp):
    fnn, X, Z = fnn_case(FNN_SIZES[2], 3, "tanh").build(xp)
    with pytest.raises(ValueError, match=r"Z_target must have shape \(3, 2\)"):
        fnn.adjoints(fnn.forward(X), Z[:2, :])
    rnn, Xs, Zs = rnn_case(RNN_SIZES[2], 3, RNN_TAU, "tanh").build(xp)
    with pytest.raises(ValueError, match=r"Z_target must hold at least the 3 time steps"):
        rnn.adjoints(rnn.forward(Xs), Zs[:, :2, :])
    with pytest.raises(ValueError, match=r"t must be an integer in 1\.\.2"):
        rnn.adjoints(rnn.forward(Xs, steps=2), Zs, t=3)
    with pytest.raises(ValueError, match=r"steps must be an integer in 1\.\.3"):
        rnn.forward(Xs, steps=0)


def test_single_sample_through_the_pieces():
    case = fnn_case(FNN_SIZES[2], 1, "sigmoid")
    net, X, Z = case.build(np)
    forward = net.forward(X[0])
    adjoints = net.adjoints(forward, Z[0])
    assert_close(net.gradient_from(forward, adjoints, 1).W, net.gradient(X, Z, layer=1).W,
                 ROUNDOFF_RTOL, "one sample without the batch axis")


def test_hessian_from_has_one_signature_for_both_network_kinds():
    """FNN and RNN take hessian_from's options by keyword only, in the same order."""
    signatures = [inspect.signature(kind.hessian_from) for kind in (FNN, RNN)]
    assert str(signatures[0]) == str(signatures[1])
    options = [p for p in signatures[0].parameters.values() if p.name in ("formula", "wrt")]
    assert [p.kind for p in options] == [inspect.Parameter.KEYWORD_ONLY] * 2
    assert FNN.hessian_from is RNN.hessian_from, "one hessian_from, in the shared base"
