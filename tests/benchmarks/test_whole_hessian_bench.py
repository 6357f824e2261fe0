"""The whole-Hessian benchmark's point at equal accuracy (``benchmarks/bench_whole_hessian.py``):
``fewest_steps`` finds the fewest Lanczos products whose value is as close to the reference
as a given competitor's, and ``_steps_value`` takes exactly that many."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_whole_hessian import _steps_value, fewest_steps
from hessian_core import FNN


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    net = FNN.random((2, 12, 12, 1), activation="tanh", seed=3)
    X, Z = rng.normal(size=(60, 2)), rng.normal(size=(60, 1))
    reference = float(np.linalg.eigvalsh(net.whole_hessian(X, Z).dense())[-1])
    return net, X, Z, reference


def test_the_ritz_value_rises_to_the_sharpness_with_the_steps(problem):
    net, X, Z, reference = problem
    values = [_steps_value(net, X, Z, steps) for steps in range(1, 12)]
    assert all(a <= b + 1e-12 * abs(reference) for a, b in zip(values, values[1:], strict=False))
    assert values[-1] <= reference * (1 + 1e-12)
    assert abs(values[-1] - reference) < 1e-8 * abs(reference)


@pytest.mark.parametrize("relative_error", [1e-1, 1e-2, 1e-3, 1e-6])
def test_fewest_steps_is_the_first_step_as_close_as_the_competitor(problem, relative_error):
    net, X, Z, reference = problem
    competitor = reference * (1 - relative_error)
    steps = fewest_steps(net, X, Z, reference, competitor)
    target = abs(competitor - reference)
    assert abs(_steps_value(net, X, Z, steps) - reference) <= target
    if steps > 1:
        assert abs(_steps_value(net, X, Z, steps - 1) - reference) > target
