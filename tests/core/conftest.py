"""Fixtures for the hessian_core tests.

``xp`` runs a test once per array backend: NumPy and array-api-strict always (the latter
catches code that silently falls back to NumPy), CuPy only when asked for with
``HESSIAN_LAB_BACKEND=cupy`` (``make test-gpu``). With that variable set to one backend
name, only that backend runs; if it is ``cupy`` and no CUDA device is usable, the run stops
at once with the reason instead of skipping.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

# tests/reference.py and the helper modules beside this file, whatever pytest's import mode.
_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

BACKENDS = ("numpy", "array_api_strict", "cupy")
BACKEND_VARIABLE = "HESSIAN_LAB_BACKEND"


def _requested_backend() -> str | None:
    value = os.environ.get(BACKEND_VARIABLE, "").strip()
    if value and value not in BACKENDS:
        raise pytest.UsageError(f"{BACKEND_VARIABLE} must be one of {BACKENDS}, got {value!r}")
    return value or None


def _cupy_or_reason():
    """(cupy, None) when CuPy can run on a GPU, else (None, why not)."""
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


def pytest_configure(config):
    if _requested_backend() == "cupy":
        cupy, reason = _cupy_or_reason()
        if cupy is None:
            raise pytest.UsageError(
                f"{BACKEND_VARIABLE}=cupy asks for the GPU backend, but {reason}"
            )


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array namespace a test runs in."""
    name = request.param
    requested = _requested_backend()
    if requested is not None and name != requested:
        pytest.skip(f"{BACKEND_VARIABLE}={requested}: only that backend runs")
    if name == "cupy":
        if requested != "cupy":
            pytest.skip(f"cupy runs only with {BACKEND_VARIABLE}=cupy (make test-gpu)")
        cupy, reason = _cupy_or_reason()
        if cupy is None:  # pytest_configure already stops the run; belt and braces
            pytest.fail(reason)
        return cupy
    return importlib.import_module(name)
