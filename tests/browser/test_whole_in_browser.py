"""The Whole Hessian view and the edge of stability lesson in headless Chromium: both open
from a link, draw the matrix and the spectra with no page errors, and after Play the
sharpness line gains points.
"""

from __future__ import annotations

import os

import pytest

try:
    import playwright.sync_api  # noqa: F401
except ImportError:  # the browser fixture says why: a failure in CI, a skip elsewhere
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        raise
    pytest.skip("the Python package playwright is not installed", allow_module_level=True)

SHARPNESS = "sharpness over training"


def sharpness_points(app) -> int:
    figure = app.figure("whole", SHARPNESS)
    return max((glyph["rows"] for glyph in (figure or {}).get("glyphs", [])), default=0)


@pytest.mark.browser
@pytest.mark.parametrize(("query", "side"), [
    ("?view=whole", 105),  # 2-8-8-1: P = 105, drawn cell by cell
    ("?lesson=edge-of-stability", 169),  # 2-16-16-1: P = 337, means of 2x2 cells
])
def test_whole_view_draws_and_its_sharpness_line_grows_on_play(open_app, query, side):
    app = open_app(query)
    app.wait_for_drawn_view("whole")
    app.wait_until(lambda: app.image_shape("whole", "whole Hessian") == (side, side),
                   f"the whole Hessian drawn as a {side}x{side} image")
    spectra = app.figure("whole", "sorted eigenvalues of H and of GGN")
    assert spectra and max(glyph["rows"] for glyph in spectra["glyphs"]) > 1
    assert "Beyond the paper" in app.note("whole")
    before = sharpness_points(app)
    assert before >= 1
    app.play()
    app.wait_for_steps(50)
    app.wait_until(lambda: sharpness_points(app) >= before + 2,
                   "two more points on the sharpness line")
    app.play()  # pause
    app.screenshot(f"whole-{query.strip('?').replace('=', '-')}")
    app.assert_no_errors()
