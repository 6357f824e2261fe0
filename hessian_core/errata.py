"""Where the paper's equations differ from the exact derivatives, measured.

Each function compares ``formula="paper"`` (the equations as printed) with the exact
quantity at the caller's network and data, one erratum at a time, and returns the relative
Frobenius error ``||paper - exact||_F / ||exact||_F`` of the affected layer Hessian (or
gradient). Where an equation holds (ReLU, one level, t <= 2 for H_U), the error is at round-off
level; that is part of the result, not an exception. docs/errata.md explains each entry;
``python -m hessian_core.errata`` prints the table on the stated examples.

The Frobenius norm of a Kronecker sum is that of its Gram-reduced matrix (the two share
their nonzero eigenvalues), so no dense (m*n) x (m*n) matrix is formed except for the
exact H_U, which has no Kronecker structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fnn import FNN
from .kron import LayerHessian
from .paper import blocks_from_propagators, propagators, rnn_paper_gradient
from .rnn import RNN
from .spectra import reduced_matrix

__all__ = ["ErratumMeasurement", "measure_fnn", "measure_rnn", "relative_difference"]


@dataclass(frozen=True)
class ErratumMeasurement:
    """One erratum at one network: the equation, what it gets wrong, the measured error."""

    equation: str
    statement: str
    holds_when: str
    case: str
    relative_error: float | None  # None: not applicable to this network (the case says why)


def relative_difference(paper: LayerHessian, exact: LayerHessian) -> float:
    """``||H_paper - H_exact||_F / ||H_exact||_F`` for two Hessians of the same layer."""
    xp = exact.xp
    if paper.structured and exact.structured:
        difference = reduced_matrix(paper.blocks - exact.blocks, exact.inputs)
        reference = reduced_matrix(exact.blocks, exact.inputs)
    else:
        difference = paper.dense() - exact.dense()
        reference = exact.dense()
    return _ratio(xp, difference, reference)


def _ratio(xp: Any, difference: Any, reference: Any) -> float:
    scale = float(xp.linalg.vector_norm(reference))
    error = float(xp.linalg.vector_norm(difference))
    return error / scale if scale > 0 else error


_SEED = (
    "(32)",
    "C^(l) = I o F^(l), then A^(l) = C^(l) o F^(l) + D^(l) applies F twice at the output: "
    "f'^4 where the exact output-level matrix has f'^2 (the loss Hessian is I).",
    "the output activation has f' in {0, 1} (ReLU, identity)",
)
_CURVATURE = (
    "(34)-(35)",
    "D^(k) = diag(v^(k)) with v^(k-1) = (W^T v^(k)) o f''(y^(k-1)), a product of f'' factors; "
    "the exact D^(k) is diag(dE/dz^(k) o f''(y^(k))) with dE/dz^(k) from the first-order pass.",
    "f'' = 0 at the hidden levels (ReLU, identity), or one level",
)
_TIME = (
    "(77)",
    "C~^(k,t,s,zeta) = P_s^T A^(k,t) P_zeta propagates second-order terms only through f', "
    "missing the f''(y^(k,h)) terms of the earlier time steps h = s..t-1.",
    "piecewise-linear f (ReLU, identity), or t = 1",
)
_LEVEL = (
    "(82)",
    "C^(k-1,t) = W^T A^(k,t) W + U^T A^(k-1,t+1) U reaches level k-1 only at time t: the paths "
    "that climb to level k earlier and travel in time through U^(k) are missing.",
    "one level (l = 1), the top level k = l, or t = 1",
)
_RECURRENT = (
    "(75)",
    "H_U = sum C~ kron z^(k,s-1) z^(k,zeta-1)T treats the recurrent input z^(k,s-1) as "
    "constant, but it depends on U^(k): the terms g_y^(k,s) (dz^(k,s-1)/dU)T are missing.",
    "t <= 2, at every level: z^(k,0) = 0 and z^(k,1) do not depend on U^(k), so nothing is "
    "missing (for ReLU and identity the paper's H_U is then exact; smooth f still meet (77), "
    "(81))",
)
_GRADIENT = (
    "(58)-(60)",
    "for E^(t), v~^(k,t,s) = P_s^T v^(k,t) with v^(k-1,t) = (W^T v^(k,t)) o f' travels in time "
    "only at level k: below the top level it misses the paths through the upper feedback U^(k+1).",
    "the top level k = l (any depth), or one level",
)


def measure_fnn(net: FNN, X: Any, Z_target: Any) -> list[ErratumMeasurement]:
    """Errata (32) and (34)-(35) of Theorem 1 at this network and batch.

    Each erratum is measured alone: the recursion of :mod:`hessian_core.recursion` with only
    that term switched to the printed form.
    """
    l = net.n_layers
    forward = net.forward(X)
    adjoints = net.adjoints(forward, Z_target)
    results = []

    exact = net.hessian_from(forward, adjoints, l)
    paper = _fnn_variant(exact, net.preactivation_hessians(forward, adjoints, l, seed="paper"))
    results.append(
        ErratumMeasurement(*_SEED, f"level {l} of {l}, wrt W", relative_difference(paper, exact))
    )

    if l >= 2:
        exact = net.hessian_from(forward, adjoints, l - 1)
        matrices = net.preactivation_hessians(forward, adjoints, l - 1, curvature="paper")
        error = relative_difference(_fnn_variant(exact, matrices), exact)
        case = f"level {l - 1} of {l}, wrt W, with the exact seed"
    else:
        error, case = None, "needs a hidden level (l >= 2)"
    results.append(ErratumMeasurement(*_CURVATURE, case, error))
    return results


def _fnn_variant(exact: LayerHessian, matrices: Any) -> LayerHessian:
    return LayerHessian.from_parts(matrices, exact.inputs, exact.layer, exact.wrt, "paper")


def measure_rnn(rnn: RNN, X: Any, Z_target: Any, t: int | None = None) -> list[ErratumMeasurement]:
    """Errata (77), (82), (75) of Theorem 2 and (58)-(60) of Lemma 2 for E^(t).

    ``t=None`` uses the last time step.
    """
    xp = rnn.xp
    l = rnn.n_layers
    forward = rnn.forward(X) if t is None else rnn.forward(X, steps=t)
    T = forward.output.shape[1]
    t = T if t is None else t
    adjoints = rnn.adjoints(forward, Z_target, t=t)
    results = []

    exact = rnn.hessian_from(forward, adjoints, l)
    anchor = exact.blocks[:, t - 1, :, t - 1, :]  # the exact A^(l,t)
    P = propagators(rnn.recurrent[l - 1], rnn.activation_of(l), forward.pre_activations[l - 1], t)
    blocks = blocks_from_propagators(anchor, P, T)
    paper = LayerHessian.from_parts(blocks, exact.inputs, l, "W", "paper", time_step=t)
    case = f"level {l} of {l}, t = {t}, wrt W, with the exact A^({l},t)"
    results.append(ErratumMeasurement(*_TIME, case, relative_difference(paper, exact)))

    if l >= 2:
        exact = rnn.hessian_from(forward, adjoints, l - 1)
        paper = rnn.hessian_from(forward, adjoints, l - 1, formula="paper")
        error = relative_difference(paper, exact)
        case = f"level {l - 1} of {l}, t = {t}, wrt W (for smooth f also (77), (81), (84))"
    else:
        error, case = None, "needs two levels (l >= 2)"
    results.append(ErratumMeasurement(*_LEVEL, case, error))

    exact = rnn.hessian_from(forward, adjoints, l, wrt="U")
    paper = rnn.hessian_from(forward, adjoints, l, wrt="U", formula="paper")
    case = f"level {l} of {l}, t = {t}, wrt U (for smooth f also (77), (81))"
    results.append(ErratumMeasurement(*_RECURRENT, case, relative_difference(paper, exact)))

    if l >= 2:
        exact_gradient = rnn.gradient_from(forward, adjoints, l - 1).W
        paper_gradient = rnn_paper_gradient(
            rnn.weights, rnn.recurrent, rnn.level_activations(), forward, adjoints, l - 1, t
        )
        error = _ratio(xp, paper_gradient - exact_gradient, exact_gradient)
        case = f"level {l - 1} of {l}, t = {t}, gradient G_W"
    else:
        error, case = None, "needs two levels (l >= 2)"
    results.append(ErratumMeasurement(*_GRADIENT, case, error))
    return results


def stated_examples() -> list[tuple[str, list[ErratumMeasurement]]]:
    """The seeded examples quoted in docs/errata.md."""
    import numpy as np

    rng = np.random.default_rng(0)
    examples = []
    for activation in ("sigmoid", "tanh", "relu"):
        net = FNN.random((3, 4, 3, 2), activation=activation, seed=0)
        X, Z = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
        examples.append((f"FNN 3-4-3-2 {activation}, r = 4", measure_fnn(net, X, Z)))
    for activation in ("tanh", "relu"):
        rnn = RNN.random((2, 3, 2), activation=activation, seed=0, recurrent_scale=0.9)
        X, Z = rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 5, 2))
        examples.append(
            (
                f"RNN 2-3-2 (two levels) {activation}, r = 2, tau = 5, t = 4",
                measure_rnn(rnn, X, Z, 4),
            )
        )
        rnn = RNN.random((2, 3), activation=activation, seed=0, recurrent_scale=0.9)
        X, Z = rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 5, 3))
        examples.append(
            (f"RNN 2-3 (one level) {activation}, r = 2, tau = 5, t = 4", measure_rnn(rnn, X, Z, 4))
        )
    return examples


def main() -> None:
    """Print the errata table on the stated examples."""
    for title, measurements in stated_examples():
        print(title)
        for item in measurements:
            error = "n/a" if item.relative_error is None else f"{item.relative_error:.3e}"
            print(f"  {item.equation:10s} {error:>10s}   {item.case}")


if __name__ == "__main__":
    main()
