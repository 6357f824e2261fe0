"""Which array backends the core tests run on (the ``xp`` fixture lives in conftest.py).

Default: NumPy and array-api-strict. ``HESSIAN_LAB_BACKEND=NAME`` runs only that backend;
``HESSIAN_LAB_BACKEND=cupy`` (``make test-gpu``) runs the suite on CuPy.
"""

from __future__ import annotations

import importlib
import os

BACKENDS = ("numpy", "array_api_strict", "cupy")
BACKEND_VARIABLE = "HESSIAN_LAB_BACKEND"


def requested_backend() -> str | None:
    """The backend named by HESSIAN_LAB_BACKEND, None if unset; ValueError if unknown."""
    value = os.environ.get(BACKEND_VARIABLE, "").strip()
    if value and value not in BACKENDS:
        raise ValueError(f"{BACKEND_VARIABLE} must be one of {BACKENDS}, got {value!r}")
    return value or None


def active_backends() -> tuple[str, ...]:
    """The backends ``xp`` runs: the requested one, or NumPy and array-api-strict."""
    value = os.environ.get(BACKEND_VARIABLE, "").strip()
    return (value,) if value in BACKENDS else ("numpy", "array_api_strict")


def cupy_or_reason():
    """(cupy, None) when CuPy can compute on a GPU, else (None, why not)."""
    try:
        cupy = importlib.import_module("cupy")
    except Exception as error:  # ImportError, or a CUDA library that fails to load
        return None, f"cupy cannot be imported: {error}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        cupy.asarray([1.0]).sum().get()
    except Exception as error:
        return None, f"cupy is installed but no CUDA device is usable: {error}"
    if count < 1:
        return None, "cupy is installed but there is no CUDA device"
    return cupy, None
