"""The classification controls in headless Chromium: loss, classes and features from a link,
the feature buttons, the test-data toggle, weight decay in the spectrum, the network tab and
the CSV upload (a good file, a bad file that leaves the model training, and back).

Each test opens its own browser context (its own session) on the shared server of
conftest.py; waits are on what the page shows.
"""

from __future__ import annotations

import pytest

from tests.support.page import expect

CLASSES_LINK = ("?dataset=blobs&classes=3&loss=cross_entropy&test_fraction=0.2"
                "&features=x1,x2,x1_x2")
#: visibility of the test points (the hollow triangles of the regions plot), from BokehJS
TEST_POINTS_JS = """() => {
    for (const doc of Bokeh.documents) {
        for (const model of doc.all_models) {
            if (model.type === "GlyphRenderer" && model.glyph.type === "Scatter"
                    && model.glyph.marker && model.glyph.marker.value === "triangle"
                    && model.glyph.fill_color && model.glyph.fill_color.value === "white") {
                return model.visible;
            }
        }
    }
    return null;
}"""


def architecture(app) -> str:
    return app.page.locator(".architecture-input input").first.input_value()


@pytest.mark.browser
def test_link_with_classes_trains_and_shows_test_accuracy(open_app):
    app = open_app(CLASSES_LINK)
    assert architecture(app) == "3-8-8-3"
    summary = app.page.locator(".metrics-summary div").first
    expect(summary).to_contain_text("test: loss")
    app.step()
    app.wait_for_steps(1)
    figures = app.wait_for_drawn_view("training")
    types = {glyph["type"] for figure in figures for glyph in figure["glyphs"]}
    assert "ImageRGBA" in types, types
    assert app.page.evaluate(TEST_POINTS_JS) is True
    app.click(".show-test input")
    app.wait_until(lambda: app.page.evaluate(TEST_POINTS_JS) is False,
                   "the test points to be hidden")
    expect(app.page.locator(".loss-choice .bk-active")).to_have_text("cross-entropy (softmax)")
    app.screenshot("beyond-classes")
    app.assert_no_errors()


@pytest.mark.browser
def test_feature_buttons_and_loss_change_the_widths(open_app):
    app = open_app(CLASSES_LINK)
    app.click(".feature-choice button", "x₁x₂")  # off: N = 2
    app.wait_until(lambda: architecture(app) == "2-8-8-3", "N = 2 in the architecture")
    app.click(".feature-choice button", "sin(πx₁)")  # on: N = 3
    app.wait_until(lambda: architecture(app) == "3-8-8-3", "N = 3 in the architecture")
    app.click(".classes-slider .noUi-handle")
    app.page.keyboard.press("ArrowRight")  # 4 classes: M = 4
    app.wait_until(lambda: architecture(app) == "3-8-8-4", "M = 4 in the architecture")
    app.step()
    app.wait_for_steps(1)
    assert "ImageRGBA" in {glyph["type"] for figure in app.wait_for_drawn_view("training")
                           for glyph in figure["glyphs"]}
    app.click(".loss-choice button", "squared (paper)")
    expect(app.page.locator(".loss-choice .bk-active")).to_have_text("squared (paper)")
    app.assert_no_errors()


@pytest.mark.browser
def test_weight_decay_shows_in_the_spectrum(open_app):
    app = open_app("?view=spectrum&scope=sample&activation=tanh")
    app.wait_for_drawn_view("spectrum")
    handle = app.page.locator(".weight-decay .noUi-handle").first
    handle.click()
    app.page.keyboard.press("End")  # the largest stop, lambda_wd = 1
    counts = app.page.locator(".spectrum-counts div").first
    expect(counts).to_contain_text("Weight decay λ_wd = 1")
    expect(counts).to_contain_text("zero eigenvalues now sit at λ_wd")
    app.screenshot("beyond-weight-decay")
    app.assert_no_errors()


@pytest.mark.browser
def test_network_tab_draws_heatmaps_and_edges(open_app):
    app = open_app("?view=network")
    figures = app.wait_for_drawn_view("network")
    glyphs = {glyph["type"]: glyph for figure in figures for glyph in figure["glyphs"]}
    assert glyphs["Image"]["rows"] == 2 + 8 + 8 + 1  # one heatmap per unit
    assert glyphs["Segment"]["rows"] == 2 * 8 + 8 * 8 + 8  # one edge per weight
    app.click(".network-quantity button", "Hessian diagonal")
    expect(app.page.locator(".view-network").get_by_text("diagonal of each level's Hessian")
           ).to_be_visible()
    app.screenshot("beyond-network")
    app.assert_no_errors()


@pytest.mark.browser
def test_upload_good_and_bad_files(open_app):
    app = open_app("")
    file_input = app.page.locator(".upload-csv input[type=file]").first
    message = app.page.locator(".upload-message div").first
    good = "u,v,w,label\n" + "\n".join(f"{i % 7},{(3 * i) % 5},{i % 3},{'abc'[i % 3]}"
                                       for i in range(40))
    file_input.set_input_files(files=[{"name": "mine.csv", "mimeType": "text/csv",
                                       "buffer": good.encode()}])
    expect(message).to_contain_text("mine.csv in use: 40 rows, 3 features")
    app.step()
    app.wait_for_steps(1)
    app.play()
    app.wait_for_steps(5)
    file_input.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv",
                                       "buffer": b"u,v,label\n1,,a\n2,3,b\n"}])
    expect(message).to_contain_text("bad.csv not used: row 2, column 'v': missing value")
    before = app.step_count()
    app.wait_for_steps(before + 5)  # the model goes on training
    app.click(".upload-clear button")
    expect(message).to_contain_text("Back to the built-in data set")
    app.play()  # pause
    app.assert_no_errors()
