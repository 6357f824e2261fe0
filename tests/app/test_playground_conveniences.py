"""TensorFlow Playground's conveniences (``app/configuration/playground_settings.py``,
``app/controls/playground_controls.py``, ``app/views/architecture_buttons.py``): data-set
thumbnails,
+/- buttons for levels and units, Regenerate data, "discretize output", L1 beside L2 and the
menu of round learning rates, each through the settings, the address and the views."""

from __future__ import annotations

import numpy as np
import pytest
from bokeh.models import Image, ImageRGBA

from app import Dashboard
from app.configuration.address import link_values, same_settings
from app.configuration.playground_settings import ROUND_LEARNING_RATES, sample_seed
from app.configuration.settings import LEARNING_RATES, ArchitectureError, Settings
from app.outside_text import markdown_text
from app.views.architecture_buttons import changed_architecture
from tests.support.views import caption_above, figure_titled, find, glyph_data, located, parts


def click(button) -> None:
    button.clicks += 1  # what a click in the browser sends


def unit_counts(view) -> list[str]:
    """The counts of the "− m +" groups beside the network diagram, level by level."""
    return [part.object for part, _ in parts(view)
            if any(name.startswith("unit-count-") for name in getattr(part, "css_classes", []))]


# --- settings, links and the address ---------------------------------------------------
@pytest.mark.parametrize("name, text, accepts", [
    ("l1", "-0.5", "l1 takes a number from 0 to 1"),
    ("l1", "lots", "l1 takes a number from 0 to 1"),
    ("data_seed", "1.5", "data_seed takes a whole number from 0 to 2147483647"),
    ("discretize", "maybe", "discretize takes true or false"),
])
def test_a_link_with_a_bad_value_is_refused_by_name(name, text, accepts):
    dashboard = Dashboard(**{name: text})
    try:
        assert accepts in dashboard.messages[name]
        assert f"'{text}' refused" in dashboard.messages[name]
        assert getattr(dashboard.settings, name) == Settings.param[name].default
        assert f"**{markdown_text(name)}**" in dashboard.sidebar.url_message.object  # the banner
        assert dashboard.sidebar.url_message.visible
    finally:
        dashboard.close()


def test_the_new_settings_travel_in_the_address():
    values = link_values("?l1=0.01&data_seed=3&discretize=true")
    assert (values["l1"], values["data_seed"], values["discretize"]) == ("0.01", "3", "true")
    settings = Settings()
    assert settings.apply(values) == {}
    assert (settings.l1, settings.data_seed, settings.discretize) == (0.01, 3, True)
    assert same_settings("?data_seed=3", "?data_seed=3.0")
    assert not same_settings("?data_seed=3", "?data_seed=4")


def test_every_round_learning_rate_is_a_slider_stop_and_the_slider_stays_in_its_range():
    assert set(ROUND_LEARNING_RATES) <= set(LEARNING_RATES)
    assert list(LEARNING_RATES) == sorted(set(LEARNING_RATES))  # rising, each once
    assert (LEARNING_RATES[0], LEARNING_RATES[-1]) == (1e-4, 1.0)


# --- data-set thumbnails ----------------------------------------------------------------
def test_a_thumbnail_chooses_its_data_set_and_the_one_in_use_is_highlighted():
    dashboard = Dashboard()
    try:
        thumbnails = dashboard.sidebar.playground.thumbnails
        assert set(thumbnails.buttons) == {"xor", "circles", "spirals", "blobs", "rings",
                                           "regression"}
        assert all(button.icon.startswith("<svg") for button in thumbnails.buttons.values())
        assert thumbnails.buttons["xor"].color == "primary"
        click(thumbnails.buttons["spirals"])
        assert dashboard.settings.dataset == "spirals"
        assert dashboard.session.data.name == "spirals"
        assert dashboard.sidebar.widgets["dataset"].value == "spirals"  # the menu follows
        colours = {name: button.color for name, button in thumbnails.buttons.items()}
        assert colours.pop("spirals") == "primary"
        assert set(colours.values()) == {"default"}
        dashboard.sidebar.widgets["dataset"].value = "regression"  # the menu: the thumbnails follow
        assert thumbnails.buttons["regression"].color == "primary"
        assert thumbnails.buttons["spirals"].color == "default"
        assert dashboard.settings.architecture.startswith("1-")
        dashboard.settings.model = "rnn"
        assert not thumbnails.grid.visible  # an RNN's data are its sequence task
        assert not dashboard.sidebar.playground.discretize.visible  # no decision plot
    finally:
        dashboard.close()


def test_thumbnails_picture_their_data():
    from app.controls.playground_controls import thumbnail_svg

    pictures = {name: thumbnail_svg(name) for name in ("xor", "circles", "regression")}
    assert len(set(pictures.values())) == 3
    assert pictures["xor"].count('fill="#0072B2"') > 20  # both classes drawn
    assert pictures["xor"].count('fill="#D55E00"') > 20
    assert 'fill="#D55E00"' not in pictures["regression"]  # no classes


# --- +/- buttons for levels and units ----------------------------------------------------
def test_changed_architecture_follows_the_rules():
    assert changed_architecture("2-1", "add-level") == "2-4-1"
    assert changed_architecture("2-8-3-1", "add-level") == "2-8-3-3-1"
    assert changed_architecture("2-8-3-1", "remove-level") == "2-8-1"
    assert changed_architecture("2-8-3-1", "add-unit", 1) == "2-9-3-1"
    with pytest.raises(ArchitectureError, match="no hidden level to remove"):
        changed_architecture("2-1", "remove-level")
    with pytest.raises(ArchitectureError, match="9 levels is too deep: at most 8 levels"):
        changed_architecture("2-8-8-8-8-8-8-8-1", "add-level")
    with pytest.raises(ArchitectureError, match="above the limit of 256 units"):
        changed_architecture("2-256-1", "add-unit", 1)
    with pytest.raises(ArchitectureError, match="level 1 has 1 unit"):
        changed_architecture("2-1-1", "remove-unit", 1)
    with pytest.raises(ArchitectureError, match="holds no network"):
        changed_architecture("2-x-1", "add-level")


def test_the_buttons_beside_the_diagram_change_the_fnn_and_the_text_box_follows(rendered):
    dashboard = rendered(view="network")
    view = dashboard.views["network"]
    _, beside = located(view, "architecture-buttons")
    assert beside[-1] is located(view, view.plot)[1][-1]  # beside the diagram
    message = find(view, "architecture-buttons-message")
    click(find(view, "add-level"))
    assert dashboard.settings.architecture == "2-8-8-8-1"
    assert dashboard.sidebar.architecture_input.value == "2-8-8-8-1"
    assert dashboard.session.layer_sizes == (2, 8, 8, 8, 1)  # rebuilt
    click(find(view, "add-unit-2"))  # + on level 2
    click(find(view, "remove-unit-1"))  # - on level 1
    assert dashboard.sidebar.architecture_input.value == "2-7-9-8-1"
    assert unit_counts(view) == ["level 1: 7", "level 2: 9", "level 3: 8"]
    dashboard.sidebar.architecture_input.value = "2-1-1"  # typed: the buttons follow
    assert len(unit_counts(view)) == 1
    click(find(view, "remove-unit-1"))
    assert dashboard.settings.architecture == "2-1-1"
    assert "level 1 has 1 unit" in message.object and message.visible
    click(find(view, "remove-level"))
    assert dashboard.settings.architecture == "2-1"
    assert not message.visible
    click(find(view, "remove-level"))
    assert "no hidden level to remove" in message.object
    for _ in range(8):
        click(find(view, "add-level"))
    assert dashboard.settings.architecture == "2-" + "4-" * 7 + "1"
    assert "at most 8 levels" in message.object


def test_the_buttons_change_an_rnn_within_its_bounds(rendered):
    dashboard = rendered(model="rnn", view="network", levels=2, hidden_width=8)
    view = dashboard.views["network"]
    click(find(view, "add-level"))
    click(find(view, "add-unit-1"))
    assert (dashboard.settings.levels, dashboard.settings.hidden_width) == (3, 9)
    assert dashboard.session.layer_sizes == (2, 9, 9, 9, 1)
    click(find(view, "add-level"))
    assert dashboard.settings.levels == 3
    assert "1 to 3 hidden levels" in find(view, "architecture-buttons-message").object


# --- Regenerate data ---------------------------------------------------------------------
@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_regenerate_draws_a_new_sample_keeps_the_model_and_a_reload_shows_it(model):
    values = {"model": model, "dataset": "spirals", "seed": 4}
    dashboard = Dashboard(**values)
    try:
        for _ in range(3):
            dashboard.step()
        session = dashboard.session
        before_X = session.data.X.copy()
        weights = [array.copy() for array in session.parameters()]
        click(dashboard.sidebar.playground.regenerate)
        assert dashboard.settings.data_seed == 1
        assert session.data.X.shape == before_X.shape
        assert not np.allclose(session.data.X, before_X)  # a new sample
        assert session.step == 3  # the model is kept and goes on training
        for kept, now in zip(weights, session.parameters(), strict=True):
            np.testing.assert_array_equal(kept, now)
        assert dashboard.step()
        reloaded = Dashboard(**values, data_seed=1)  # the address after the click
        try:
            np.testing.assert_array_equal(reloaded.session.data.X, session.data.X)
            np.testing.assert_array_equal(reloaded.session.data.Z, session.data.Z)
        finally:
            reloaded.close()
    finally:
        dashboard.close()


def test_data_seed_zero_is_the_sample_of_every_older_link():
    from app.data.classification import make_classification_data

    assert sample_seed(7, 0) == 7
    dashboard = Dashboard(dataset="blobs", seed=7)
    try:
        old = make_classification_data("blobs", 200, 2, 0.1, 7)
        np.testing.assert_array_equal(dashboard.session.data.X, old.X)
    finally:
        dashboard.close()


# --- discretize output ---------------------------------------------------------------------
def test_discretize_shows_hard_classes_in_the_one_output_plot(rendered):
    dashboard = rendered(dataset="xor")
    view = dashboard.views["training"]
    dashboard.refresh_view()
    continuous = np.unique(view.arrays["grid_prediction"])
    assert continuous.size > 100  # the network's output
    dashboard.settings.discretize = True
    plot = figure_titled(view, "decision boundary and data")
    image = glyph_data(plot, Image).data["image"][0]
    assert set(np.unique(image)) <= {-1.0, 1.0} and np.unique(image).size == 2
    output = view.arrays["grid_prediction"]
    assert set(np.unique(output)) <= {-1.0, 1.0}
    assert "discretized" in caption_above(view, plot).object


def test_discretize_shows_hard_regions_for_several_classes(rendered):
    dashboard = rendered(dataset="blobs", classes=3, loss="cross_entropy")
    view = dashboard.views["training"]
    plot = figure_titled(view, "decision regions and data")
    regions = glyph_data(plot, ImageRGBA)
    dashboard.refresh_view()
    alpha = regions.data["image"][0].view(np.uint8).reshape(-1, 4)[:, 3]
    assert np.unique(alpha).size > 1  # paler where a class wins narrowly
    dashboard.settings.discretize = True
    alpha = regions.data["image"][0].view(np.uint8).reshape(-1, 4)[:, 3]
    assert np.unique(alpha).size == 1  # hard classes
    assert "discretized" in caption_above(view, plot).object


# --- L1 beside L2 ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_an_l1_step_adds_the_subgradient_to_every_weight_and_none_to_biases(model):
    lam1, rate = 0.03, 0.1
    dashboard = Dashboard(model=model, l1=lam1, learning_rate=rate, momentum=0.0,
                          clip_norm=0.0, weight_decay=0.01)
    try:
        session = dashboard.session
        net = session.net
        assert dashboard.sidebar.playground.l1.value == lam1
        dashboard.step()
        keywords = session.loss_keywords()
        gradients = net.gradients(session.X, session.Z, **keywords)  # the batch of the step
        for k, g in enumerate(gradients):
            np.testing.assert_allclose(
                session.net.weights[k],
                net.weights[k] - rate * (g.W + lam1 * np.sign(net.weights[k])), atol=1e-12)
            np.testing.assert_allclose(session.net.biases[k], net.biases[k] - rate * g.b,
                                       atol=1e-12)
            if model == "rnn":
                np.testing.assert_allclose(
                    session.net.recurrent[k],
                    net.recurrent[k] - rate * (g.U + lam1 * np.sign(net.recurrent[k])),
                    atol=1e-12)
    finally:
        dashboard.close()


def test_the_l1_term_adds_nothing_to_the_hessian_away_from_zero():
    """The statement the Hessian views make: the Hessian of E + lam1 sum |w| is that of E
    wherever no weight is 0 (finite differences of the gradient with the L1 term)."""
    from hessian_core import FNN

    net = FNN.random((2, 3, 2), activation="tanh", seed=1)
    rng = np.random.default_rng(0)
    X, Z = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    lam1, k, step = 0.3, 2, 1e-6
    W = np.asarray(net.weights[k - 1])
    assert np.min(np.abs(W)) > 10 * step

    def gradient(flat):
        weights = list(net.weights)
        weights[k - 1] = flat.reshape(W.shape)
        moved = net.with_parameters(weights, list(net.biases))
        return (moved.gradient(X, Z, layer=k).W + lam1 * np.sign(weights[k - 1])).reshape(-1)

    flat = W.reshape(-1)
    columns = [(gradient(flat + step * e) - gradient(flat - step * e)) / (2 * step)
               for e in np.eye(flat.size)]
    np.testing.assert_allclose(np.array(columns).T, net.hessian(X, Z, layer=k).dense(),
                               atol=1e-7)


VIEW_WORDS = {
    "rank": "not low-rank", "spectrum": "unchanged by it", "kronecker": "unchanged by it",
    "whole": "unchanged by it", "errata": "unchanged by it", "training": "λ₁·sign(W)",
    "network": "λ₁·sign(w)", "sparse": "λ₁·sign(W)",
}


@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_every_view_whose_statement_changes_with_l1_says_so(rendered, model):
    dashboard = rendered(model=model, l1=0.01)
    for key, words in VIEW_WORDS.items():
        dashboard.settings.view = key
        assert words in dashboard.views[key].note, key
        assert "L1 λ₁ = 0.01" in dashboard.views[key].note, key
    dashboard.sidebar.playground.l1.value = 0.0  # off: no view mentions it
    assert dashboard.settings.l1 == 0.0
    for key in VIEW_WORDS:
        dashboard.settings.view = key
        assert "L1" not in dashboard.views[key].note, key


# --- the menu of round learning rates ---------------------------------------------------------
def test_the_menu_and_the_slider_of_the_learning_rate_stay_in_step():
    dashboard = Dashboard(learning_rate=0.05)
    try:
        menu = dashboard.sidebar.playground.learning_rate_menu
        assert list(menu.options) == ["0.0001", "0.001", "0.003", "0.01", "0.03", "0.05",
                                      "0.1", "0.3", "1"]  # the rate in force is shown
        assert menu.value == 0.05
        menu.value = 0.003
        assert dashboard.settings.learning_rate == 0.003
        assert dashboard.sidebar.learning_rate_slider.value == 0.003
        assert "0.05" not in menu.options
        dashboard.sidebar.learning_rate_slider.value = 0.2
        assert (dashboard.settings.learning_rate, menu.value) == (0.2, 0.2)
        dashboard.apply_settings({"learning_rate": "1"})  # a link
        assert (menu.value, dashboard.sidebar.learning_rate_slider.value) == (1.0, 1.0)
    finally:
        dashboard.close()
