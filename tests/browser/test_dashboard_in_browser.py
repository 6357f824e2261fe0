"""The served dashboard driven in headless Chromium (issue 3, "Tests").

Every test opens its own browser context, so its own Bokeh session on the shared
``panel serve app`` (see conftest.py). Waits are on conditions read from the page: the
step counter's text, BokehJS's copies of the plot data, the pixels of the plot canvases.
Screenshots go to /tmp/browser-*.png for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from app.configuration.settings import VIEWS
from tests.support.page import expect

from .conftest import ROUND_TRIP_MS

# The default model (app/configuration/settings.py): FNN 2-8-8-1; RNN on the adding task (2
# inputs), two
# hidden levels of width 8; the views show level k = 2.
DEFAULT_ARCHITECTURE = "2-8-8-1"


def hessian_side(n_in: int, m: int) -> tuple[int, int]:
    """Side of H_W^(k) for a level with n inputs and m units: (m n) x (m n)."""
    return (m * n_in, m * n_in)


@pytest.mark.browser
def test_page_loads_without_console_errors(open_app):
    app = open_app()
    expect(app.page).to_have_title("hessian-lab")
    expect(app.counter_locator).to_have_text("step 0")
    expect(app.page.locator(".loss-value div").first).to_have_text(re.compile(r"loss \d"))
    # the first view is drawn: the loss curve (its initial point) and the decision boundary
    app.wait_for_drawn_view("training")
    assert app.figure("training", "loss E") is not None
    assert app.figure("training", "decision boundary") is not None
    app.screenshot("loaded")
    app.assert_no_errors()


@pytest.mark.browser
def test_play_advances_the_step_counter_and_the_loss_curve(open_app):
    app = open_app()
    app.wait_for_drawn_view("training")
    loss_before = app.loss_text()
    assert len(app.loss_curve()) == 1  # the loss of the initial weights
    app.play()
    expect(app.page.locator(".play-button button")).to_contain_text("Pause")
    first = app.wait_for_steps(3)
    app.wait_for_steps(first + 5)  # still advancing
    curve = app.wait_until(
        lambda: (c := app.loss_curve()) and len(c) >= 6 and c,
        "the loss curve to receive new points",
    )
    steps = [step for step, _ in curve]
    assert steps == sorted(steps) and steps[-1] >= 5, steps
    assert len({loss for _, loss in curve}) > 1, "the loss curve is flat"
    app.wait_until(lambda: app.loss_text() != loss_before, "the loss readout to change")
    app.screenshot("playing")
    app.play()  # pause
    expect(app.page.locator(".play-button button")).to_contain_text("Play")
    app.assert_no_errors()


@pytest.mark.browser
@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_every_view_renders_a_plot(open_app, model):
    app = open_app("" if model == "fnn" else "?model=rnn")
    app.step()
    app.wait_for_steps(1)
    app.step()  # two steps: the "over training" plots have points
    app.wait_for_steps(2)
    for key in VIEWS:
        app.show_view(key)
        expect(app.page.locator(".view-tabs .bk-tab.bk-active")).to_have_count(1)
        active = app.page.locator(".view-tabs .bk-tab.bk-active").first
        figures = app.wait_for_drawn_view(key)
        assert active.inner_text().strip(), "no active tab"
        assert figures, key
        note = app.note(key)
        assert "Could not draw" not in note, note
        app.screenshot(f"{model}-{key}")
    app.assert_no_errors()


@pytest.mark.browser
def test_switching_model_and_architecture_rebuilds_the_views(open_app):
    app = open_app("?view=kronecker")
    hessian = "Hessian H⁽ᵏ⁾"
    app.wait_until(
        lambda: app.image_shape("kronecker", hessian) == hessian_side(8, 8),
        "the 64 x 64 Hessian of level 2 of 2-8-8-1",
    )
    app.step()
    app.wait_for_steps(1)

    app.set_architecture("2-5-3-1")
    app.wait_until(
        lambda: app.image_shape("kronecker", hessian) == hessian_side(5, 3),
        "the Kronecker view to show the 15 x 15 Hessian of level 2 of 2-5-3-1",
    )
    expect(app.counter_locator).to_have_text("step 0")  # a new model starts at step 0
    app.screenshot("architecture-2-5-3-1")

    app.step()
    app.wait_for_steps(1)
    app.click(".model-kind button", "RNN")
    # RNN on the adding task: two hidden levels of width 8, so H_W^(2) is 64 x 64
    app.wait_until(
        lambda: app.image_shape("kronecker", hessian) == hessian_side(8, 8),
        "the Kronecker view to show the RNN's 64 x 64 Hessian",
    )
    expect(app.counter_locator).to_have_text("step 0")
    expect(app.page.locator(".architecture-input")).to_be_hidden()
    expect(app.page.get_by_text("hidden width m:")).to_be_visible()
    app.show_view("training")
    app.wait_until(
        lambda: app.figure("training", "one sequence") is not None,
        "the training view to show the RNN's sequence plot",
    )
    app.wait_until(lambda: "layers 2-8-8-1" in app.note("training"), "the RNN's layer sizes")
    assert app.figure("training", "decision boundary") is None
    app.screenshot("switched-to-rnn")

    app.click(".model-kind button", "FNN")
    app.wait_until(
        lambda: app.figure("training", "decision boundary") is not None,
        "the training view to show the FNN's decision boundary again",
    )
    app.wait_until(
        lambda: "layers 2-5-3-1" in app.note("training"),
        "the FNN rebuilt with the architecture in the box",
    )
    assert app.figure("training", "one sequence") is None
    app.assert_no_errors()


@pytest.mark.browser
def test_invalid_architecture_shows_a_message_and_keeps_training(open_app):
    app = open_app()
    app.play()
    app.wait_for_steps(3)
    app.set_architecture("2-x-1")
    message = app.page.locator(".architecture-message div").first
    expect(message).to_be_visible()
    expect(message).to_contain_text("not a positive whole number")
    expect(message).to_contain_text(f"Still training {DEFAULT_ARCHITECTURE}")
    # next to its control: right below the architecture box, in the same column
    box = app.page.locator(".architecture-input").first.bounding_box()
    below = message.bounding_box()
    assert 0 <= below["y"] - (box["y"] + box["height"]) < 60, (box, below)
    assert abs(below["x"] - box["x"]) < 40, (box, below)
    app.screenshot("invalid-architecture")

    # the previous model keeps training: the counter goes on, the loss curve keeps growing
    refused_at = app.step_count()
    app.wait_for_steps(refused_at + 5)
    # (the curve's length saws between LOSS_POINTS / 2 and LOSS_POINTS as it is thinned:
    # its last step is what grows)
    last_step = app.loss_curve()[-1][0]
    app.wait_until(lambda: app.loss_curve()[-1][0] > last_step,
                   "later steps on the loss curve")
    app.wait_until(
        lambda: f"layers {DEFAULT_ARCHITECTURE}" in app.note("training"),
        "the training view to still describe the old model",
    )

    # a valid architecture clears the message and rebuilds
    app.set_architecture("2-4-1")
    expect(app.page.locator(".architecture-message")).to_be_hidden(timeout=ROUND_TRIP_MS)
    app.wait_until(lambda: "layers 2-4-1" in app.note("training"), "the 2-4-1 model")
    app.play()  # pause
    app.assert_no_errors()


URL_SETTINGS = (
    "?model=rnn&tau=6&hidden_width=5&momentum=0.5&learning_rate=0.1&seed=3"
    "&view=kronecker&formula=paper"
)


@pytest.mark.browser
def test_url_reproduces_the_settings(open_app):
    app = open_app(URL_SETTINGS)
    page = app.page
    expect(page.locator(".model-kind .bk-active")).to_have_text("RNN")
    expect(page.locator(".formula .bk-active")).to_have_text("paper")
    expect(page.locator(".view-tabs .bk-tab.bk-active")).to_have_text("Kronecker structure")
    for label in ("sequence length τ: 6", "hidden width m: 5", "Momentum: 0.50"):
        expect(page.get_by_text(label, exact=True)).to_be_visible()
    expect(page.locator(".learning-rate").get_by_text("0.1", exact=True)).to_be_visible()
    # the model itself follows: H_W^(2) of the RNN with two hidden levels of width 5 is
    # 25 x 25, a sum over tau x tau = 6 x 6 time pairs
    app.wait_until(
        lambda: app.image_shape("kronecker", "Hessian H⁽ᵏ⁾") == hessian_side(5, 5),
        "the 25 x 25 Hessian of level 2 of an RNN of width 5",
    )
    app.wait_until(
        lambda: "6×6 = 36 Kronecker terms" in app.note("kronecker"),
        "the note to count tau x tau = 36 terms",
    )
    for value in ("model=rnn", "tau=6", "hidden_width=5", "seed=3", "formula=paper"):
        assert value in page.url, page.url
    app.screenshot("url-settings")

    # a link reproduces the configuration: a second session from the same URL starts at the
    # same loss (same seed, data and weights), and takes the same first step
    loss = app.loss_text()
    again = open_app(URL_SETTINGS)
    expect(again.page.locator(".loss-value div").first).to_have_text(loss)
    for one in (app, again):
        one.step()
        one.wait_for_steps(1)
    app.wait_until(
        lambda: app.loss_text() == again.loss_text() != loss,
        "both sessions to show the same loss after one step",
    )
    app.assert_no_errors()
    again.assert_no_errors()


@pytest.mark.browser
def test_bad_url_values_are_reported_and_the_model_still_trains(open_app):
    app = open_app("?momentum=lots&architecture=2-x-1&tau=5")
    settings_message = app.page.locator(".settings-message div").first
    expect(settings_message).to_contain_text("momentum")
    expect(settings_message).to_contain_text("'lots' refused")
    expect(app.page.locator(".architecture-message div").first).to_contain_text(
        "not a positive whole number"
    )
    # the good value was applied, the bad ones left at their defaults
    expect(app.page.get_by_text("sequence length τ: 5", exact=True)).to_be_attached()
    expect(app.page.get_by_text("Momentum: 0.90", exact=True)).to_be_visible()
    app.screenshot("bad-url")
    app.step()
    app.wait_for_steps(1)
    app.wait_until(
        lambda: f"layers {DEFAULT_ARCHITECTURE}" in app.note("training"),
        "the default model to train",
    )
    app.assert_no_errors()


@pytest.mark.browser
def test_two_pages_train_independently(open_app):
    one, two = open_app(), open_app()
    one.play()
    one.wait_for_steps(10)
    # the second page's session has not moved: counter and loss curve as loaded
    expect(two.counter_locator).to_have_text("step 0")
    # the view is drawn in the page's first frame, once it has loaded: its initial point only
    two.wait_until(lambda: two.loss_curve(), "the second page's first frame")
    assert len(two.loss_curve()) == 1
    two.step()
    two.wait_for_steps(1)
    running = one.step_count()
    one.wait_for_steps(running + 5)  # the first keeps going on its own
    expect(two.counter_locator).to_have_text("step 1")
    expect(two.page.locator(".play-button button")).to_contain_text("Play")
    one.screenshot("two-pages-first")
    two.screenshot("two-pages-second")
    one.play()  # pause
    expect(one.page.locator(".play-button button")).to_contain_text("Play")
    one.assert_no_errors()
    two.assert_no_errors()


COUNTER_CHANGES_JS = """async ([selector, milliseconds]) => {
    // every text the step counter shows, recorded by a MutationObserver (no change missed)
    const find = (root) => {
        for (const element of root.querySelectorAll('*')) {
            if (element.classList && element.classList.contains('step-counter')) {
                return element;
            }
            if (element.shadowRoot) {
                const found = find(element.shadowRoot);
                if (found) return found;
            }
        }
        return null;
    };
    const host = find(document);
    const within = host.shadowRoot || host;
    const text = () => {
        const inner = within.querySelector(selector);
        return inner ? inner.innerText : "";
    };
    const texts = [text()];
    const observer = new MutationObserver(() => texts.push(text()));
    observer.observe(within, {childList: true, characterData: true, subtree: true});
    await new Promise((resolve) => setTimeout(resolve, milliseconds));
    observer.disconnect();
    return texts;
}"""


def counter_steps(app, milliseconds: int) -> list[int]:
    texts = app.page.evaluate(COUNTER_CHANGES_JS, ["div", milliseconds])
    steps = []
    for text in texts:
        match = re.fullmatch(r"\s*step (\d+)\s*", text)
        if match and (not steps or int(match.group(1)) != steps[-1]):
            steps.append(int(match.group(1)))
    return steps


@pytest.mark.browser
def test_speed_control_sets_steps_per_update_and_data_choice_is_above_the_fold(open_app):
    app = open_app(viewport=(1024, 768))
    speed = app.page.locator(".speed-select select").first
    expect(speed).to_be_visible()
    play = app.page.locator(".play-button button").first.bounding_box()
    assert speed.bounding_box()["y"] - (play["y"] + play["height"]) < 80  # next to Play
    data = app.page.locator(".dataset select").first
    expect(data).to_be_visible()
    box = data.bounding_box()
    assert box["y"] + box["height"] <= 768, box  # seen without scrolling at 1024x768
    app.screenshot("speed-and-data-1024")

    speed.select_option(label="1 step / frame")
    app.play()
    app.wait_for_steps(3)
    steps = counter_steps(app, 3000)
    assert len(steps) >= 3, steps
    assert all(b - a == 1 for a, b in zip(steps, steps[1:], strict=False)), steps
    speed.select_option(label="fastest")
    steps = counter_steps(app, 3000)
    assert len(steps) >= 3 and max(b - a for a, b in zip(steps, steps[1:], strict=False)) > 1, (
        steps)  # many SGD steps between two visible updates
    app.play()  # pause
    app.assert_no_errors()
