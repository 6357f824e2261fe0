"""formula="paper" (the equations as printed) against formula="exact" and the FD reference.

First, that it is the paper: it must equal tests/core/paper_reference.py, an independent
plain NumPy transcription of Theorem 1 (eq. 28-35) and Theorem 2 (eq. 74-84).

Where the paper's derivation holds, the two agree to round-off (and the paper's formula
matches the finite-difference Hessian). Where the paper is wrong (docs/errata.md), they
differ by far more than ERRATUM_MIN_RELATIVE_DIFFERENCE; the measured relative Frobenius
difference ||paper - exact|| / ||exact|| is printed (run with -s to see it).
"""

from __future__ import annotations

import paper_reference
import pytest
from core_cases import (
    ACTIVATION_PAIRS,
    FNN_SIZES,
    RNN_SIZES,
    RNN_TAU,
    fnn_case,
    fnn_fd_hessian,
    rnn_case,
    rnn_fd_hessian,
)
from core_checks import (
    ERRATUM_MIN_RELATIVE_DIFFERENCE,
    HESSIAN_RTOL,
    ROUNDOFF_RTOL,
    assert_close,
    relative_difference,
    to_numpy,
)


def _both(net, X, Z_target, xp, **kwargs):
    """(paper, exact) dense Hessians in NumPy."""
    paper = to_numpy(net.hessian(X, Z_target, formula="paper", **kwargs).dense(), xp, "paper")
    exact = to_numpy(net.hessian(X, Z_target, formula="exact", **kwargs).dense(), xp, "exact")
    return paper, exact


# ------------------------------------------------------------------- the paper, literally


@pytest.mark.parametrize("activation,output_activation", ACTIVATION_PAIRS)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_fnn_paper_formula_is_theorem_1_as_printed(xp, activation, output_activation,
                                                   batch_size):
    case = fnn_case(FNN_SIZES[3], batch_size, activation, output_activation)
    net, X, Z_target = case.build(xp)
    for layer in (1, 2, 3):
        for wrt in ("W", "b"):
            h = net.hessian(X, Z_target, layer=layer, formula="paper", wrt=wrt)
            expected = paper_reference.fnn_paper_hessian(
                case.weights, case.biases, activation, output_activation, case.X,
                case.Z_target, layer, wrt,
            )
            assert_close(to_numpy(h.dense(), xp), expected, ROUNDOFF_RTOL,
                         f"{case} layer={layer} wrt={wrt}: paper == eq. (28)-(35)")


@pytest.mark.parametrize("activation,output_activation", ACTIVATION_PAIRS)
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_rnn_paper_formula_is_theorem_2_as_printed(xp, activation, output_activation, depth):
    case = rnn_case(RNN_SIZES[depth], 2, RNN_TAU, activation, output_activation)
    net, X, Z_target = case.build(xp)
    for layer in range(1, depth + 1):
        for wrt in ("W", "U", "b"):
            for t, a in [(1, 1), (2, 1), (RNN_TAU, 1), (None, 1), (None, 2)]:
                h = net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt, formula="paper",
                                outputs_from=a)
                expected = paper_reference.rnn_paper_hessian(
                    case.weights, case.recurrent, case.biases, activation, output_activation,
                    case.X, case.Z_target, layer, wrt, t, a,
                )
                assert_close(to_numpy(h.dense(), xp), expected, ROUNDOFF_RTOL,
                             f"{case} layer={layer} wrt={wrt} t={t} a={a}: "
                             "paper == eq. (74)-(84)")


# ------------------------------------------------------------------- where the paper holds


@pytest.mark.parametrize("activation,output_activation", [
    ("relu", None), ("relu", "identity"), ("identity", None),
])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("wrt", ["W", "b"])
def test_paper_equals_exact_for_piecewise_linear_fnn(
    xp, activation, output_activation, depth, batch_size, wrt
):
    """Theorem 1 / Corollary 2 hold when f'' = 0 and f'^2 = f' (ReLU, identity)."""
    case = fnn_case(FNN_SIZES[depth], batch_size, activation, output_activation)
    net, X, Z_target = case.build(xp)
    for layer in range(1, depth + 1):
        paper, exact = _both(net, X, Z_target, xp, layer=layer, wrt=wrt)
        label = f"{case} layer={layer} wrt={wrt}"
        assert_close(paper, exact, ROUNDOFF_RTOL, f"{label}: paper == exact")
        assert_close(paper, fnn_fd_hessian(case, layer, wrt), HESSIAN_RTOL,
                     f"{label}: paper == finite differences")


@pytest.mark.parametrize("activation", ["relu", "identity"])
@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("t", [1, 2, RNN_TAU, None])
@pytest.mark.parametrize("wrt", ["W", "b"])
def test_paper_equals_exact_for_one_level_relu_rnn(xp, activation, batch_size, t, wrt):
    """Corollary 4 holds for one ReLU level with respect to W and b, at every t."""
    case = rnn_case(RNN_SIZES[1], batch_size, RNN_TAU, activation)
    net, X, Z_target = case.build(xp)
    paper, exact = _both(net, X, Z_target, xp, layer=1, t=t, wrt=wrt)
    label = f"{case} t={t} wrt={wrt}"
    assert_close(paper, exact, ROUNDOFF_RTOL, f"{label}: paper == exact")
    assert_close(paper, rnn_fd_hessian(case, 1, wrt, t), HESSIAN_RTOL,
                 f"{label}: paper == finite differences")


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("t", [1, RNN_TAU])
def test_paper_equals_exact_at_the_top_level_of_a_relu_rnn(xp, batch_size, t):
    """At level l no recursion (82) is needed, so Corollary 4 holds for W there."""
    case = rnn_case(RNN_SIZES[2], batch_size, RNN_TAU, "relu")
    net, X, Z_target = case.build(xp)
    paper, exact = _both(net, X, Z_target, xp, layer=2, t=t, wrt="W")
    assert_close(paper, exact, ROUNDOFF_RTOL, f"{case} layer=2 t={t}: paper == exact")


@pytest.mark.parametrize("t", [1, 2])
def test_paper_equals_exact_for_relu_rnn_wrt_U_up_to_t2(xp, t):
    """Up to t = 2 the recurrent input z^(k,s-1) does not depend on U yet, so (75) holds."""
    case = rnn_case(RNN_SIZES[1], 3, RNN_TAU, "relu")
    net, X, Z_target = case.build(xp)
    paper, exact = _both(net, X, Z_target, xp, layer=1, t=t, wrt="U")
    assert_close(paper, exact, ROUNDOFF_RTOL, f"{case} t={t} wrt=U: paper == exact")


@pytest.mark.parametrize("activation", ["relu", "identity"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("t", [1, 2])
def test_paper_H_U_is_exact_up_to_t2_at_every_level(xp, activation, depth, t):
    """(75) misses only terms with d z^(k,s-1)/dU for s <= t; z^(k,0) = 0 and z^(k,1) do not
    depend on U^(k), so for piecewise-linear f the paper's H_U is exact at t = 1 and t = 2 at
    every level, not only at t = 1 (docs/errata.md)."""
    case = rnn_case(RNN_SIZES[depth], 3, RNN_TAU, activation)
    net, X, Z_target = case.build(xp)
    for layer in range(1, depth + 1):
        paper, exact = _both(net, X, Z_target, xp, layer=layer, t=t, wrt="U")
        assert_close(paper, exact, ROUNDOFF_RTOL,
                     f"{case} layer={layer} t={t} wrt=U: paper == exact")


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_the_part_of_H_U_that_75_misses_starts_at_t3(xp, activation):
    """The exact H_U's non-Kronecker remainder (what eq. 75 misses) is exactly zero for
    t <= 2 at every level and every activation, and not zero at t = 3."""
    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, activation)
    net, X, Z_target = case.build(xp)
    for layer in (1, 2):
        for t in (1, 2, 3):
            remainder = to_numpy(net.hessian(X, Z_target, layer=layer, t=t, wrt="U").remainder,
                                 xp, "remainder")
            size = float(abs(remainder).max())
            if t <= 2:
                assert size == 0.0, f"{case} layer={layer} t={t}: remainder {size:.3e} != 0"
            else:
                assert size > ERRATUM_MIN_RELATIVE_DIFFERENCE, f"{case} layer={layer} t=3"


def test_errata_measures_and_states_75_holding_at_t2(xp):
    """hessian_core.errata (what the app shows) measures (75) as holding at t = 2 for a
    two-level ReLU RNN, and its text states the t <= 2 range at every level."""
    from hessian_core.errata import measure_rnn

    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, "relu")
    net, X, Z_target = case.build(xp)
    found = {item.equation: item for item in measure_rnn(net, X, Z_target, t=2)}
    item = found["(75)"]
    assert item.relative_error <= ROUNDOFF_RTOL, f"{case}: {item}"
    assert "t <= 2" in item.holds_when and "every level" in item.holds_when, item.holds_when


# ------------------------------------------------------------------- the errata

ERRATA = [
    # (equation, kind, activation, output_activation, depth, batch, layer, t, wrt)
    pytest.param("(32)", "fnn", "sigmoid", None, 1, 1, 1, None, "W", id="32-sigmoid-output-r1"),
    pytest.param("(32)", "fnn", "sigmoid", None, 3, 3, 3, None, "W", id="32-sigmoid-output-r3"),
    pytest.param("(32)", "fnn", "relu", "sigmoid", 2, 3, 2, None, "b", id="32-sigmoid-output-b"),
    pytest.param("(32)", "fnn", "softplus", None, 1, 3, 1, None, "W", id="32-softplus-output"),
    # identity output: (32) is right there, so a hidden-level difference is (34)-(35)'s
    pytest.param("(34)-(35)", "fnn", "sigmoid", "identity", 2, 1, 1, None, "W",
                 id="34-35-sigmoid-hidden-r1"),
    pytest.param("(34)-(35)", "fnn", "tanh", "identity", 3, 3, 1, None, "W",
                 id="34-35-tanh-hidden-level1"),
    pytest.param("(34)-(35)", "fnn", "tanh", "identity", 3, 3, 2, None, "W",
                 id="34-35-tanh-hidden-level2"),
    pytest.param("(34)-(35)", "fnn", "sigmoid", None, 3, 3, 2, None, "b",
                 id="34-35-sigmoid-hidden-b"),
    pytest.param("(77)", "rnn", "tanh", None, 1, 1, 1, 2, "W", id="77-tanh-t2-r1"),
    pytest.param("(77)", "rnn", "tanh", None, 1, 3, 1, RNN_TAU, "W", id="77-tanh-t3-r3"),
    pytest.param("(77)", "rnn", "tanh", None, 1, 3, 1, None, "W", id="77-tanh-sum"),
    pytest.param("(82)", "rnn", "relu", None, 2, 1, 1, 2, "W", id="82-relu-level1-t2-r1"),
    pytest.param("(82)", "rnn", "relu", None, 2, 3, 1, RNN_TAU, "W", id="82-relu-level1-t3-r3"),
    pytest.param("(82)", "rnn", "relu", None, 2, 3, 1, RNN_TAU, "b", id="82-relu-level1-b"),
    pytest.param("(82)", "rnn", "identity", None, 2, 3, 1, 2, "W", id="82-identity-level1"),
    pytest.param("(75)", "rnn", "relu", None, 1, 1, 1, RNN_TAU, "U", id="75-relu-U-r1"),
    pytest.param("(75)", "rnn", "relu", None, 1, 3, 1, None, "U", id="75-relu-U-sum"),
    pytest.param("(75)", "rnn", "relu", None, 2, 3, 2, RNN_TAU, "U", id="75-relu-U-top-level"),
    pytest.param("(75)", "rnn", "identity", None, 1, 3, 1, RNN_TAU, "U", id="75-identity-U"),
]


@pytest.mark.parametrize(
    "equation,kind,activation,output_activation,depth,batch_size,layer,t,wrt", ERRATA
)
def test_paper_differs_from_exact_where_the_paper_is_wrong(
    xp, equation, kind, activation, output_activation, depth, batch_size, layer, t, wrt
):
    if kind == "fnn":
        case = fnn_case(FNN_SIZES[depth], batch_size, activation, output_activation)
        net, X, Z_target = case.build(xp)
        paper, exact = _both(net, X, Z_target, xp, layer=layer, wrt=wrt)
        reference = fnn_fd_hessian(case, layer, wrt)
    else:
        case = rnn_case(RNN_SIZES[depth], batch_size, RNN_TAU, activation, output_activation)
        net, X, Z_target = case.build(xp)
        paper, exact = _both(net, X, Z_target, xp, layer=layer, t=t, wrt=wrt)
        reference = rnn_fd_hessian(case, layer, wrt, t)
    label = f"eq. {equation}: {case} layer={layer} t={t} wrt={wrt}"
    # the exact formula is the truth here too, so the difference is the paper's error
    assert_close(exact, reference, HESSIAN_RTOL, f"{label}: exact == finite differences")
    difference = relative_difference(paper, exact)
    print(f"{label}: ||paper - exact||_F / ||exact||_F = {difference:.3e}")
    assert difference > ERRATUM_MIN_RELATIVE_DIFFERENCE, (
        f"{label}: the paper's formula should differ from the exact Hessian, but the "
        f"relative difference is only {difference:.3e} "
        f"(threshold {ERRATUM_MIN_RELATIVE_DIFFERENCE:.0e})"
    )


# ------------------------------------------------------------------- hessian_core.errata


def _by_equation(measurements):
    return {item.equation: item for item in measurements}


def test_errata_measurements_match_the_dense_differences(xp):
    """hessian_core.errata (what the app shows) reports the same relative differences as the
    dense paper and exact Hessians where it measures the plain comparison, and ~0 where the
    paper holds."""
    from hessian_core.errata import measure_fnn, measure_rnn

    for activation in ("relu", "sigmoid"):
        case = fnn_case(FNN_SIZES[3], 3, activation)
        net, X, Z_target = case.build(xp)
        found = _by_equation(measure_fnn(net, X, Z_target))
        assert {"(32)", "(34)-(35)"} <= set(found), f"measure_fnn reported {sorted(found)}"
        paper, exact = _both(net, X, Z_target, xp, layer=3)
        expected = relative_difference(paper, exact)
        assert_close(found["(32)"].relative_error, expected, 1e-9,
                     f"{case}: measure_fnn (32) vs dense", scale=max(expected, 1e-300))
        if activation == "relu":
            for item in found.values():
                assert item.relative_error <= 1e-12, f"{case}: {item}"

    case = rnn_case(RNN_SIZES[2], 3, RNN_TAU, "relu")
    net, X, Z_target = case.build(xp)
    found = _by_equation(measure_rnn(net, X, Z_target, t=RNN_TAU))
    assert {"(77)", "(82)", "(75)"} <= set(found), f"measure_rnn reported {sorted(found)}"
    assert found["(77)"].relative_error <= 1e-12, f"ReLU: (77) holds, got {found['(77)']}"
    for equation, layer, wrt in (("(82)", 1, "W"), ("(75)", 2, "U")):
        paper, exact = _both(net, X, Z_target, xp, layer=layer, t=RNN_TAU, wrt=wrt)
        expected = relative_difference(paper, exact)
        assert expected > ERRATUM_MIN_RELATIVE_DIFFERENCE
        assert_close(found[equation].relative_error, expected, 1e-9,
                     f"{case}: measure_rnn {equation} vs dense", scale=expected)
