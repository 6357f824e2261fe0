"""Changes while playing: the page's document stays whole, and Pause answers at once.

- A link whose values the server adjusts (refused or fitted values) changes the model while
  the page is loading its document; Play at once must leave no BokehJS error (a change of a
  model the page never received reads "reference p... isn't known").
- Settings changed every 200 ms through the page's widgets while training: they do not
  queue up behind each other, Pause shows within seconds, and afterwards the widgets and
  the address hold the same values.
"""

from __future__ import annotations

import time

import pytest

from tests.support.page import address, expect

#: links the server adjusts while the page loads (a refused value, a fitted architecture)
ADJUSTED_LINKS = (
    "?architecture=1-4-1&tau=x",
    "?architecture=1-4-1&wrt=U&seed=-3&tau=64&model=fnn",
    "?model=rnn&architecture=abc",
)
#: how long the settings keep changing (seconds), and how often
STORM_S = 8.0
STORM_EVERY_MS = 200
#: batch sizes typed in turn (beyond the data's 200 samples the page refuses them: the box
#: keeps the batch in force, app/controls/sidebar.py)
BATCHES = (8, 16, 512, 32, 200, 256, 64, 128)
#: the longest Pause may take to show after the changes stop (ms)
PAUSE_SHOWN_MS = 5_000


@pytest.mark.browser
@pytest.mark.parametrize("query", ADJUSTED_LINKS)
def test_an_adjusted_link_played_at_once_breaks_nothing(open_app, query):
    app = open_app(query)
    app.play()  # at once: the page may still be taking in the adjusted model
    app.wait_for_steps(2)
    app.play()
    expect(app.page.locator(".play-button button")).to_contain_text("Play")
    app.page.wait_for_timeout(1000)  # the frames owed at Pause arrive
    app.assert_no_errors()


def address_values(app) -> dict[str, str]:
    return {name: values[-1] for name, values in address(app).items()}


@pytest.mark.browser
def test_settings_changed_every_200_ms_while_playing_then_pause_shows_at_once(open_app):
    app = open_app()
    button = app.page.locator(".play-button button")
    batch = app.page.get_by_label("batch size r")
    app.play()
    expect(button).to_contain_text("Pause")
    app.wait_for_steps(1)
    start, change = time.monotonic(), 0
    while time.monotonic() - start < STORM_S:
        batch.fill(str(BATCHES[change % len(BATCHES)]))
        batch.press("Enter")
        change += 1
        app.page.wait_for_timeout(STORM_EVERY_MS)
    app.play()
    expect(button).to_contain_text("Play", timeout=PAUSE_SHOWN_MS)
    batch.press("Tab")  # a refused number stays typed in the box until it loses the focus
    seen = {}

    def agree():
        seen["address"] = address = address_values(app).get("batch_size")
        seen["box"] = shown = batch.input_value()
        return address == shown and shown

    try:
        shown = app.wait_until(agree, "the batch box and the address to agree",
                               timeout_ms=PAUSE_SHOWN_MS)
    except AssertionError as error:
        raise AssertionError(f"{error}: {seen}") from None
    typed = [BATCHES[i % len(BATCHES)] for i in range(change)]
    assert int(shown) == [size for size in typed if size <= 200][-1]  # the last one taken
    app.assert_no_errors()
