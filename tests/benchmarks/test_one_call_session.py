"""The benchmark's one-call session (``benchmarks/bench_training_step.py``) against the app's.

``TrainingSession.train_step`` takes the loss and the gradients from one forward pass
(``net.loss_and_gradients``), updates all arrays laid end to end and builds the next model
with ``net.with_parameters``. The benchmark's ``OneCallSession`` is the earlier step, written
with the one-call methods: ``net.loss`` for the loss, ``net.gradients`` for the gradients (a
second forward pass), the momentum update array by array and the validating constructor for
the next model. Both must give the same losses, weights, velocities, full-backprop twin and
similarities, bit for bit, and pause at the same step with the same reason when training
diverges, so that the benchmark compares two ways of taking the same step.
"""

from __future__ import annotations

import pytest

from app.configuration.settings import Settings
from app.training.session import TrainingSession
from benchmarks.bench_training_step import OneCallSession
from tests.support.sessions import CASES, assert_same_state


@pytest.mark.parametrize("case", list(CASES))
def test_train_step_matches_the_one_call_step_bitwise(case):
    values, steps = CASES[case]
    new, old = TrainingSession(Settings(**values)), OneCallSession(Settings(**values))
    assert_same_state(new, old)
    for _ in range(steps):
        assert new.train_step() == old.train_step()
        assert new.loss == old.loss
    assert new.step == steps
    assert_same_state(new, old)


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
    assert_same_state(new, old)
    assert new.status.startswith("Paused:") and not new.running
