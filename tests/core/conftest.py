"""Fixtures for the hessian_core tests.

``xp`` runs a test once per array backend: NumPy and array-api-strict by default (the latter
catches code that silently falls back to NumPy). ``HESSIAN_LAB_BACKEND=NAME`` runs only that
backend; with ``HESSIAN_LAB_BACKEND=cupy`` (``make test-gpu``) the suite runs on CuPy, and if
no CUDA device is usable the run stops at once with the reason instead of skipping. Without
it CuPy is not parametrized: ``test_backends.py::test_cupy_backend`` is the one test that
reports CuPy as skipped, with the reason.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

# tests/reference.py (as ``reference`` or ``tests.reference``) and the helper modules beside
# this file, whatever pytest's import mode and whether it runs as ``pytest`` or ``python -m``.
_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parent, _HERE.parent.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from core_backends import (  # noqa: E402  (needs the path above)
    BACKEND_VARIABLE,
    active_backends,
    cupy_or_reason,
    requested_backend,
)


def pytest_configure(config):
    try:
        requested = requested_backend()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if requested == "cupy":
        cupy, reason = cupy_or_reason()
        if cupy is None:
            raise pytest.UsageError(
                f"{BACKEND_VARIABLE}=cupy asks for the GPU backend, but {reason}"
            )


@pytest.fixture(params=active_backends())
def xp(request):
    """The array namespace a test runs in."""
    if request.param == "cupy":
        cupy, reason = cupy_or_reason()
        if cupy is None:  # pytest_configure already stopped the run; belt and braces
            pytest.fail(reason)
        return cupy
    return importlib.import_module(request.param)
