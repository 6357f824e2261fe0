"""meProp top-k, truncated BPTT and selected steps (hessian_core.sparse) against references.

- truncated BPTT equals the exact derivative of the loss with the hidden states at t-K held
  constant: a finite-difference reference on a forward pass restarted from those states;
- top-k equals a backward pass (written out here with argsort) with the other entries zeroed;
- selected steps equal the chosen columns of the exact rank-t factors (eq. 55).
"""

from __future__ import annotations

import numpy as np
import pytest

from hessian_core import FNN, RNN
from tests.reference import activate, fd_gradient, fd_hessian


def _rnn_case(activation="tanh", sizes=(2, 3, 2), r=2, tau=6, seed=0):
    rng = np.random.default_rng(seed)
    rnn = RNN.random(sizes, activation=activation, seed=seed, recurrent_scale=0.9)
    X = rng.standard_normal((r, tau, sizes[0]))
    Z = rng.standard_normal((r, tau, sizes[-1]))
    return rnn, X, Z


def _restarted_loss(rnn, X, Z, t, K, layer, wrt):
    """E^(t) as a function of one parameter block, states at t-K frozen at their values."""
    activation = rnn.activation
    states = rnn.forward(X).activations  # z^(k,s) for the unperturbed network
    start = t - K  # 1-based time of the frozen states (0 means z^(k,0) = 0)

    def loss(theta):
        params = {"W": list(rnn.weights), "U": list(rnn.recurrent), "b": list(rnn.biases)}
        params[wrt][layer - 1] = theta.reshape(params[wrt][layer - 1].shape)
        below = X
        for k in range(1, rnn.n_layers + 1):
            W, U, b = params["W"][k - 1], params["U"][k - 1], params["b"][k - 1]
            z = states[k][:, start - 1, :] if start >= 1 else np.zeros((X.shape[0], W.shape[0]))
            outs = []
            for s in range(start, t):  # 0-based steps start..t-1 are times start+1..t
                z = activate(activation, below[:, s, :] @ W.T + z @ U.T + b)
                outs.append(z)
            below = np.zeros((X.shape[0], t, W.shape[0]))
            below[:, start:t, :] = np.stack(outs, axis=1)
        residual = below[:, t - 1, :] - Z[:, t - 1, :]
        return float(np.sum(residual**2)) / (2 * X.shape[0])

    return loss


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("layer,wrt", [(1, "W"), (2, "W"), (1, "U"), (2, "b")])
@pytest.mark.parametrize("K", [1, 2, 4])
def test_truncated_gradient_and_hessian_match_frozen_state_reference(activation, layer, wrt, K):
    rnn, X, Z = _rnn_case(activation)
    t = 5
    loss = _restarted_loss(rnn, X, Z, t, K, layer, wrt)
    theta = {"W": rnn.weights, "U": rnn.recurrent, "b": rnn.biases}[wrt][layer - 1].reshape(-1)
    g = rnn.gradient(X, Z, layer=layer, t=t, truncate=K)
    got = {"W": g.W, "U": g.U, "b": g.b}[wrt].reshape(-1)
    np.testing.assert_allclose(got, fd_gradient(loss, theta.copy()), rtol=1e-6, atol=1e-9)
    h = rnn.hessian(X, Z, layer=layer, t=t, wrt=wrt, truncate=K)
    reference = fd_hessian(loss, theta.copy())
    scale = max(1.0, float(np.abs(reference).max()))
    assert np.abs(h.dense() - reference).max() <= 1e-6 * scale
    np.testing.assert_allclose(h.eigvalsh(), np.linalg.eigvalsh(h.dense()), atol=1e-10 * scale)


def test_truncation_longer_than_the_sequence_is_the_exact_gradient():
    rnn, X, Z = _rnn_case()
    exact = rnn.gradient(X, Z, layer=1, t=4)
    truncated = rnn.gradient(X, Z, layer=1, t=4, truncate=4)
    np.testing.assert_allclose(truncated.W, exact.W, rtol=1e-12, atol=1e-15)


def test_truncated_sum_over_outputs_is_the_sum_of_truncated_terms():
    rnn, X, Z = _rnn_case()
    total = rnn.gradient(X, Z, layer=1, t=None, outputs_from=3, truncate=2).W
    parts = sum(rnn.gradient(X, Z, layer=1, t=t, truncate=2).W for t in range(3, 7))
    np.testing.assert_allclose(total, parts, rtol=1e-12, atol=1e-15)


def _reference_topk_backward(net, X, Z, counts):
    """Back-propagation with v^(k) cut to its ``counts[k-1]`` largest magnitudes per sample."""
    forward = net.forward(X)
    r = X.shape[0]
    a = (forward.output - Z) / r
    grads = []
    for k in range(net.n_layers, 0, -1):
        y = forward.pre_activations[k - 1]
        h = 1e-7
        act = net.output_activation if k == net.n_layers else net.activation
        slope = (activate(act, y + h) - activate(act, y - h)) / (2 * h)
        v = a * slope
        order = np.argsort(-np.abs(v), axis=1)[:, : counts[k - 1]]
        mask = np.zeros_like(v)
        np.put_along_axis(mask, order, 1.0, axis=1)
        v = v * mask
        grads.append(v.T @ forward.activations[k - 1])
        a = v @ net.weights[k - 1]
    return grads[::-1]


@pytest.mark.parametrize(
    "topk,counts", [(1, (1, 1, 1)), (3, (3, 3, 2)), (0.5, (4, 4, 1)), (0.05, (1, 1, 1))]
)
def test_topk_equals_backward_pass_with_other_entries_zeroed(topk, counts):
    rng = np.random.default_rng(1)
    net = FNN.random((3, 8, 8, 2), activation="tanh", seed=3)
    X, Z = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    reference = _reference_topk_backward(net, X, Z, counts)
    for k, gradient in enumerate(net.gradients(X, Z, topk=topk), start=1):
        np.testing.assert_allclose(gradient.W, reference[k - 1], rtol=1e-6, atol=1e-10)
        V, _ = gradient.factors()
        assert np.all(np.count_nonzero(V, axis=0) <= counts[k - 1])


@pytest.mark.parametrize("t", [None, 2])
def test_rnn_topk_with_per_level_counts_at_an_early_output_time(t):
    """A fraction that gives each level its own count runs one BPTT per level; with an output
    time t < tau it must give what each level's own gradient call gives."""
    rng = np.random.default_rng(4)
    rnn = RNN.random((2, 6, 3), activation="tanh", seed=2)
    X, Z = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    gradients = rnn.gradients(X, Z, t=t, topk=0.5)  # counts 3 and 2 (one per level)
    for k, gradient in enumerate(gradients, start=1):
        alone = rnn.gradient(X, Z, layer=k, t=t, topk=0.5)
        np.testing.assert_allclose(gradient.W, alone.W, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gradient.U, alone.U, rtol=1e-12, atol=1e-15)


def test_topk_keeping_everything_is_exact_and_rnn_topk_is_row_sparse():
    rng = np.random.default_rng(2)
    net = FNN.random((3, 5, 2), activation="sigmoid", seed=1)
    X, Z = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(net.gradient(X, Z, layer=1, topk=5).W, net.gradient(X, Z, 1).W)
    rnn, X, Z = _rnn_case(sizes=(2, 6, 2))
    V, _ = rnn.gradient(X, Z, layer=1, t=5, topk=2).factors()
    assert np.all(np.count_nonzero(V, axis=0) <= 2)


def test_selected_steps_keep_those_terms_of_eq_55():
    rnn, X, Z = _rnn_case(tau=6)
    t = 6
    full = rnn.gradient(X, Z, layer=1, t=t)
    V, Zf = full.factors()
    r = X.shape[0]
    columns = [p * t + (s - 1) for p in range(r) for s in (2, 5)]
    selected = rnn.gradient(X, Z, layer=1, t=t, backtrack={2, 5})
    np.testing.assert_allclose(selected.W, V[:, columns] @ Zf[:, columns].T, rtol=1e-12)
    assert selected.rank_bound == 2 * r
    everything = rnn.gradient(X, Z, layer=1, t=t, backtrack=range(1, t + 1))
    np.testing.assert_allclose(everything.W, full.W, rtol=1e-12)
    # the rule picks the steps with the largest sum_p ||v~|| ||z||
    score = [
        sum(np.linalg.norm(V[:, p * t + s]) * np.linalg.norm(Zf[:, p * t + s]) for p in range(r))
        for s in range(t)
    ]
    best = sorted(int(s) + 1 for s in np.argsort(score)[::-1][:3])
    ruled = rnn.gradient(X, Z, layer=1, t=t, backtrack="largest:3")
    np.testing.assert_allclose(ruled.W, rnn.gradient(X, Z, layer=1, t=t, backtrack=best).W)


@pytest.mark.parametrize(
    "options,name",
    [
        ({"topk": 0}, "topk"),
        ({"topk": 1.5}, "topk"),
        ({"topk": "5%"}, "topk"),
        ({"truncate": 0}, "truncate"),
        ({"truncate": 99}, "truncate"),
        ({"backtrack": {0}}, "backtrack"),
        ({"backtrack": "largest"}, "backtrack"),
        ({"backtrack": "smallest:2"}, "backtrack"),
    ],
)
def test_bad_sparse_options_name_the_argument(options, name):
    rnn, X, Z = _rnn_case()
    with pytest.raises(ValueError, match=name):
        rnn.gradient(X, Z, layer=1, t=5, **options)
