"""Bad input raises ValueError naming the argument and what is allowed; nothing broadcasts.

Each case gives a callable and the words its message must contain: the argument's name and
the allowed values (or the expected size). Every data check runs through loss(),
gradient() and hessian(), so no entry point skips validation.
"""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pytest
import reference
from core_cases import FNN_SIZES, RNN_SIZES, fnn_case, rnn_case

FNN_CASE = (FNN_SIZES[2], 3, "tanh")  # N = 4, sizes (4, 3, 2), r = 3
RNN_CASE = (RNN_SIZES[2], 2, 3, "tanh")  # N = 2, sizes (2, 3, 2), r = 2, tau = 3


def _expect_value_error(call, *words, pattern: str | None = None):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    missing = [word for word in words if word not in message]
    assert not missing, f"message {message!r} should mention {missing}"
    if pattern is not None:
        assert re.search(pattern, message), f"message {message!r} should match {pattern!r}"


def _fnn_entry_points(net, X, Z_target):
    return {
        "loss": lambda: net.loss(X, Z_target),
        "gradient": lambda: net.gradient(X, Z_target, layer=1),
        "gradients": lambda: net.gradients(X, Z_target),
        "hessian": lambda: net.hessian(X, Z_target, layer=1),
    }


def _rnn_entry_points(net, X, Z_target):
    return {
        "loss": lambda: net.loss(X, Z_target, t=1),
        "gradient": lambda: net.gradient(X, Z_target, layer=1, t=1),
        "gradients": lambda: net.gradients(X, Z_target),
        "hessian": lambda: net.hessian(X, Z_target, layer=1, t=1),
    }


ENTRY_POINTS = ["loss", "gradient", "gradients", "hessian"]


# ---------------------------------------------------------------- FNN construction


def _fnn_parts(xp):
    weights, biases, _, _ = fnn_case(*FNN_CASE).arrays(xp)
    return weights, biases


def test_fnn_rejects_unknown_activation(xp):
    from hessian_core import FNN

    weights, biases = _fnn_parts(xp)
    _expect_value_error(lambda: FNN(weights, biases, activation="gelu"),
                        "activation", "gelu", *reference.ACTIVATIONS)
    _expect_value_error(lambda: FNN(weights, biases, activation="relu", output_activation="max"),
                        "output_activation", *reference.ACTIVATIONS)


def test_fnn_rejects_mismatched_weights_and_biases(xp):
    from hessian_core import FNN

    weights, biases = _fnn_parts(xp)
    _expect_value_error(lambda: FNN(weights, biases[:1]), "biases", "2")
    wrong = [weights[0], xp.asarray(np.ones((2, 4)))]  # W^(2) must take 3 inputs
    _expect_value_error(lambda: FNN(wrong, biases), "weights[1]", "3")
    column = [biases[0], xp.asarray(np.ones((2, 1)))]  # b^(2) must be (2,), not (2, 1)
    _expect_value_error(lambda: FNN(weights, column), "biases[1]", "(2,)")
    vector = [xp.asarray(np.ones(4)), weights[1]]
    _expect_value_error(lambda: FNN(vector, biases), "weights[0]")
    _expect_value_error(lambda: FNN([], []), "weights")


def test_fnn_rejects_parameters_from_two_array_libraries():
    array_api_strict = pytest.importorskip("array_api_strict")
    from hessian_core import FNN

    weights, biases = _fnn_parts(np)
    mixed = [biases[0], array_api_strict.asarray(biases[1])]
    with pytest.raises(ValueError, match=r"biases\[1\] must be an array of the same library"):
        FNN(weights, mixed)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fnn_rejects_non_finite_parameters(xp, bad):
    from hessian_core import FNN

    weights, biases = _fnn_parts(xp)
    W = np.array(fnn_case(*FNN_CASE).weights[1])
    W[0, 1] = bad
    _expect_value_error(lambda: FNN([weights[0], xp.asarray(W)], biases), "weights[1]", "finite")
    b = np.array(fnn_case(*FNN_CASE).biases[0])
    b[2] = bad
    _expect_value_error(lambda: FNN(weights, [xp.asarray(b), biases[1]]), "biases[0]", "finite")


# ---------------------------------------------------------------- FNN data


def _fnn_bad_data(xp, what):
    case = fnn_case(*FNN_CASE)
    X, Z_target = case.X.copy(), case.Z_target.copy()
    if what == "X columns":
        X, words = np.ones((3, 5)), ("X", "4")
    elif what == "X rank":
        X, words = np.ones((3, 1, 4)), ("X", "4")
    elif what == "Z_target rows":
        Z_target, words = np.ones((2, 2)), ("Z_target", "3")
    elif what == "Z_target broadcast":  # one target row for three samples: no broadcasting
        Z_target, words = np.ones((1, 2)), ("Z_target", "3")
    elif what == "Z_target columns":
        Z_target, words = np.ones((3, 3)), ("Z_target", "2")
    elif what == "X nan":
        X[1, 2], words = np.nan, ("X", "finite")
    elif what == "X inf":
        X[0, 0], words = np.inf, ("X", "finite")
    elif what == "Z_target nan":
        Z_target[2, 1], words = np.nan, ("Z_target", "finite")
    else:
        raise AssertionError(what)
    return xp.asarray(X), xp.asarray(Z_target), words


FNN_BAD_DATA = ["X columns", "X rank", "Z_target rows", "Z_target broadcast",
                "Z_target columns", "X nan", "X inf", "Z_target nan"]


@pytest.mark.parametrize("what", FNN_BAD_DATA)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_fnn_rejects_bad_data(xp, what, entry):
    net, _, _ = fnn_case(*FNN_CASE).build(xp)
    X, Z_target, words = _fnn_bad_data(xp, what)
    _expect_value_error(_fnn_entry_points(net, X, Z_target)[entry], *words)


@pytest.mark.parametrize("layer", [0, 3, -1, 1.5])
def test_fnn_rejects_layer_out_of_range(xp, layer):
    net, X, Z_target = fnn_case(*FNN_CASE).build(xp)
    for call in (lambda: net.gradient(X, Z_target, layer=layer),
                 lambda: net.hessian(X, Z_target, layer=layer)):
        _expect_value_error(call, "layer", "1", "2")


def test_fnn_rejects_unknown_formula_and_wrt(xp):
    net, X, Z_target = fnn_case(*FNN_CASE).build(xp)
    _expect_value_error(lambda: net.hessian(X, Z_target, layer=1, formula="approx"),
                        "formula", "exact", "paper")
    _expect_value_error(lambda: net.hessian(X, Z_target, layer=1, wrt="U"), "wrt", "W", "b")
    _expect_value_error(lambda: net.gradient(X, Z_target, layer=1).factors("U"), "wrt", "W")


# ---------------------------------------------------------------- RNN


def test_rnn_rejects_bad_parameters(xp):
    from hessian_core import RNN

    weights, recurrent, biases, _, _ = rnn_case(*RNN_CASE).arrays(xp)
    _expect_value_error(lambda: RNN(weights, recurrent[:1], biases), "recurrent", "2")
    square = [xp.asarray(np.ones((3, 2))), recurrent[1]]  # U^(1) must be 3 x 3
    _expect_value_error(lambda: RNN(weights, square, biases), "recurrent[0]", "3")
    U = np.array(rnn_case(*RNN_CASE).recurrent[1])
    U[1, 1] = np.nan
    _expect_value_error(lambda: RNN(weights, [recurrent[0], xp.asarray(U)], biases),
                        "recurrent[1]", "finite")
    _expect_value_error(lambda: RNN(weights, recurrent, biases, activation="elu"),
                        "activation", *reference.ACTIVATIONS)


def _rnn_bad_data(xp, what):
    case = rnn_case(*RNN_CASE)
    X, Z_target = case.X.copy(), case.Z_target.copy()
    if what == "X inputs":
        X, words = np.ones((2, 3, 4)), ("X", "2")
    elif what == "Z_target steps":
        Z_target, words = np.ones((2, 2, 2)), ("Z_target", "3")
    elif what == "Z_target broadcast":
        Z_target, words = np.ones((1, 3, 2)), ("Z_target", "2")
    elif what == "Z_target outputs":
        Z_target, words = np.ones((2, 3, 3)), ("Z_target", "2")
    elif what == "X nan":
        X[1, 2, 0], words = np.nan, ("X", "finite")
    elif what == "Z_target inf":
        Z_target[0, 0, 1], words = -np.inf, ("Z_target", "finite")
    else:
        raise AssertionError(what)
    return xp.asarray(X), xp.asarray(Z_target), words


@pytest.mark.parametrize("what", ["X inputs", "Z_target steps", "Z_target broadcast",
                                  "Z_target outputs", "X nan", "Z_target inf"])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_rnn_rejects_bad_data(xp, what, entry):
    net, _, _ = rnn_case(*RNN_CASE).build(xp)
    X, Z_target, words = _rnn_bad_data(xp, what)
    _expect_value_error(_rnn_entry_points(net, X, Z_target)[entry], *words)


@pytest.mark.parametrize("t", [0, 4, -1])
def test_rnn_rejects_t_out_of_range(xp, t):
    net, X, Z_target = rnn_case(*RNN_CASE).build(xp)
    for call in (lambda: net.loss(X, Z_target, t=t),
                 lambda: net.gradient(X, Z_target, layer=1, t=t),
                 lambda: net.hessian(X, Z_target, layer=1, t=t)):
        _expect_value_error(call, "1", "3", pattern=r"\bt\b")


@pytest.mark.parametrize("outputs_from", [0, 4])
def test_rnn_rejects_outputs_from_out_of_range(xp, outputs_from):
    net, X, Z_target = rnn_case(*RNN_CASE).build(xp)
    _expect_value_error(lambda: net.loss(X, Z_target, outputs_from=outputs_from),
                        "outputs_from", "3")
    _expect_value_error(
        lambda: net.hessian(X, Z_target, layer=1, t=None, outputs_from=outputs_from),
        "outputs_from", "3",
    )


def test_rnn_rejects_layer_wrt_and_formula(xp):
    net, X, Z_target = rnn_case(*RNN_CASE).build(xp)
    for layer in (0, 3):
        _expect_value_error(partial(net.hessian, X, Z_target, layer=layer, t=1), "layer", "2")
        _expect_value_error(partial(net.gradient, X, Z_target, layer=layer, t=1), "layer", "2")
    _expect_value_error(lambda: net.hessian(X, Z_target, layer=1, t=1, wrt="V"),
                        "wrt", "W", "U", "b")
    _expect_value_error(lambda: net.hessian(X, Z_target, layer=1, t=1, formula="taylor"),
                        "formula", "exact", "paper")
