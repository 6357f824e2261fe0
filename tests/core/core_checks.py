"""Tolerances and comparison helpers for the core tests: every tolerance lives here.

Each ``assert_*`` helper fails with the offending entries printed (largest error, its index,
the two values there, and how many entries are out of tolerance), so a red test says what
is wrong without a debugger.
"""

from __future__ import annotations

import numpy as np

# --- tolerances (all relative to max(1, max|reference|) unless said otherwise) ---------------

#: loss and forward pass vs the reference forward pass: the same arithmetic, reordered.
LOSS_RTOL = 1e-12
#: gradients vs the five-point finite-difference gradient (its error is ~1e-11).
GRADIENT_RTOL = 1e-8
#: dense Hessians vs the Richardson four-point finite-difference Hessian (error ~3e-9).
HESSIAN_RTOL = 1e-6
#: identities that hold to round-off inside the core: V @ Z.T == G, symmetry, Kronecker
#: reconstruction, paper == exact where the paper's derivation holds.
ROUNDOFF_RTOL = 1e-12
#: eigvalsh() vs numpy.linalg.eigvalsh(dense()), relative to the spectral radius.
EIGENVALUE_RTOL = 1e-9
#: Weyl containment slack, relative to max(1, spectral radius).
WEYL_RTOL = 1e-9
#: |lambda| below this times max(1, spectral radius) counts as a zero eigenvalue.
ZERO_EIGENVALUE_RTOL = 1e-9
#: smallest relative Frobenius difference ||paper - exact|| / ||exact|| that counts as an
#: erratum. Measured differences are 1e-2 or more; agreement is at round-off (~1e-15).
ERRATUM_MIN_RELATIVE_DIFFERENCE = 1e-3


def array_type(xp) -> type:
    """The array type of namespace ``xp`` (numpy.ndarray, array_api_strict Array, ...)."""
    return type(xp.asarray(0.0))


def to_numpy(x, xp, what: str = "array") -> np.ndarray:
    """Check that ``x`` lives in namespace ``xp`` (backend round trip), then copy to NumPy."""
    expected = array_type(xp)
    assert type(x) is expected, (
        f"{what}: expected an array of the input namespace {xp.__name__} "
        f"({expected.__module__}.{expected.__name__}), got {type(x).__module__}.{type(x).__name__}"
    )
    if isinstance(x, np.ndarray):
        return np.array(x, dtype=np.float64)
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return np.asarray(x.get(), dtype=np.float64)
    return np.array(np.from_dlpack(x), dtype=np.float64)


def _describe(actual: np.ndarray, expected: np.ndarray, error: np.ndarray, bad: np.ndarray) -> str:
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    lines = [
        f"max abs error {error[worst]:.3e} at index {tuple(int(i) for i in worst)}: "
        f"actual {float(actual[worst])!r}, expected {float(expected[worst])!r}",
        f"{int(bad.sum())} of {bad.size} entries out of tolerance; max |expected| "
        f"{np.max(np.abs(expected)) if expected.size else 0.0:.3e}",
    ]
    order = np.argsort(error, axis=None)[::-1][: min(5, int(bad.sum()))]
    for flat in order:
        index = np.unravel_index(int(flat), error.shape)
        lines.append(
            f"  {tuple(int(i) for i in index)}: actual {actual[index]: .12e} "
            f"expected {expected[index]: .12e} error {error[index]:.3e}"
        )
    return "\n".join(lines)


def assert_close(actual, expected, rtol: float, what: str, scale: float | None = None) -> None:
    """|actual - expected| <= rtol * max(1, max|expected|) (or rtol * scale) entry-wise."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} != expected shape {expected.shape}"
    )
    assert np.all(np.isfinite(actual)), f"{what}: non-finite entries in {actual!r}"
    if scale is None:
        scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    tolerance = rtol * scale
    error = np.abs(actual - expected)
    bad = error > tolerance
    if bad.any():
        raise AssertionError(
            f"{what}: not within {rtol:.0e} x scale {scale:.3e} = {tolerance:.3e}\n"
            + _describe(actual, expected, error, bad)
        )


def spectral_scale(eigenvalues) -> float:
    eigenvalues = np.asarray(eigenvalues)
    return max(1.0, float(np.max(np.abs(eigenvalues)))) if eigenvalues.size else 1.0


def assert_inside(lower, values, upper, what: str) -> None:
    """lower <= values <= upper entry-wise, with slack WEYL_RTOL x spectral scale."""
    lower, values, upper = (np.asarray(a, dtype=np.float64) for a in (lower, values, upper))
    assert lower.shape == values.shape == upper.shape, (
        f"{what}: shapes lower {lower.shape}, eigenvalues {values.shape}, "
        f"upper {upper.shape} differ"
    )
    slack = WEYL_RTOL * spectral_scale(values)
    below = values < lower - slack
    above = values > upper + slack
    if below.any() or above.any():
        lines = [f"{what}: eigenvalues outside their bounds (slack {slack:.1e})"]
        for q in np.flatnonzero(below | above)[:8]:
            lines.append(
                f"  q={q}: lower {lower[q]: .12e} <= lambda {values[q]: .12e} "
                f"<= upper {upper[q]: .12e}?"
            )
        raise AssertionError("\n".join(lines))


def relative_difference(a, b) -> float:
    """||a - b||_F / max(||b||_F, tiny)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))
