"""Refusal messages read well: they name the setting, say what it takes, give an example."""

from __future__ import annotations

import pytest

from app.configuration.settings import ArchitectureError, Settings, check_value, parse_architecture


@pytest.mark.parametrize(("text", "says"), [
    ("abc", "'abc' is not a list of widths"),
    ("two-eight-one", "'two' is not a positive whole number"),
    ("", "the architecture is empty"),
    ("2", "one width is not a network"),
    ("2--1", "a width is missing"),
    ("2-0-1", "width 0 is too small"),
    ("2-300-1", "width 300 is above the limit of 256"),
    ("2-4-4-4-4-4-4-4-4-4-1", "10 levels is too deep: at most 8"),
])
def test_architecture_refusals_say_what_is_wrong_and_show_a_correct_example(text, says):
    with pytest.raises(ArchitectureError) as refused:
        parse_architecture(text)
    message = str(refused.value)
    assert says in message
    if text in ("abc", "two-eight-one", "", "2", "2--1"):
        assert "e.g. 2-8-8-1" in message  # a correct example to copy
    assert "give at least two widths" not in message or text == "2"


@pytest.mark.parametrize(("name", "value", "says"), [
    ("batch_size", "abc", "batch_size takes a whole number from 1 to 512"),
    ("batch_size", "2.5", "batch_size takes a whole number from 1 to 512"),
    ("batch_size", "0", "batch_size takes a whole number from 1 to 512"),
    ("learning_rate", "inf", "learning_rate takes a number from 0.0001 to 1"),
    ("noise", "", "noise takes a number from 0 to 1"),
    ("model", "cnn", "model takes one of fnn, rnn"),
    ("layer", True, "layer takes a whole number from 1 to 16"),
    ("seed", "-1", "seed takes a whole number from 0 to 2147483647"),
    ("view", "graphs", "view takes one of training, rank, kronecker"),
    ("activation", None, "activation takes one of relu, sigmoid, tanh, softplus, identity"),
    ("topk", "0", "top-k '0' must be a whole count >= 1 or a fraction in (0, 1)"),
    ("backtrack", "x", "give largest:K or time steps such as 1,4,8"),
    ("lesson", "nope", "lesson takes one of rank-1"),
    ("architecture", "abc", "is not a list of widths"),
])
def test_setting_refusals_name_the_setting_and_what_it_takes(name, value, says):
    with pytest.raises(ValueError) as refused:
        check_value(Settings.param[name], name, value)
    message = str(refused.value)
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    assert message.startswith(f"{shown} refused: "), message
    assert says in message, message


def test_an_unknown_setting_suggests_the_nearest_name():
    errors = Settings().apply({"batchsize": "8", "zzz": "1"})
    assert errors["batchsize"] == "unknown setting, ignored: did you mean batch_size?"
    assert errors["zzz"].startswith("unknown setting, ignored")


def test_a_typed_architecture_that_does_not_fit_the_data_shows_one_that_does():
    from app import Dashboard

    dashboard = Dashboard(dataset="regression")
    dashboard.settings.architecture = "2-6-3"  # typed in the box: refused, not changed
    message = dashboard.messages["architecture"]
    assert "the regression data has 1 input(s) and 1 output(s)" in message
    assert "e.g. 1-6-1" in message and "Still training" in message
    dashboard.close()
