"""Playground's conveniences clicked in a real page: a data-set thumbnail, Regenerate data,
the +/- buttons beside the network diagram, "discretize output", the menu of round learning
rates, and L1 (from a link, and refused by name when bad). Each change reaches the address.
"""

from __future__ import annotations

import pytest

from tests.support.page import address, expect, reload


@pytest.mark.browser
def test_thumbnail_and_regenerate_change_the_data_and_the_address(open_app):
    app = open_app()
    thumbnail = app.page.locator(".dataset-thumb-circles button").first
    expect(app.page.locator(".dataset-thumb-xor button").first).to_have_class(
        "bk-btn bk-btn-primary")
    thumbnail.click()
    data = app.page.locator(".dataset select").first
    expect(data.locator("option:checked")).to_have_text("circles")
    expect(thumbnail).to_have_class("bk-btn bk-btn-primary")  # highlighted
    app.wait_until(lambda: address(app).get("dataset") == ["circles"],
                   "dataset=circles in the address")
    app.step()
    app.wait_for_steps(1)
    app.click(".regenerate-data button")
    app.wait_until(lambda: address(app).get("data_seed") == ["1"], "data_seed=1 in the address")
    expect(app.page.locator(".regenerate-note div").first).to_contain_text("the model is kept")
    assert app.step_count() == 1  # the model goes on: no restart
    reload(app)
    assert address(app).get("data_seed") == ["1"] and address(app).get("dataset") == ["circles"]
    app.assert_no_errors()


@pytest.mark.browser
def test_plus_and_minus_beside_the_diagram_keep_the_text_box_in_step(open_app):
    app = open_app("?view=network")
    architecture = app.page.locator(".architecture-input input").first
    app.click(".view-network .add-level button")
    expect(architecture).to_have_value("2-8-8-8-1")
    expect(app.page.locator(".view-network .unit-count-3 div").first).to_have_text("level 3: 8")
    app.click(".view-network .add-unit-1 button")
    expect(architecture).to_have_value("2-9-8-8-1")
    expect(app.page.locator(".view-network .unit-count-1 div").first).to_have_text("level 1: 9")
    app.wait_until(lambda: address(app).get("architecture") == ["2-9-8-8-1"],
                   "architecture=2-9-8-8-1 in the address")
    app.set_architecture("2-1-1")
    expect(app.page.locator(".view-network .unit-count-1 div").first).to_have_text("level 1: 1")
    app.click(".view-network .remove-unit-1 button")
    message = app.page.locator(".architecture-buttons-message div").first
    expect(message).to_contain_text("level 1 has 1 unit")
    expect(architecture).to_have_value("2-1-1")
    app.assert_no_errors()


@pytest.mark.browser
def test_discretize_and_the_round_learning_rates(open_app):
    app = open_app()
    caption = app.page.locator(".view-training").get_by_text("Network output on a grid")
    expect(caption.first).to_be_visible()
    app.click(".discretize input")
    expect(app.page.locator(".view-training").get_by_text("output discretized").first
           ).to_be_visible()
    app.wait_until(lambda: address(app).get("discretize") in (["true"], ["True"]),
                   "discretize=true in the address")
    menu = app.page.locator(".learning-rate-menu select").first
    menu.select_option(label="0.003")
    app.wait_until(lambda: address(app).get("learning_rate") == ["0.003"],
                   "learning_rate=0.003 in the address")
    expect(app.page.locator(".learning-rate").first).to_contain_text("0.003")  # the slider
    app.assert_no_errors()


@pytest.mark.browser
def test_l1_from_a_link_is_said_in_the_rank_view_and_a_bad_one_is_refused(open_app):
    app = open_app("?view=rank&l1=0.01")
    expect(app.page.locator(".l1-strength").first).to_contain_text("0.01")
    app.wait_until(lambda: "not low-rank" in app.note("rank"), "the rank view's L1 statement")
    bad = open_app("?l1=-3")
    banner = bad.page.locator(".settings-message").filter(has_text="l1")
    expect(banner.first).to_contain_text("l1 takes a number from 0 to 1")
    app.assert_no_errors()
