"""The one-pass training API against the one-call methods it stands in for.

``net.loss_from(forward, Z_target)`` must equal ``net.loss(X, Z_target)``,
``net.loss_and_gradients(X, Z_target, ...)`` must equal ``(net.loss(...), net.gradients(...))``
and ``net.with_parameters(...)`` must equal the constructor called with the same arrays and
options, all bitwise (the same operations in the same order), on every backend; and
``with_parameters`` refuses what the constructor refuses (shape, library, non-finite values).
"""

from __future__ import annotations

import numpy as np
import pytest

from hessian_core import FNN, RNN, to_numpy


def _same(a, b) -> None:
    """Bitwise equal arrays (NaN-free)."""
    a, b = to_numpy(a), to_numpy(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a, b), float(np.max(np.abs(a - b)))


def _same_gradients(first, second, rnn: bool) -> None:
    assert len(first) == len(second)
    for g, h in zip(first, second, strict=True):
        assert g.layer == h.layer
        for name in ("W", "b", "V", "Z") + (("U", "Z_recurrent") if rnn else ()):
            _same(getattr(g, name), getattr(h, name))


def _fnn(xp, **options):
    like = xp.asarray(np.zeros(1))
    net = FNN.random((3, 5, 4, 2), activation="tanh", output_activation="identity", seed=1,
                     like=like, **options)
    rng = np.random.default_rng(2)
    X = xp.asarray(rng.standard_normal((6, 3)))
    if options.get("loss") == "cross_entropy":
        Z = xp.asarray(np.eye(2)[rng.integers(0, 2, 6)])
    else:
        Z = xp.asarray(rng.standard_normal((6, 2)))
    return net, X, Z


def _rnn(xp, **options):
    like = xp.asarray(np.zeros(1))
    net = RNN.random((2, 4, 4, 3), activation="tanh", output_activation="identity", seed=3,
                     like=like, **options)
    rng = np.random.default_rng(4)
    X = xp.asarray(rng.standard_normal((5, 6, 2)))
    if options.get("loss") == "cross_entropy":
        Z = xp.asarray(np.eye(3)[rng.integers(0, 3, (5, 6))])
    else:
        Z = xp.asarray(rng.standard_normal((5, 6, 3)))
    return net, X, Z


LOSS_OPTIONS = [{}, {"loss": "cross_entropy", "weight_decay": 0.05}]


@pytest.mark.parametrize("options", LOSS_OPTIONS)
@pytest.mark.parametrize("topk", [None, 2, 0.5])
def test_fnn_loss_and_gradients_equal_the_one_call_methods(xp, options, topk):
    net, X, Z = _fnn(xp, **options)
    assert net.loss_from(net.forward(X), Z) == net.loss(X, Z)
    loss, gradients = net.loss_and_gradients(X, Z, topk=topk)
    assert isinstance(loss, float) and loss == net.loss(X, Z)
    _same_gradients(gradients, net.gradients(X, Z, topk=topk), rnn=False)


@pytest.mark.parametrize("options", LOSS_OPTIONS)
@pytest.mark.parametrize(
    "keywords",
    [
        {},
        {"outputs_from": 3},
        {"t": 4},
        {"t": 5, "truncate": 2},
        {"truncate": 3, "outputs_from": 2},
        {"backtrack": "largest:2"},
        {"t": 6, "backtrack": [1, 4]},
        {"topk": 2},
        {"topk": 0.3},  # counts 2, 2, 1 for the widths 4, 4, 3: one BPTT per level
    ],
)
def test_rnn_loss_and_gradients_equal_the_one_call_methods(xp, options, keywords):
    net, X, Z = _rnn(xp, **options)
    times = {k: keywords[k] for k in ("t", "outputs_from") if k in keywords}
    expected_loss = net.loss(X, Z, **times)
    loss, gradients = net.loss_and_gradients(X, Z, **keywords)
    assert isinstance(loss, float) and loss == expected_loss
    _same_gradients(gradients, net.gradients(X, Z, **keywords), rnn=True)
    # the loss of an existing forward pass: the whole sequence, or stopped at t
    assert net.loss_from(net.forward(X), Z, **times) == expected_loss
    if "t" in times:
        assert net.loss_from(net.forward(X, steps=times["t"]), Z, **times) == expected_loss


def test_rnn_loss_from_checks_its_targets_and_times(xp):
    net, X, Z = _rnn(xp)
    forward = net.forward(X, steps=4)
    with pytest.raises(ValueError, match="Z_target must hold at least the 4 time steps"):
        net.loss_from(forward, Z[:, :3, :])
    with pytest.raises(ValueError, match="t must be an integer in 1..4"):
        net.loss_from(forward, Z, t=5)
    with pytest.raises(ValueError, match="outputs_from must be an integer in 1..4"):
        net.loss_from(forward, Z, outputs_from=6)


def test_fnn_loss_from_checks_its_targets(xp):
    net, X, Z = _fnn(xp)
    with pytest.raises(ValueError, match="Z_target must have shape"):
        net.loss_from(net.forward(X), Z[:4, :])


def _shifted(xp, arrays, amount):
    return [xp.asarray(to_numpy(a) + amount) for a in arrays]


@pytest.mark.parametrize("options", LOSS_OPTIONS)
def test_fnn_with_parameters_equals_the_constructor(xp, options):
    net, X, Z = _fnn(xp, **options)
    weights, biases = _shifted(xp, net.weights, 0.1), _shifted(xp, net.biases, -0.2)
    new = net.with_parameters(weights, biases)
    built = FNN(weights, biases, activation="tanh", output_activation="identity", **options)
    assert type(new) is FNN and new is not net
    assert new.weights == weights and new.biases == biases  # held, not copied
    assert (new.activation, new.output_activation, new.loss_name, new.weight_decay) == (
        built.activation, built.output_activation, built.loss_name, built.weight_decay)
    assert new.xp is built.xp and new.layer_sizes == built.layer_sizes
    assert new.loss(X, Z) == built.loss(X, Z)
    _same_gradients(new.gradients(X, Z), built.gradients(X, Z), rnn=False)
    _same(new.hessian(X, Z, layer=2).dense(), built.hessian(X, Z, layer=2).dense())
    # the original network is unchanged
    _same(net.weights[0], xp.asarray(to_numpy(weights[0]) - 0.1))


@pytest.mark.parametrize("options", LOSS_OPTIONS)
def test_rnn_with_parameters_equals_the_constructor(xp, options):
    net, X, Z = _rnn(xp, **options)
    weights, recurrent = _shifted(xp, net.weights, 0.1), _shifted(xp, net.recurrent, 0.01)
    biases = _shifted(xp, net.biases, -0.2)
    new = net.with_parameters(weights, recurrent, biases)
    built = RNN(weights, recurrent, biases, activation="tanh", output_activation="identity",
                **options)
    assert type(new) is RNN
    assert new.weights == weights and new.recurrent == recurrent and new.biases == biases
    assert (new.loss_name, new.weight_decay) == (built.loss_name, built.weight_decay)
    assert new.loss(X, Z, outputs_from=2) == built.loss(X, Z, outputs_from=2)
    _same_gradients(new.gradients(X, Z, truncate=3), built.gradients(X, Z, truncate=3), rnn=True)
    hessians = [n.hessian(X, Z, layer=1, wrt="U").dense() for n in (new, built)]
    _same(*hessians)


def test_with_parameters_refuses_what_the_constructor_refuses(xp):
    net, _, _ = _fnn(xp)
    weights, biases = list(net.weights), list(net.biases)
    with pytest.raises(ValueError, match=r"weights must hold 3 arrays"):
        net.with_parameters(weights[:2], biases)
    with pytest.raises(ValueError, match=r"biases\[1\] must have shape \(4,\)"):
        net.with_parameters(weights, [biases[0], biases[0], biases[2]])
    bad = to_numpy(weights[1]).copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"weights\[1\] must hold only finite values"):
        net.with_parameters([weights[0], xp.asarray(bad), weights[2]], biases)
    rnn, _, _ = _rnn(xp)
    recurrent = list(rnn.recurrent)
    with pytest.raises(ValueError, match=r"recurrent must hold 3 arrays"):
        rnn.with_parameters(rnn.weights, recurrent[:1], rnn.biases)
    with pytest.raises(ValueError, match=r"recurrent\[2\] must have shape \(3, 3\)"):
        rnn.with_parameters(rnn.weights, recurrent[:2] + [recurrent[0]], rnn.biases)


def test_with_parameters_refuses_another_library():
    import array_api_strict as strict

    net, _, _ = _fnn(np)
    weights = list(net.weights)
    weights[2] = strict.asarray(np.asarray(weights[2]))
    with pytest.raises(ValueError, match=r"weights\[2\] must be an array of the same library"):
        net.with_parameters(weights, net.biases)


def test_with_parameters_unchecked_holds_the_arrays_and_equals_the_checked(xp):
    net, X, Z = _fnn(xp)
    weights, biases = list(net.weights), list(net.biases)
    trusted = net.with_parameters(weights, biases, check=False)
    assert all(a is b for a, b in zip(trusted.weights, weights, strict=True))
    _same_gradients(trusted.gradients(X, Z), net.with_parameters(weights, biases).gradients(X, Z),
                    rnn=False)
    bad = to_numpy(weights[1]).copy()
    bad[0, 0] = np.nan  # not looked at: the caller vouches for its arrays
    net.with_parameters([weights[0], xp.asarray(bad), weights[2]], biases, check=False)
    rnn, _, _ = _rnn(xp)
    same = rnn.with_parameters(rnn.weights, rnn.recurrent, rnn.biases, check=False)
    assert all(a is b for a, b in zip(same.recurrent, rnn.recurrent, strict=True))
    with pytest.raises(TypeError):
        net.with_parameters(weights, biases, False)  # keyword only
