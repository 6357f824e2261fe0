"""The training pace in the page: the epoch counter beside the step counter, the watchable
default in the speed menu, and the "fastest" button, whose choice the address keeps."""

from __future__ import annotations

import pytest

from app.configuration.settings import Settings
from app.controls.sidebar import SPEEDS
from tests.support.page import address, expect

pytestmark = pytest.mark.browser
LABELS = {value: label for label, value in SPEEDS.items()}


def test_epochs_beside_steps_and_fastest_in_one_click(open_app):
    app = open_app()
    epoch = app.page.locator(".epoch-counter div").first
    expect(epoch).to_have_text("epoch 0.0")
    step_box, epoch_box = app.counter_locator.bounding_box(), epoch.bounding_box()
    assert abs(step_box["y"] - epoch_box["y"]) < 5, "the epochs are not beside the steps"
    speed = app.page.locator(".speed-select select").first
    default = Settings().speed
    assert default != 0 and speed.input_value() == LABELS[default]  # a watchable pace
    fastest = app.page.locator(".fastest-toggle button").first
    fastest.click()
    app.wait_until(lambda: address(app).get("speed") == ["0"], "speed=0 in the address")
    assert speed.input_value() == LABELS[0] == "fastest"
    app.play()
    app.wait_for_steps(100)
    app.play()  # pause
    expect(app.page.locator(".play-button button")).to_contain_text("Play")
    # 4 samples a step over the 200 training samples of the default data set
    steps = app.wait_until(lambda: app.step_count() == app.step_count() and app.step_count(),
                           "the counter to stay")
    expected = f"epoch {steps * 4 / 200:.1f}" if steps * 4 / 200 < 100 \
        else f"epoch {steps * 4 // 200}"
    app.wait_until(lambda: epoch.inner_text().strip() == expected,
                   f"the epoch counter to read {expected!r} at step {steps}")
    fastest.click()  # back to the default pace
    app.wait_until(lambda: address(app).get("speed", [str(default)]) == [str(default)],
                   "the default speed (or none) in the address")
    assert speed.input_value() == LABELS[default]
    app.assert_no_errors()
