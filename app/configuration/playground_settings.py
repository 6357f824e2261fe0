"""TensorFlow Playground's conveniences as settings: a new sample of the data, hard classes,
L1 beside L2, and round learning rates. :class:`app.configuration.settings.Settings` inherits
them, so each
is a URL value, checked and refused by name as every other setting.

- ``data_seed``: which sample of the data set is drawn. 0 is the sample of ``seed`` alone
  (the data of every older link); "Regenerate data" counts it up. The data are drawn with
  :func:`sample_seed` (``seed`` + ``data_seed`` * 2^31, one distinct number per pair); the
  weights and the order of the mini-batches keep ``seed``. A new sample keeps the model:
  the network goes on training, on the new points (``TrainingSession.regenerate_data``).
- ``discretize``: the decision plot shows the predicted class (hard regions) instead of the
  network's continuous output.
- ``l1``: L1 strength lambda_1. Training minimises E + lambda_1 sum_k ||W^(k)||_1 (RNNs:
  also ||U^(k)||_1; biases are not penalised) by the subgradient method: every step adds
  lambda_1 sign(W) to G_W (sign(0) = 0), before clipping and momentum, as the gradient of
  the L2 term is. The term is piecewise linear: its second derivative is 0 wherever w != 0
  (at w = 0 it has none), so every Hessian the views show is that of the loss they state,
  with or without it; its gradient lambda_1 sign(W) is a sign pattern, not of low rank, so
  the views of the data gradient's factors say that the step is no longer rank-r
  (:data:`L1_STATEMENTS`).
"""

from __future__ import annotations

import param

#: the round learning rates of the menu beside the slider (TensorFlow Playground's)
ROUND_LEARNING_RATES = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
#: the L1 stops of the control (0 = none), those of the L2 weight decay
L1_STRENGTHS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
#: the largest data seed (a whole number of the seed's range)
MAX_DATA_SEED = 2**31 - 1


def sample_seed(seed: int, data_seed: int) -> int:
    """The seed the data are drawn with: ``seed`` itself for ``data_seed`` 0 (the sample of
    older links), one distinct number for every pair.

    >>> sample_seed(5, 0), sample_seed(5, 1) == sample_seed(6, 0), sample_seed(0, 1)
    (5, False, 2147483648)
    """
    return int(seed) + int(data_seed) * 2**31


class PlaygroundSettings(param.Parameterized):
    """A new data sample, hard classes and L1 (module docstring)."""

    data_seed = param.Integer(default=0, bounds=(0, MAX_DATA_SEED),
                              doc="sample of the data set (0: the seed's own; Regenerate "
                                  "data counts up); the model is kept")
    discretize = param.Boolean(default=False,
                               doc="decision plot: the predicted class, not the output")
    l1 = param.Number(default=0.0, bounds=(0.0, 1.0),
                      doc="L1 strength lambda_1 (subgradient lambda_1 sign(W) in each step)")


#: what the L1 term changes in each view's statement, appended to its note while l1 > 0
#: (``{l1}`` is the strength)
HESSIAN_UNCHANGED = (
    "**L1 λ₁ = {l1:g} is on; this Hessian is unchanged by it:** λ₁ Σ|w| has second "
    "derivative 0 wherever w ≠ 0 (at w = 0 it has none), so the Hessian shown is that of the "
    "loss stated, with or without the L1 term, at every weight that is not exactly 0."
)
L1_STATEMENTS = {
    "training": (
        "**L1 λ₁ = {l1:g}:** each step also descends λ₁ Σ|w| (subgradient λ₁·sign(W) added "
        "to G_W); the loss drawn is the loss stated, without the L1 term."
    ),
    "rank": (
        "**L1 λ₁ = {l1:g}:** these are the gradients of the loss without the L1 term (of the "
        "data loss alone, G = V Zᵀ of rank ≤ r). The step adds λ₁·sign(W) to each, a sign "
        "pattern that is not low-rank: the update itself is no longer of rank ≤ r."
    ),
    "kronecker": HESSIAN_UNCHANGED,
    "spectrum": HESSIAN_UNCHANGED,
    "errata": HESSIAN_UNCHANGED,
    "whole": HESSIAN_UNCHANGED,
    "network": (
        "**L1 λ₁ = {l1:g}:** the gradient G drawn is that of the loss stated; the step adds "
        "λ₁·sign(w) to each weight's. The Hessian diagonal is unchanged by L1: λ₁|w| has "
        "second derivative 0 wherever w ≠ 0."
    ),
    "sparse": (
        "**L1 λ₁ = {l1:g}:** the gradients compared are those of the loss stated; both runs "
        "add λ₁·sign(W) to them before their step."
    ),
}


def l1_statement(view: str, l1: float) -> str:
    """What L1 of strength ``l1`` changes in the statement of ``view`` ("" for none).

    >>> l1_statement("rank", 0.0), "not low-rank" in l1_statement("rank", 0.01)
    ('', True)
    """
    text = L1_STATEMENTS.get(view, "")
    return text.format(l1=float(l1)) if l1 and text else ""
