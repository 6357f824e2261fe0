"""The time-step recursions (hessian_core.rnn_curvature) against the general
forward-over-reverse engine (hessian_core.rnn_hvp): two derivations, one answer.

Both are also checked against finite differences in test_hessians.py; this test pins the
fast path to the general one over activations, depths, levels, output times and windows.
"""

from __future__ import annotations

import numpy as np
import pytest

from hessian_core import ACTIVATIONS, RNN
from hessian_core.rnn_curvature import (
    preactivation_hessian_by_steps,
    recurrent_remainder,
)
from hessian_core.rnn_hvp import preactivation_hessian, recurrent_hessian
from hessian_core.spectra import assemble
from hessian_core.time_steps import window_blocks


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(2, 4), (2, 3, 4), (2, 3, 2, 3)])
@pytest.mark.parametrize("t,window_start", [(5, 0), (6, 2), (1, 0), (None, 0)])
def test_top_level_closed_form_equals_forward_over_reverse(activation, sizes, t, window_start):
    rng = np.random.default_rng(7)
    rnn = RNN.random(sizes, activation=activation, seed=3, recurrent_scale=0.9)
    X, Z = rng.standard_normal((3, 6, sizes[0])), rng.standard_normal((3, 6, sizes[-1]))
    forward = rnn.forward(X, steps=6 if t is None else t)
    adjoints = rnn.adjoints(forward, Z, t=t)
    if window_start:  # truncated BPTT: the window [window_start + 1, t] of one output time
        adjoints = rnn.adjoints(forward, Z, t=t, truncate=t - window_start)
    l = rnn.n_layers
    network = (rnn.weights, rnn.recurrent, rnn.level_activations())

    for layer in range(1, l + 1):
        general = preactivation_hessian(*network, forward, adjoints, layer, window_start)
        steps = preactivation_hessian_by_steps(*network, forward, adjoints, layer)
        steps = window_blocks(steps, window_start)
        scale = max(float(np.abs(general).max()), 1e-300)
        assert np.abs(steps - general).max() <= 1e-12 * scale, f"level {layer}"
    for layer in range(1, l + 1):
        steps = preactivation_hessian_by_steps(*network, forward, adjoints, layer)
        steps = window_blocks(steps, window_start)
        dense = recurrent_hessian(*network, forward, adjoints, layer, window_start)
        inputs = rnn.kronecker_inputs(forward, layer, "U")
        rebuilt = assemble(steps, np.transpose(inputs, (0, 2, 1)))
        rebuilt = rebuilt + recurrent_remainder(
            rnn.recurrent, rnn.level_activations(), forward, adjoints, layer, window_start
        )
        scale = max(float(np.abs(dense).max()), 1e-300)
        assert np.abs(rebuilt - dense).max() <= 1e-12 * scale, f"H_U of level {layer}"
