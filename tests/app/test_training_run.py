"""One optimisation run (app/training/run.py) against the update rule written out by hand.

The reference step takes the gradients from the core's ``net.gradients`` and applies the
module's rule array by array: G + lambda_1 sign(W) on the weights only, scaled to the clip norm
if the norm of all of them exceeds it, V <- momentum V + G, W <- W - learning_rate V.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.training.run import OptimiserRun, parameters_of


def fnn():
    from hessian_core import FNN

    return FNN.random((3, 5, 4, 2), activation="tanh", output_activation="identity", seed=1)


def rnn():
    from hessian_core import RNN

    return RNN.random((2, 4, 3, 1), activation="tanh", output_activation="identity", seed=2)


def batch(net, seed: int):
    rng = np.random.default_rng(seed)
    if getattr(net, "recurrent", None) is not None:
        return rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 5, 1))
    return rng.standard_normal((4, 3)), rng.standard_normal((4, 2))


def reference_step(net, velocities, X, Z, rates):
    """(velocity per array, new parameters) of one step, array by array."""
    learning_rate, momentum, clip, l1 = rates
    recurrent = getattr(net, "recurrent", None) is not None
    grads = [G for g in net.gradients(X, Z)
             for G in ((g.W, g.b, g.U) if recurrent else (g.W, g.b))]
    weights = parameters_of(net)
    period = 3 if recurrent else 2
    grads = [G if index % period == 1 else G + l1 * np.sign(W)
             for index, (G, W) in enumerate(zip(grads, weights, strict=True))]
    norm = np.sqrt(sum(np.sum(G * G) for G in grads))
    if clip > 0 and norm > clip:
        grads = [G * (clip / norm) for G in grads]
    velocity = [momentum * V + G for V, G in zip(velocities, grads, strict=True)]
    return velocity, [W - learning_rate * V for W, V in zip(weights, velocity, strict=True)]


def copies(arrays):
    return [np.array(array) for array in arrays]


@pytest.mark.parametrize("make", [fnn, rnn], ids=["fnn", "rnn"])
@pytest.mark.parametrize("rates", [(0.1, 0.9, 0.0, 0.0), (0.05, 0.5, 0.3, 0.0),
                                   (0.1, 0.9, 0.0, 0.02), (0.05, 0.5, 0.3, 0.3)],
                         ids=["plain", "clipped", "l1", "l1-clipped"])
def test_steps_follow_the_update_rule(make, rates):
    run = OptimiserRun(make())
    assert not np.any(run.velocity)
    velocities = [np.zeros_like(array) for array in run.parameters()]
    for step in (1, 2, 3):  # the velocity carries from step to step
        X, Z = batch(run.net, step)
        before, velocity_before = copies(run.parameters()), run.velocity.copy()
        expected_velocity, expected = reference_step(run.net, velocities, X, Z, rates)
        proposed = run.propose(X, Z, {}, {}, rates, step)
        assert not isinstance(proposed, str)
        assert proposed.loss == pytest.approx(float(run.net.loss(X, Z)), rel=1e-12)
        # a proposal changes nothing
        np.testing.assert_array_equal(run.velocity, velocity_before)
        for kept, now in zip(before, run.parameters(), strict=True):
            np.testing.assert_array_equal(kept, now)
        run.commit(proposed)
        for got, want in zip(run.parameters(), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        for got, want in zip(run.velocities, expected_velocity, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        for kept, last_good in zip(before, run.last_good, strict=True):
            np.testing.assert_array_equal(kept, last_good)  # the weights the step started from
        velocities = expected_velocity
    if rates[2] > 0 and rates[3] == 0:  # from rest, a clipped first step moves V by the clip
        fresh = OptimiserRun(make())
        fresh.commit(fresh.propose(*batch(fresh.net, 1), {}, {}, rates, 1))
        assert np.linalg.norm(fresh.velocity) <= rates[2] * (1 + 1e-12)


def test_l1_leaves_the_biases_alone():
    run = OptimiserRun(fnn())
    X, Z = batch(run.net, 0)
    plain = run.propose(X, Z, {}, {}, (0.1, 0.0, 0.0, 0.0), 1)
    penalised = run.propose(X, Z, {}, {}, (0.1, 0.0, 0.0, 0.5), 1)
    for index, (a, b, W) in enumerate(zip(plain.weights, penalised.weights, run.parameters(),
                                          strict=True)):
        if index % 2 == 1:  # a bias
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a - b, 0.1 * 0.5 * np.sign(W), atol=1e-15)


@pytest.mark.parametrize("make", [fnn, rnn], ids=["fnn", "rnn"])
def test_roll_back_restores_the_last_good_weights_with_zero_velocity(make):
    run = OptimiserRun(make())
    rates = (0.1, 0.9, 0.0, 0.0)
    for step in (1, 2):
        run.commit(run.propose(*batch(run.net, step), {}, {}, rates, step))
    before_last_step = copies(run.last_good)
    assert np.any(run.velocity)
    run.roll_back()
    for got, want in zip(run.parameters(), before_last_step, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.any(run.velocity) and run.velocity.shape == (sum(a.size for a in
                                                                   run.parameters()),)
    # the restored weights are copies: a later step does not write into the kept ones
    assert all(got is not kept for got, kept in zip(run.parameters(), run.last_good,
                                                    strict=True))
    run.commit(run.propose(*batch(run.net, 3), {}, {}, rates, 3))
    for kept, want in zip(run.last_good, before_last_step, strict=True):
        np.testing.assert_array_equal(kept, want)


def test_a_step_that_is_not_finite_is_refused_and_changes_nothing():
    run = OptimiserRun(fnn())
    twin = run.twin("the full-backprop run")
    X, Z = batch(run.net, 0)
    before = copies(run.parameters())
    bad_X = X.copy()
    bad_X[0, 0] = np.nan
    with np.errstate(all="ignore"):
        assert run.propose(bad_X, Z, {}, {}, (0.1, 0.9, 1.0, 0.0), 7) == \
            "the loss became nan at step 7"
        assert twin.propose(bad_X, Z, {}, {}, (0.1, 0.9, 1.0, 0.0), 7) == \
            "the loss of the full-backprop run became nan at step 7"
        assert twin.propose(X, Z, {}, {}, (np.inf, 0.9, 0.0, 0.0), 8) == \
            "the weights of the full-backprop run overflowed at step 8"
    for kept, now in zip(before, run.parameters(), strict=True):
        np.testing.assert_array_equal(kept, now)
    assert not np.any(run.velocity)


def test_a_twin_starts_from_the_same_weights_and_trains_on_its_own():
    run = OptimiserRun(rnn())
    run.commit(run.propose(*batch(run.net, 1), {}, {}, (0.1, 0.9, 0.0, 0.0), 1))
    twin = run.twin("the full-backprop run")
    for a, b in zip(run.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert twin.recurrent and not np.any(twin.velocity)
    twin.commit(twin.propose(*batch(twin.net, 2), {}, {}, (0.1, 0.9, 0.0, 0.0), 2))
    assert any(not np.array_equal(a, b) for a, b in zip(run.parameters(), twin.parameters(),
                                                         strict=True))


def test_weight_decay_and_release():
    run = OptimiserRun(fnn())
    before = copies(run.parameters())
    run.set_weight_decay(0.25)
    assert run.net.weight_decay == 0.25 and run.net.activation == "tanh"
    for kept, now in zip(before, run.parameters(), strict=True):
        np.testing.assert_array_equal(kept, now)
    run.release()
    assert run.net is None and run.last_good is None and run.velocity.size == 0
