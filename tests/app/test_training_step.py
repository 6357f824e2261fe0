"""The session's SGD step against the step it replaced, bitwise, over hundreds of steps.

``TrainingSession.train_step`` takes the loss and the gradients from one forward pass
(``net.loss_and_gradients``), updates all arrays laid end to end and builds the next model
with ``net.with_parameters``. The reference below is the earlier step, written with the
one-call methods: ``net.loss`` for the loss, ``net.gradients`` for the gradients (a second
forward pass), the momentum update array by array and the validating constructor for the next
model. Both must give the same losses, weights, velocities, full-backprop twin and
similarities, bit for bit, and pause at the same step with the same reason when training
diverges.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.settings import Settings
from app.training import TrainingSession
from benchmarks.bench_training_step import OneCallSession


def _arrays_equal(first, second) -> bool:
    return len(first) == len(second) and all(
        a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
        for a, b in zip(first, second, strict=True)
    )


def _assert_same_state(new: TrainingSession, old: TrainingSession) -> None:
    assert (new.step, new.running, new.status) == (old.step, old.running, old.status)
    assert new.loss_values == old.loss_values and new.loss_steps == old.loss_steps
    assert np.array_equal(new.full_loss_values, old.full_loss_values, equal_nan=True)
    assert _arrays_equal(new.similarity_values, old.similarity_values)
    assert _arrays_equal(new.parameters(), old.parameters())
    assert _arrays_equal(new._velocity, old._velocity)
    assert _arrays_equal(new._last_good, old._last_good)
    assert (new.full_net is None) == (old.full_net is None)
    if new.full_net is not None:
        assert _arrays_equal(new.parameters(new.full_net), old.parameters(old.full_net))
        assert _arrays_equal(new._full_velocity, old._full_velocity)
        assert _arrays_equal(new._full_last_good, old._full_last_good)
    assert type(new.net) is type(old.net)
    for name in ("activation", "output_activation", "loss_name", "weight_decay"):
        assert getattr(new.net, name) == getattr(old.net, name)


CASES = {
    "default FNN": ({}, 400),
    "FNN spirals, relu, batch 16": (
        {"dataset": "spirals", "activation": "relu", "batch_size": 16}, 300),
    "FNN meProp top-k": ({"sparse": "topk", "topk": "0.5"}, 300),
    "default RNN": ({"model": "rnn"}, 300),
    "RNN echo, outputs from 3": ({"model": "rnn", "task": "echo", "output_from": 3}, 200),
    "RNN truncated BPTT": ({"model": "rnn", "sparse": "truncate", "truncate": 3}, 200),
    "RNN selected steps": ({"model": "rnn", "sparse": "backtrack"}, 200),
    "RNN meProp per level": ({"model": "rnn", "sparse": "topk", "topk": "0.3"}, 150),
}


@pytest.mark.parametrize("case", list(CASES))
def test_train_step_matches_the_one_call_step_bitwise(case):
    values, steps = CASES[case]
    new, old = TrainingSession(Settings(**values)), OneCallSession(Settings(**values))
    _assert_same_state(new, old)
    for _ in range(steps):
        assert new.train_step() == old.train_step()
        assert new.loss == old.loss
    assert new.step == steps
    _assert_same_state(new, old)


@pytest.mark.parametrize("values", [
    {"learning_rate": 10.0, "clip_norm": 0.0, "momentum": 0.99},
    {"model": "rnn", "learning_rate": 10.0, "clip_norm": 0.0, "momentum": 0.99},
    {"learning_rate": 10.0, "clip_norm": 0.0, "momentum": 0.99, "sparse": "topk"},
])
def test_a_diverging_run_pauses_where_the_one_call_step_pauses(values):
    new, old = TrainingSession(Settings(**values)), OneCallSession(Settings(**values))
    new.running = old.running = True
    for _ in range(300):
        went_on = new.train_step()
        assert went_on == old.train_step()
        if not went_on:
            break
    _assert_same_state(new, old)
    assert new.status.startswith("Paused:") and not new.running


@pytest.mark.parametrize("case", ["default FNN", "default RNN", "FNN meProp top-k"])
def test_a_slice_of_steps_is_the_steps_one_by_one_and_publishes_once(case):
    values, _ = CASES[case]
    sliced, one_by_one = TrainingSession(Settings(**values)), TrainingSession(Settings(**values))
    published = []
    sliced.param.watch(lambda *events: published.append([e.name for e in events]),
                       ["step", "loss"])
    assert sliced.train_steps(25) == 25
    for _ in range(25):
        assert one_by_one.train_step()
    _assert_same_state(sliced, one_by_one)
    assert sliced.loss == one_by_one.loss
    assert published == [["step", "loss"]]
    # a time limit still takes one step (a clock that never moves: the limit is reached)
    assert sliced.train_steps(None, seconds=0.0, clock=lambda: 0.0) == 1
    assert sliced.step == 26


def test_a_slice_that_fails_publishes_its_last_good_step_before_the_pause():
    values = {"learning_rate": 10.0, "clip_norm": 0.0, "momentum": 0.99}
    sliced, one_by_one = TrainingSession(Settings(**values)), TrainingSession(Settings(**values))
    sliced.running = one_by_one.running = True
    seen_at_pause = []
    sliced.param.watch(lambda event: seen_at_pause.append(sliced.step), "status")
    taken = sliced.train_steps(300)
    while one_by_one.train_step():
        pass
    assert taken == sliced.step == one_by_one.step < 300
    assert seen_at_pause == [sliced.step]
    _assert_same_state(sliced, one_by_one)
