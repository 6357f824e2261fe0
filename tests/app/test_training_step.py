"""The session's SGD step taken in slices: ``TrainingSession.train_steps(n)`` is the steps one
by one, bit for bit, and publishes the counter and the loss once per slice; a slice that fails
publishes its last good step before the pause. (The step itself against the earlier one-call
step: ``tests/benchmarks/test_one_call_session.py``.)
"""

from __future__ import annotations

import pytest

from app.configuration.settings import Settings
from app.training.session import TrainingSession
from tests.support.sessions import CASES, assert_same_state


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
    assert_same_state(sliced, one_by_one)
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
    assert_same_state(sliced, one_by_one)
