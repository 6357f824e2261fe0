"""Arrays come back in the namespace they came in; cupy is never imported eagerly.

Every other core test also checks the namespace of what it converts (``to_numpy``); this
file walks the whole public surface once per backend, including the factor arrays.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from core_backends import BACKEND_VARIABLE, active_backends, cupy_or_reason
from core_cases import FNN_SIZES, RNN_SIZES, fnn_case, rnn_case
from core_checks import array_type, to_numpy


def _assert_namespace(value, xp, what, dtype=None):
    expected = array_type(xp)
    assert type(value) is expected, (
        f"{what}: came back as {type(value).__module__}.{type(value).__name__}, "
        f"expected {expected.__module__}.{expected.__name__} (input namespace {xp.__name__})"
    )
    if dtype is not None:
        assert value.dtype == dtype, f"{what}: dtype {value.dtype}, expected {dtype}"


def _assert_hessian_namespace(h, xp, label, dtype):
    for name in ("dense", "eigvalsh"):
        _assert_namespace(getattr(h, name)(), xp, f"{label}.{name}()", dtype)
    _assert_namespace(h.blocks, xp, f"{label}.blocks", dtype)
    _assert_namespace(h.inputs, xp, f"{label}.inputs", dtype)
    for form in ("terms", "norm"):
        lower, upper = h.weyl_bounds(form=form)
        _assert_namespace(lower, xp, f"{label}.weyl_bounds({form!r})[0]", dtype)
        _assert_namespace(upper, xp, f"{label}.weyl_bounds({form!r})[1]", dtype)


def test_fnn_round_trip(xp):
    from hessian_core.rank import numerical_rank, singular_values

    case = fnn_case(FNN_SIZES[2], 3, "tanh")
    net, X, Z_target = case.build(xp)
    dtype = X.dtype
    forward = net.forward(X)
    for k, Y in enumerate(forward.pre_activations, start=1):
        _assert_namespace(Y, xp, f"forward.pre_activations[{k - 1}]", dtype)
    for k, Z in enumerate(forward.activations):
        _assert_namespace(Z, xp, f"forward.activations[{k}]", dtype)
    for layer in (1, 2):
        g = net.gradient(X, Z_target, layer=layer)
        for name in ("W", "b"):
            _assert_namespace(getattr(g, name), xp, f"g.{name}", dtype)
        for index, factor in enumerate(g.factors()):
            _assert_namespace(factor, xp, f"g.factors()[{index}]", dtype)
        _assert_namespace(singular_values(g.W), xp, "singular_values(g.W)", dtype)
        assert isinstance(numerical_rank(g.W), int)
        for formula in ("exact", "paper"):
            for wrt in ("W", "b"):
                h = net.hessian(X, Z_target, layer=layer, formula=formula, wrt=wrt)
                _assert_hessian_namespace(h, xp, f"hessian(layer={layer}, {formula}, {wrt})",
                                          dtype)


def test_rnn_round_trip(xp):
    case = rnn_case(RNN_SIZES[2], 2, 3, "sigmoid")
    net, X, Z_target = case.build(xp)
    dtype = X.dtype
    forward = net.forward(X)
    for k, Y in enumerate(forward.pre_activations, start=1):
        _assert_namespace(Y, xp, f"forward.pre_activations[{k - 1}]", dtype)
    for t in (2, None):
        g = net.gradient(X, Z_target, layer=1, t=t)
        for name in ("W", "U", "b"):
            _assert_namespace(getattr(g, name), xp, f"g.{name} (t={t})", dtype)
        for wrt in ("W", "U"):
            for index, factor in enumerate(g.factors(wrt)):
                _assert_namespace(factor, xp, f"g.factors({wrt!r})[{index}]", dtype)
        for wrt in ("W", "U", "b"):
            for formula in ("exact", "paper"):
                h = net.hessian(X, Z_target, layer=1, t=t, wrt=wrt, formula=formula)
                _assert_hessian_namespace(h, xp, f"hessian(t={t}, {wrt}, {formula})", dtype)
                if h.remainder is not None:
                    _assert_namespace(h.remainder, xp, "h.remainder", dtype)


def test_loss_is_a_python_float(xp):
    net, X, Z_target = fnn_case(FNN_SIZES[1], 2, "relu").build(xp)
    assert type(net.loss(X, Z_target)) is float
    rnn, X, Z_target = rnn_case(RNN_SIZES[1], 2, 3, "relu").build(xp)
    assert type(rnn.loss(X, Z_target, t=2)) is float


def test_float32_inputs_stay_float32(xp):
    """New arrays take the inputs' dtype (STYLE: no silent promotion)."""
    case = fnn_case(FNN_SIZES[2], 2, "sigmoid")
    weights, biases, X, Z_target = case.arrays(xp)
    f32 = xp.float32
    from hessian_core import FNN

    net = FNN([xp.astype(W, f32) for W in weights], [xp.astype(b, f32) for b in biases],
              activation="sigmoid")
    X, Z_target = xp.astype(X, f32), xp.astype(Z_target, f32)
    g = net.gradient(X, Z_target, layer=1)
    _assert_namespace(g.W, xp, "g.W", f32)
    _assert_hessian_namespace(net.hessian(X, Z_target, layer=1), xp, "float32 hessian", f32)


def test_mixing_namespaces_is_refused():
    """array-api-strict weights with a NumPy X: a ValueError that names X, not a silent copy."""
    array_api_strict = pytest.importorskip("array_api_strict")
    case = fnn_case(FNN_SIZES[1], 2, "relu")
    net, _, Z_target = case.build(array_api_strict)
    with pytest.raises(ValueError, match="X"):
        net.loss(case.X, Z_target)


def test_cupy_backend():
    """Says why CuPy did not run, or that it did (HESSIAN_LAB_BACKEND=cupy)."""
    if "cupy" not in active_backends():
        cupy, reason = cupy_or_reason()
        why = reason or "a GPU is present but was not asked for"
        pytest.skip(f"CuPy runs only with {BACKEND_VARIABLE}=cupy (make test-gpu); here: {why}")
    cupy, reason = cupy_or_reason()
    assert cupy is not None, reason
    net, X, Z_target = fnn_case(FNN_SIZES[1], 2, "relu").build(cupy)
    assert type(net.gradient(X, Z_target, layer=1).W) is cupy.ndarray


def test_import_does_not_import_cupy():
    code = "import hessian_core, sys; assert 'cupy' not in sys.modules, 'cupy was imported'"
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=root)
    assert result.returncode == 0, f"import hessian_core imported cupy:\n{result.stderr}"


def test_random_constructors_are_seeded_and_follow_like(xp):
    from hessian_core import FNN, RNN

    like = xp.asarray(np.zeros(1))
    for cls in (FNN, RNN):
        def build(seed, cls=cls):
            return cls.random((3, 4, 2), activation="tanh", output_activation="identity",
                              seed=seed, like=like)

        first, again, other = build(7), build(7), build(8)
        name = f"{cls.__name__}.random"
        assert first.layer_sizes == (3, 4, 2) and first.n_layers == 2, name
        assert first.activation == "tanh" and first.output_activation == "identity", name
        for k, shape in enumerate([(4, 3), (2, 4)]):
            _assert_namespace(first.weights[k], xp, f"{name} weights[{k}]")
            assert tuple(first.weights[k].shape) == shape, f"{name} weights[{k}]"
            assert np.array_equal(to_numpy(first.weights[k], xp), to_numpy(again.weights[k], xp)), (
                f"{name}: the same seed must give the same weights"
            )
        assert not np.array_equal(to_numpy(first.weights[0], xp), to_numpy(other.weights[0], xp))


def test_arrays_stay_on_their_device():
    """array-api-strict's second device stands in for a GPU: every array the core creates
    must be made on the inputs' device (no host round trips), and the results must equal
    those on the default device."""
    xp = pytest.importorskip("array_api_strict")
    from hessian_core import FNN, RNN

    device = xp.Device("device1")
    host = xp.asarray(0.0).device

    def on_device(array):
        return xp.asarray(array, device=device)

    def back(array, what):
        assert array.device == device, f"{what}: on {array.device}, expected {device}"
        return to_numpy(array.to_device(host), xp, what)

    fnn = fnn_case(FNN_SIZES[2], 3, "tanh")
    net = FNN([on_device(W) for W in fnn.weights], [on_device(b) for b in fnn.biases],
              activation="tanh")
    reference_net, X_host, Z_host = fnn.build(xp)
    X, Z_target = on_device(fnn.X), on_device(fnn.Z_target)
    assert net.loss(X, Z_target) == pytest.approx(reference_net.loss(X_host, Z_host), rel=1e-14)
    for formula in ("exact", "paper"):
        h = net.hessian(X, Z_target, layer=1, formula=formula)
        expected = reference_net.hessian(X_host, Z_host, layer=1, formula=formula)
        np.testing.assert_allclose(back(h.dense(), "dense()"), to_numpy(expected.dense(), xp),
                                   rtol=1e-13, atol=1e-15)
        back(h.eigvalsh(), "eigvalsh()")
        for form in ("terms", "norm"):
            for bound in h.weyl_bounds(form=form):
                back(bound, f"weyl_bounds({form!r})")
    back(net.gradient(X, Z_target, layer=2).W, "g.W")

    rnn = rnn_case(RNN_SIZES[2], 2, 3, "sigmoid")
    net = RNN([on_device(W) for W in rnn.weights], [on_device(U) for U in rnn.recurrent],
              [on_device(b) for b in rnn.biases], activation="sigmoid")
    X, Z_target = on_device(rnn.X), on_device(rnn.Z_target)
    g = net.gradient(X, Z_target, layer=1, t=None)
    for name in ("W", "U", "b"):
        back(getattr(g, name), f"g.{name}")
    for wrt in ("W", "U", "b"):
        for formula in ("exact", "paper"):
            h = net.hessian(X, Z_target, layer=1, t=3, wrt=wrt, formula=formula)
            back(h.dense(), f"H_{wrt} {formula} dense()")
            back(h.eigvalsh(), f"H_{wrt} {formula} eigvalsh()")
            for form in ("terms", "norm"):
                for bound in h.weyl_bounds(form=form):
                    back(bound, f"H_{wrt} {formula} weyl_bounds({form!r})")
