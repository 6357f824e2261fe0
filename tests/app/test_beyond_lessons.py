"""The two lessons beyond the paper claim what the numbers of their configurations show:
a softmax cross-entropy sample has at most M - 1 nonzero (and no negative) eigenvalues at
the last level, and weight decay moves eq. (46)'s zeros, and every other eigenvalue, by
exactly lambda_wd."""

from __future__ import annotations

import numpy as np

from app.configuration.settings import Settings
from app.training.session import TrainingSession


def lesson_sample(key: str, **values):
    settings = Settings()
    assert settings.apply({"lesson": key, **values}) == {}
    session = TrainingSession(settings)
    p = settings.sample
    return settings, session, session.X[p : p + 1], session.Z[p : p + 1]


def test_softmax_hessian_has_m_minus_one_nonzero_eigenvalues():
    settings, session, X, Z = lesson_sample("softmax-hessian")
    assert session.net.loss_name == "cross_entropy" and session.layer_sizes == (2, 8, 3)
    eigenvalues = np.asarray(session.net.hessian(X, Z, layer=2).eigvalsh())
    tolerance = 1e-10 * np.max(np.abs(eigenvalues))
    assert np.sum(eigenvalues > tolerance) == 2  # M - 1
    assert np.sum(np.abs(eigenvalues) <= tolerance) == 22
    assert eigenvalues.min() >= -tolerance
    # the same sample under the squared loss: M = 3 nonzero eigenvalues
    _, squared, X, Z = lesson_sample("softmax-hessian", loss="mse")
    values = np.asarray(squared.net.hessian(X, Z, layer=2).eigvalsh())
    assert np.sum(np.abs(values) > 1e-10 * np.max(np.abs(values))) == 3


def test_weight_decay_moves_the_zeros_of_eq46_to_lambda():
    settings, session, X, Z = lesson_sample("weight-decay")
    lam = settings.weight_decay
    assert lam == 0.01 and session.net.weight_decay == lam  # 0.1 empties the weights
    shifted = np.asarray(session.net.hessian(X, Z, layer=2).eigvalsh())
    _, plain, X0, Z0 = lesson_sample("weight-decay", weight_decay=0.0)
    np.testing.assert_array_equal(X0, X)
    data = np.asarray(plain.net.hessian(X0, Z0, layer=2).eigvalsh())
    np.testing.assert_allclose(shifted, data + lam, atol=1e-12)
    m, n = session.layer_sizes[2], session.layer_sizes[1]
    assert np.sum(np.abs(shifted - lam) <= 1e-10) == m * (n - 1) == 56
    assert np.sum(np.abs(data) <= 1e-10) == 56
