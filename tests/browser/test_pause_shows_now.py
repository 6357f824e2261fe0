"""After Pause the page shows the model as it is: Step then reads exactly one step more.

While playing, the live loop holds frames back until the page receipts the ones it painted
(``app/live/loop.py``); the steps trained after the last frame drawn are owed to the page at
Pause and must reach it. On every view, FNN and RNN: Play a moment, Pause, read the
counter, Step, and the counter reads one more; in the training view the loss curve's last
point is that step too. The speed is limited (``?speed=``) so that the loss curve keeps
every step (``app.views.training.LOSS_POINTS``) over the whole test.
"""

from __future__ import annotations

import pytest

from app.configuration.settings import VIEWS
from tests.support.page import expect

from .conftest import ROUND_TRIP_MS

#: SGD steps per frame at most: some steps between two frames, few in all
SPEED = 8
#: how long each Play lasts (ms)
PLAY_MS = 500
#: the wait after Pause before the counter is read (ms): the final frame is owed at once
SETTLE_MS = 500


def pause_then_step(app, view: str) -> None:
    """Play, Pause, read the counter, Step: the counter (and in the training view the loss
    curve's last point) reads exactly one more."""
    button = app.page.locator(".play-button button")
    start = app.step_count()
    app.play()
    expect(button).to_contain_text("Pause", timeout=ROUND_TRIP_MS)
    app.wait_for_steps(start + 1)
    app.page.wait_for_timeout(PLAY_MS)
    app.play()
    expect(button).to_contain_text("Play", timeout=ROUND_TRIP_MS)
    app.page.wait_for_timeout(SETTLE_MS)
    paused = app.step_count()
    assert paused > start, f"{view}: Play trained nothing"
    if view == "training":
        app.wait_until(lambda: app.loss_curve()[-1][0] == paused,
                       f"the loss curve to end at the paused step {paused}")
    app.step()
    stepped = app.wait_until(lambda: (n := app.step_count()) != paused and n,
                             f"{view}: the counter to move from {paused} after Step")
    app.page.wait_for_timeout(300)  # nothing else may arrive: training is paused
    assert (stepped, app.step_count()) == (paused + 1, paused + 1), (
        f"{view}: paused at step {paused}, one Step later the page reads {stepped}")
    if view == "training":
        last = app.wait_until(lambda: app.loss_curve()[-1][0] == stepped and stepped,
                              f"the loss curve to end at step {stepped}")
        assert last == paused + 1


@pytest.mark.browser
@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_after_pause_one_step_reads_one_more_on_every_view(open_app, model):
    app = open_app(f"?model={model}&speed={SPEED}")
    for view in VIEWS + ("training",):  # the training view twice: first and last
        app.show_view(view)
        pause_then_step(app, view)
    app.assert_no_errors()
