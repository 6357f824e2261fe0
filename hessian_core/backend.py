"""Array backend: the namespace is inferred from the inputs, never imported at the top.

Every numeric function in :mod:`hessian_core` finds its array module with
:func:`namespace_of` (``array_api_compat.array_namespace``), creates new arrays with the
inputs' dtype and device, and uses only the array API standard. NumPy arrays in give NumPy
arrays out; CuPy arrays in give CuPy arrays out; PyTorch tensors in give tensors of the same
dtype on the same device out (CPU or CUDA). CuPy and torch are imported by
``array_api_compat`` only when such an array is actually passed. :func:`to_numpy` is the one
place where data crosses to the host, for plotting and tests.

PyTorch: the core computes values, never an autograd graph. An input tensor that requires
grad (``X``, ``Z_target``, ``theta``, ``v``) is detached where it enters
(:func:`as_float_array`); ``FNN.from_torch`` (:mod:`hessian_core.torch_bridge`) detaches and
copies a model's parameters. Tensors given to the constructors directly should be plain
(``.detach()``): the results are the same, but torch would record every operation.

The validation helpers raise ``ValueError`` naming the offending argument and what is
allowed, so that a wrong shape never broadcasts silently.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

__all__ = [
    "namespace_of",
    "device_of",
    "diagonal_matrices",
    "transpose",
    "require_namespace",
    "to_numpy",
    "as_float_array",
    "require_finite",
    "require_shape",
    "require_choice",
    "require_int_in_range",
]


def namespace_of(*arrays: Any) -> Any:
    """The array API namespace shared by ``arrays`` (``None`` entries are ignored)."""
    present = [a for a in arrays if a is not None]
    try:
        return array_api_compat.array_namespace(*present)
    except TypeError as error:
        raise ValueError(
            "all arrays must come from one array library "
            f"(NumPy, CuPy, PyTorch, array-api-strict, ...): {error}"
        ) from None


def require_namespace(arrays: dict[str, Any]) -> Any:
    """The one namespace of the named ``arrays``; ``ValueError`` naming the first that differs."""
    names = list(arrays)
    xp = namespace_of(arrays[names[0]])
    for name in names[1:]:
        other = namespace_of(arrays[name])
        if other is not xp:
            raise ValueError(
                f"{name} must be an array of the same library as {names[0]} ({xp.__name__}), "
                f"got {type(arrays[name]).__module__}.{type(arrays[name]).__name__}"
            )
    return xp


def device_of(x: Any) -> Any:
    """The device of array ``x`` (new arrays are created there)."""
    return array_api_compat.device(x)


def transpose(x: Any) -> Any:
    """``x`` with its last two axes swapped, as ``matrix_transpose`` gives it: the array's own
    ``x.mT`` (the standard's attribute, one read) where it has one, else the namespace's
    function. Both are the same view, so results computed from it are the same bit for bit."""
    try:
        return x.mT
    except AttributeError:
        return namespace_of(x).matrix_transpose(x)


def diagonal_matrices(values: Any) -> Any:
    """Stack of diagonal matrices ``diag(v)`` from the last axis of ``values``."""
    xp = namespace_of(values)
    m = values.shape[-1]
    return values[..., :, None] * xp.eye(m, dtype=values.dtype, device=device_of(values))


def to_numpy(x: Any) -> Any:
    """Copy an array of any supported namespace to a NumPy array (host memory)."""
    import numpy as np

    if isinstance(x, np.ndarray):
        return x
    module = type(x).__module__
    if module.startswith("cupy"):
        return x.get()
    if module.startswith("torch"):
        return x.detach().cpu().numpy()
    try:
        return np.from_dlpack(x)
    except (TypeError, AttributeError, RuntimeError, BufferError):
        return np.asarray(x)


def as_float_array(value: Any, name: str, xp: Any, like: Any) -> Any:
    """``value`` as an array of ``xp`` with the dtype and device of ``like``.

    Arrays of another namespace are refused with a message naming ``name``; Python
    sequences and scalars are converted.
    """
    device = array_api_compat.device(like)
    if getattr(value, "requires_grad", False):  # a torch tensor in an autograd graph
        value = value.detach()
    if type(value) is type(like) and value.dtype == like.dtype:
        if array_api_compat.device(value) == device:  # what xp.asarray would hand back
            return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        try:
            value_xp = array_api_compat.array_namespace(value)
        except TypeError:
            value_xp = None
        if value_xp is not None and value_xp is not xp:
            if _is_numpy_namespace(xp) and _is_numpy_namespace(value_xp):
                pass
            else:
                raise ValueError(
                    f"{name} must be an array of the same library as the network's weights "
                    f"({xp.__name__}), got {type(value).__module__}.{type(value).__name__}"
                )
    try:
        return xp.asarray(value, dtype=like.dtype, device=device)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array: {error}") from None


def _is_numpy_namespace(xp: Any) -> bool:
    return array_api_compat.is_numpy_namespace(xp)


def require_finite(x: Any, name: str, xp: Any) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or infinity."""
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} must hold only finite values (found NaN or infinity)")


def require_shape(x: Any, name: str, expected: tuple[int | None, ...], meaning: str) -> None:
    """Raise ``ValueError`` unless ``x.shape`` matches ``expected`` (``None`` = any size)."""
    shape = tuple(x.shape)
    ok = len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected, strict=True)
    )
    if not ok:
        wanted = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} must have shape {wanted} ({meaning}), got {shape}")


def require_choice(value: Any, name: str, allowed: tuple[Any, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def require_int_in_range(value: Any, name: str, low: int, high: int) -> int:
    """``value`` as an int in ``low..high`` inclusive, or ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import operator

            value = operator.index(value)
        except TypeError:
            raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value}")
    return int(value)
