"""The address is the state, both ways: Back and Forward show the settings of the address they
go to, and the address always holds the settings in force (never a refused value).
"""

from __future__ import annotations

import pytest

from tests.support.page import address, expect, reload

AXIS_LABELS_JS = """() => {
    const labels = [], seen = new Set();
    const text = (label) => label == null ? "" : (typeof label === "string" ? label : label.text);
    const visit = (view) => {
        if (!view || seen.has(view)) return;
        seen.add(view);
        const model = view.model;
        if (model && (model.type === "Figure" || model.type === "Plot")) {
            for (const axis of [...model.below, ...model.left]) labels.push(text(axis.axis_label));
        }
        for (const child of view.child_views || []) visit(child);
    };
    for (const root of Object.values(Bokeh.index)) visit(root);
    return labels;
}"""


def axis_labels(app) -> list[str]:
    """The axis labels of every Bokeh figure on the page, from BokehJS's models."""
    return app.page.evaluate(AXIS_LABELS_JS)


def active_tab(app):
    return app.page.locator(".view-tabs .bk-tab.bk-active")


@pytest.mark.browser
def test_back_and_forward_show_the_settings_of_the_address(open_app):
    app = open_app("?view=rank&seed=3")
    expect(active_tab(app)).to_have_text("Gradient rank")
    app.wait_until(lambda: address(app).get("view") == ["rank"], "view=rank in the address")
    app.show_view("spectrum")
    app.wait_until(lambda: address(app).get("view") == ["spectrum"],
                   "view=spectrum in the address")
    seed = app.page.locator(".bk-input-group").filter(has_text="seed").locator("input").first
    seed.fill("7")
    seed.press("Enter")
    app.wait_until(lambda: address(app).get("seed") == ["7"], "seed=7 in the address")

    app.page.go_back()
    app.wait_until(lambda: address(app).get("seed") == ["3"], "seed=3 after Back")
    expect(seed).to_have_value("3")
    expect(active_tab(app)).to_have_text("Spectrum")
    app.page.go_back()
    app.wait_until(lambda: address(app).get("view") == ["rank"], "view=rank after Back")
    expect(active_tab(app)).to_have_text("Gradient rank")
    app.page.go_forward()
    expect(active_tab(app)).to_have_text("Spectrum")
    assert address(app).get("view") == ["spectrum"]
    app.page.go_forward()
    expect(seed).to_have_value("7")
    assert address(app).get("seed") == ["7"]
    # the page was never reloaded: it is the same session, still able to train
    app.step()
    app.wait_for_steps(1)
    app.assert_no_errors()


@pytest.mark.browser
@pytest.mark.parametrize(("query", "name", "running"), [
    ("?architecture=3-8-x-1", "architecture", "2-8-8-1"),
    ("?view=bogus", "view", "training"),
    ("?learning_rate=abc", "learning_rate", "0.05"),
])
def test_the_address_holds_what_runs_after_a_refused_value(open_app, query, name, running):
    app = open_app(query)
    banner = app.page.locator(".settings-message, .architecture-message")
    expect(banner.filter(has_text=name).first).to_be_visible()
    app.wait_until(lambda: address(app).get(name, [running]) == [running],
                   f"{name}={running} (or no {name}) in the address")
    search = app.page.evaluate("() => window.location.search")
    refused = query.partition("=")[2]
    assert refused not in search and refused.replace("-", "%2D") not in search, search
    # the refusal is still said after the address was corrected
    expect(banner.filter(has_text=name).first).to_be_visible()
    app.assert_no_errors()


@pytest.mark.browser
def test_an_upload_is_shown_in_the_controls_and_the_address_and_a_reload_says_it_is_gone(
        open_app):
    app = open_app()
    rows = "\n".join(f"{i % 5},{(2 * i) % 7},{'xyz'[i % 3]}" for i in range(30))
    app.page.locator(".upload-csv input[type=file]").first.set_input_files(files=[{
        "name": "mine.csv", "mimeType": "text/csv",
        "buffer": f"height,weight,label\n{rows}\n".encode()}])
    expect(app.page.locator(".upload-message").first).to_contain_text("mine.csv in use")
    data = app.page.locator(".dataset select").first
    expect(data.locator("option:checked")).to_have_text("uploaded: mine.csv")
    expect(app.page.locator(".architecture-input input").first).to_have_value("2-8-8-3")
    app.wait_until(lambda: address(app).get("dataset") == ["upload"], "dataset=upload")
    assert address(app).get("classes") == ["3"]
    # the axes of the plane are the file's columns
    app.wait_until(lambda: {"height", "weight"} <= set(axis_labels(app)),
                   "the column names on the axes of the plane")

    reload(app)
    banner = app.page.locator(".settings-message").first
    expect(banner).to_contain_text("dataset")
    expect(banner).to_contain_text("not kept in the address")
    expect(app.page.locator(".upload-csv input[type=file]").first).to_be_attached()
    expect(app.page.locator(".upload-csv").first).to_be_visible()
    expect(data.locator("option:checked")).to_have_text("xor")
    app.wait_until(lambda: address(app).get("dataset") == ["xor"], "dataset=xor")
    app.assert_no_errors()


@pytest.mark.browser
def test_back_onto_another_lesson_shows_the_values_of_that_entry(open_app):
    """A lesson chosen, then changed by hand, then another lesson: Back shows the first lesson
    with the change, not the lesson's own values again."""
    from app.configuration.lessons import BY_KEY

    app = open_app("?lesson=rank-r")
    menu = app.page.locator(".lesson-select select").first
    architecture = app.page.locator(".architecture-input input").first
    expect(architecture).to_have_value("2-16-16-1")
    architecture.fill("2-12-12-1")
    architecture.press("Enter")
    app.wait_until(lambda: address(app).get("architecture") == ["2-12-12-1"],
                   "architecture=2-12-12-1 in the address")
    menu.select_option(label=BY_KEY["kronecker"].title)
    app.wait_until(lambda: address(app).get("lesson") == ["kronecker"], "lesson=kronecker")
    expect(architecture).to_have_value("2-4-4-1")

    app.page.go_back()
    app.wait_until(lambda: address(app).get("lesson") == ["rank-r"], "lesson=rank-r after Back")
    expect(menu.locator("option:checked")).to_have_text(BY_KEY["rank-r"].title)
    expect(architecture).to_have_value("2-12-12-1")
    expect(active_tab(app)).to_have_text("Gradient rank")
    assert address(app).get("architecture") == ["2-12-12-1"]
    app.page.go_forward()
    expect(architecture).to_have_value("2-4-4-1")
    expect(menu.locator("option:checked")).to_have_text(BY_KEY["kronecker"].title)
    app.assert_no_errors()


@pytest.mark.browser
def test_a_batch_typed_above_the_samples_is_refused_by_the_page(open_app):
    """The box stops at the number of samples and says so: the page keeps the batch in force,
    so no cut value comes back from the server to land in the box after the next number was
    typed (the box would then disagree with what runs and with the address)."""
    app = open_app("?samples=200")
    box = app.page.get_by_label("batch size r")
    expect(app.page.get_by_text("batch size r (1 to 200)")).to_be_visible()
    for typed in ("512", "100", "512", "30", "300"):  # quicker than the server answers
        box.fill(typed)
        box.press("Enter")
    box.press("Tab")
    app.wait_until(lambda: address(app).get("batch_size") == ["30"], "batch_size=30")
    expect(box).to_have_value("30")
    app.page.wait_for_timeout(1500)  # nothing from the server may overwrite it afterwards
    expect(box).to_have_value("30")
    assert address(app).get("batch_size") == ["30"]
    samples = app.page.get_by_label("samples")
    samples.fill("64")
    samples.press("Enter")
    expect(app.page.get_by_text("batch size r (1 to 64)")).to_be_visible()
    app.assert_no_errors()
