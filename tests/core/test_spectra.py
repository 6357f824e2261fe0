"""eigvalsh() (computed from the Kronecker factors) and weyl_bounds() (eq. 101-108).

eigvalsh() must equal numpy.linalg.eigvalsh(dense()) to 1e-9 of the spectral radius, for the
exact and the paper formulas; the Weyl bounds (both forms) must contain those eigenvalues.
"""

from __future__ import annotations

import numpy as np
import pytest
from core_cases import FNN_SIZES, RNN_SIZES, RNN_TAU, fnn_case, rnn_case
from core_checks import EIGENVALUE_RTOL, assert_close, assert_inside, spectral_scale, to_numpy

FNN_SPECTRUM_CASES = [
    pytest.param(activation, depth, batch, layer, formula,
                 id=f"{activation}-l{depth}-r{batch}-k{layer}-{formula}")
    for activation in ("relu", "sigmoid", "tanh", "softplus", "identity")
    for depth in (1, 3)
    for batch in (1, 2, 5)  # r = 5 > n: the reduction keeps the n-dimensional input basis
    for layer in range(1, depth + 1)
    for formula in ("exact", "paper")
]

RNN_SPECTRUM_CASES = [
    pytest.param(activation, depth, batch, layer, t, wrt, formula,
                 id=f"{activation}-l{depth}-r{batch}-k{layer}-t{t}-{wrt}-{formula}")
    for activation in ("relu", "tanh", "sigmoid")
    for depth in (1, 2)
    for batch in (1, 3)
    for layer in range(1, depth + 1)
    for t in (1, RNN_TAU, None)
    for wrt in ("W", "U", "b")
    for formula in ("exact", "paper")
]


def _check_spectrum(h, xp, label):
    dense = to_numpy(h.dense(), xp, "dense()")
    expected = np.linalg.eigvalsh(0.5 * (dense + dense.T))
    values = to_numpy(h.eigvalsh(), xp, "eigvalsh()")
    assert values.shape == (dense.shape[0],), f"{label}: eigvalsh() shape {values.shape}"
    assert np.all(np.diff(values) >= 0), f"{label}: eigvalsh() is not ascending: {values}"
    assert_close(values, expected, EIGENVALUE_RTOL, f"{label}: eigvalsh() vs eigvalsh(dense())",
                 scale=spectral_scale(expected))
    for form in ("terms", "norm"):
        lower, upper = (to_numpy(a, xp, f"weyl_bounds({form!r})") for a in h.weyl_bounds(form=form))
        assert_inside(lower, expected, upper, f"{label}: weyl_bounds(form={form!r})")
    default = [to_numpy(a, xp) for a in h.weyl_bounds()]
    terms = [to_numpy(a, xp) for a in h.weyl_bounds(form="terms")]
    assert all(np.array_equal(a, b) for a, b in zip(default, terms, strict=True)), (
        f"{label}: weyl_bounds() must default to form='terms'"
    )


@pytest.mark.parametrize("activation,depth,batch_size,layer,formula", FNN_SPECTRUM_CASES)
def test_fnn_eigvalsh_and_weyl_bounds(xp, activation, depth, batch_size, layer, formula):
    case = fnn_case(FNN_SIZES[depth], batch_size, activation)
    net, X, Z_target = case.build(xp)
    for wrt in ("W", "b"):
        h = net.hessian(X, Z_target, layer=layer, formula=formula, wrt=wrt)
        _check_spectrum(h, xp, f"{case} layer={layer} {formula} wrt={wrt}")


@pytest.mark.parametrize("activation,depth,batch_size,layer,t,wrt,formula", RNN_SPECTRUM_CASES)
def test_rnn_eigvalsh_and_weyl_bounds(xp, activation, depth, batch_size, layer, t, wrt, formula):
    case = rnn_case(RNN_SIZES[depth], batch_size, RNN_TAU, activation)
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=layer, t=t, wrt=wrt, formula=formula)
    if wrt == "U" and formula == "exact":
        assert not h.structured, "the exact H_U is not a Kronecker sum: eigvalsh says so"
    _check_spectrum(h, xp, f"{case} layer={layer} t={t} wrt={wrt} {formula}")


def test_weyl_bounds_are_tight_for_a_single_term(xp):
    """One FNN sample: the Hessian is one Kronecker term, so both bounds are the spectrum."""
    case = fnn_case(FNN_SIZES[2], 1, "tanh")
    net, X, Z_target = case.build(xp)
    h = net.hessian(X, Z_target, layer=1)
    values = to_numpy(h.eigvalsh(), xp)
    for form in ("terms", "norm"):
        lower, upper = (to_numpy(a, xp) for a in h.weyl_bounds(form=form))
        scale = spectral_scale(values)
        assert_close(lower, values, EIGENVALUE_RTOL, f"lower bound ({form})", scale=scale)
        assert_close(upper, values, EIGENVALUE_RTOL, f"upper bound ({form})", scale=scale)


def test_weyl_bounds_reject_an_unknown_form(xp):
    case = fnn_case(FNN_SIZES[1], 2, "relu")
    net, X, Z_target = case.build(xp)
    with pytest.raises(ValueError, match=r"form.*terms.*norm"):
        net.hessian(X, Z_target, layer=1).weyl_bounds(form="frobenius")


@pytest.mark.parametrize("kind", ["fnn", "rnn"])
def test_eigvalsh_and_weyl_bounds_never_form_the_dense_matrix(xp, kind, monkeypatch):
    """CONTRACT: eigvalsh() works from the Kronecker factors wherever they exist."""
    from hessian_core import LayerHessian

    if kind == "fnn":
        net, X, Z_target = fnn_case(FNN_SIZES[2], 5, "sigmoid").build(xp)
        hessians = [net.hessian(X, Z_target, layer=k, formula=f) for k in (1, 2)
                    for f in ("exact", "paper")]
    else:
        net, X, Z_target = rnn_case(RNN_SIZES[2], 3, RNN_TAU, "tanh").build(xp)
        hessians = [net.hessian(X, Z_target, layer=k, t=t, wrt=w, formula="exact")
                    for k in (1, 2) for t in (2, None) for w in ("W", "b")]
        hessians.append(net.hessian(X, Z_target, layer=1, t=RNN_TAU, wrt="U", formula="paper"))
    expected = [np.linalg.eigvalsh(to_numpy(h.dense(), xp)) for h in hessians]

    def refuse(self):
        raise AssertionError("the dense Hessian was formed")

    monkeypatch.setattr(LayerHessian, "dense", refuse)
    monkeypatch.setattr(LayerHessian, "kronecker_part", refuse)
    for h, values in zip(hessians, expected, strict=True):
        assert h.structured
        assert_close(to_numpy(h.eigvalsh(), xp), values, EIGENVALUE_RTOL,
                     f"{kind} layer={h.layer} wrt={h.wrt}: eigvalsh() from the factors",
                     scale=spectral_scale(values))
        for form in ("terms", "norm"):
            lower, upper = (to_numpy(a, xp) for a in h.weyl_bounds(form=form))
            assert_inside(lower, values, upper, f"{kind} layer={h.layer} form={form}")
