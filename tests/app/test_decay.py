"""Weight decay's shift of the spectrum: the counts against the core's spectra with and
without decay, and the paragraph that reports them."""

from __future__ import annotations

import numpy as np

from app.views.decay import decay_counts, decay_text


def test_counts_against_the_spectrum_without_decay():
    from hessian_core import FNN

    rng = np.random.default_rng(0)
    X, Z = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    lam = 0.03
    plain = FNN.random((3, 4, 2), activation="tanh", output_activation="identity", seed=2)
    decayed = FNN(plain.weights, plain.biases, activation="tanh",
                  output_activation="identity", weight_decay=lam)
    for layer in (1, 2):
        data = np.asarray(plain.hessian(X, Z, layer=layer).eigvalsh())
        shifted = np.asarray(decayed.hessian(X, Z, layer=layer).eigvalsh())
        np.testing.assert_allclose(shifted, data + lam, atol=1e-12)
        tolerance = 1e-10
        counts = decay_counts(shifted, lam, tolerance)
        assert counts["at_shift"] == int(np.sum(np.abs(data) <= tolerance))
        m, n = np.shape(plain.weights[layer - 1])
        assert counts["at_shift"] >= m * (n - X.shape[0])  # eq. (46) for a batch of r = 2
        assert counts["negative"] == int(np.sum(data + lam < -tolerance))
        assert counts["turned_positive"] == int(np.sum((data < -tolerance)
                                                       & (data + lam >= -tolerance)))


def test_text_names_the_shift_and_the_counts():
    assert decay_text(np.array([0.0, 1.0]), 0.0, 1e-9) == ""
    values = np.array([-0.5, -0.05, 0.0, 0.0, 0.0, 2.0]) + 0.1
    text = decay_text(values, 0.1, 1e-9)
    assert "λ_wd = 0.1" in text and "3 zero eigenvalues now sit at λ_wd" in text
    assert "1 negative eigenvalue above −λ_wd turned positive" in text
    assert "1 eigenvalue below −λ_wd stays negative" in text
    assert "positive definite" in decay_text(np.array([0.0, 1.0]) + 0.2, 0.2, 1e-9)
