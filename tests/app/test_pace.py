"""The training pace: a default a class can watch, "fastest" one click away, epochs counted.

The default speed is a few hundred SGD steps a second at the scheduler's frame rate (about
TensorFlow Playground's pace), not "as fast as the machine allows"; the ``fastest-toggle``
button sets speed 0 and, pressed again, the default back; the epoch counter beside the step
counter reads samples seen / training samples.
"""

from __future__ import annotations

from app.configuration.settings import Settings
from app.controls.sidebar import FASTEST
from app.live.receipts import epoch_label
from app.live.scheduler import FRAME_RATE
from app.page.dashboard import Dashboard


def test_the_default_pace_is_a_few_hundred_steps_a_second():
    default = Settings().speed
    assert default != FASTEST
    assert 100 <= default * FRAME_RATE <= 1000, default * FRAME_RATE


def test_fastest_is_one_click_away_and_the_default_one_more():
    dashboard = Dashboard()
    default = dashboard.settings.speed
    assert not dashboard.sidebar.fastest_button.value
    dashboard.sidebar.fastest_button.value = True  # a click
    assert dashboard.settings.speed == FASTEST
    assert dashboard.sidebar.speed_select.value == FASTEST  # the menu says so too
    dashboard.sidebar.fastest_button.value = False
    assert dashboard.settings.speed == default
    dashboard.sidebar.speed_select.value = FASTEST  # the menu's choice shows on the button
    assert dashboard.sidebar.fastest_button.value
    dashboard.settings.speed = 3
    assert not dashboard.sidebar.fastest_button.value


def test_a_link_at_fastest_shows_the_button_pressed():
    assert Dashboard(speed=0).sidebar.fastest_button.value


def test_epochs_are_samples_seen_over_training_samples():
    dashboard = Dashboard(samples=200, batch_size=4, test_fraction=0.2)
    session = dashboard.session
    training_rows = session.data.size
    assert training_rows == 160
    assert session.epochs == 0
    session.train(60)
    assert session.samples_seen == 240
    assert session.epochs == 240 / training_rows
    dashboard.settings.batch_size = 8  # samples seen, not steps x the batch size of now
    session.train(10)
    assert session.samples_seen == 320 and session.epochs == 2.0
    dashboard.loop.show_readouts()
    assert dashboard.readouts.epoch == "epoch 2.0"
    dashboard.reset()
    assert session.epochs == 0


def test_the_epoch_label():
    assert epoch_label(0.0) == "epoch 0.0"
    assert epoch_label(99.94) == "epoch 99.9"
    assert epoch_label(250.7) == "epoch 250"
