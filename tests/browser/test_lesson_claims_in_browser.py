"""A lesson's claim in the served page after Play and Pause: the softmax table.

After some seconds of Play the largest eigenvalue of the softmax lesson's Hessian falls to
about 1e-4 while the exact zero of diag(p) - p p^T comes out at about -1e-16: the table must
still read none negative, m(n - 1) + 1 zero and M - 1 positive (``app/views/spectrum.py``).
"""

from __future__ import annotations

import pytest

from app.configuration.settings import Settings, parse_architecture
from tests.support.page import expect


def softmax_counts() -> tuple[int, int, int]:
    """(negative, zero, positive) that the mathematics gives the lesson's configuration."""
    settings = Settings()
    assert settings.apply({"lesson": "softmax-hessian"}) == {}
    sizes = parse_architecture(settings.architecture)
    k = settings.layer
    m, n = sizes[k], sizes[k - 1]
    assert k == len(sizes) - 1 and m == settings.classes  # the last level, one output a class
    return 0, m * (n - 1) + 1, settings.classes - 1


@pytest.mark.browser
def test_softmax_table_after_play_and_pause(open_app):
    expected = [str(count) for count in softmax_counts()]
    app = open_app("?lesson=softmax-hessian&speed=0")  # fastest: thousands of steps
    app.wait_for_drawn_view("spectrum")
    cells = app.page.locator(".spectrum-counts td")
    expect(cells).to_have_text(expected)
    app.play()
    expect(app.page.locator(".play-button button")).to_contain_text("Pause")
    app.wait_for_steps(2500, timeout_ms=180_000)  # what 1-2 s of Play do on a free machine
    app.play()  # pause
    expect(app.page.locator(".play-button button")).to_contain_text("Play")
    steps = app.settled_step_count()
    counts = app.page.locator(".spectrum-counts div").first
    expect(counts).to_contain_text("Zero means |λ| ≤ 10·N·ε·s")
    expect(counts).to_contain_text(f"predicts {expected[1]} zeros")
    expect(cells).to_have_text(expected)
    assert app.step_count() == steps >= 2500
    app.screenshot("lesson-softmax-after-play")
    app.assert_no_errors()
