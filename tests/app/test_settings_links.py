"""Any link works: seeded random query strings over every setting, in-process.

A teacher shares links; a student edits them. Whatever the query string holds (valid values,
words a setting does not know, numbers out of range or of the wrong type, empty values,
settings that pass alone but not together), the dashboard must come up, train, and say what
it did not apply. The generator below draws from every parameter of
:class:`app.configuration.settings.Settings` (new settings join automatically) and is also used by
the
browser test ``tests/browser/test_links.py``.
"""

from __future__ import annotations

import random
from urllib.parse import urlencode

import param
import pytest

from app.configuration.lessons import BY_KEY
from app.configuration.settings import Settings, settle
from app.training.session import TrainingSession

SEED = 20261129
#: special values of the text settings: valid, malformed, conflicting with other settings
TEXT_VALUES = {
    "architecture": ["2-8-1", "1-4-1", "3-8-2", "2-16-16-1", "1-1", "2-4-4-4-4-4-4-4-1",
                     "abc", "", "2", "2--1", "2-0-1", "2-300-1", "2-4-4-4-4-4-4-4-4-4-1",
                     "2,6,1", " 2 - 5 - 1 "],
    "topk": ["3", "0.05", "5%", "1", "0", "-1", "1.5", "abc", "", "100"],
    "backtrack": ["largest:2", "1,4,8", "2 3", "largest:0", "largest:99", "0", "99", "abc", ""],
    "lesson": [*BY_KEY, "nope", ""],
}
#: values of the wrong type, given as Python objects to ``Dashboard(**values)``
WRONG_TYPES = [None, [1, 2], {"a": 1}, True, 2.5, -3, object()]


def candidate_values(name: str, parameter: param.Parameter) -> list:
    """Strings a query string could carry for one setting: valid, edge, out of range, wrong
    type, empty."""
    junk = ["", "abc", " ", "nan", "inf", "1e400", '"x"']
    if name in TEXT_VALUES:
        return TEXT_VALUES[name] + junk
    if isinstance(parameter, param.Selector):
        objects = [str(option) for option in parameter.objects]
        return objects + [option.upper() for option in objects[:1]] + [f'"{objects[-1]}"'] + junk
    if isinstance(parameter, (param.Integer, param.Number)):
        low, high = parameter.bounds or (0, 10)
        inside = [low, high, (low + high) / 2, low + 1, min(high, low + 3)]
        if isinstance(parameter, param.Integer):
            inside = [int(v) for v in inside] + [low + 2]
        outside = [low - 1, high + 1, high * 10 + 7, -(abs(high) + 5)]
        fractions = ["2.5", "0.5"] if isinstance(parameter, param.Integer) else ["1e-9", "0.5"]
        return [str(v) for v in inside + outside] + fractions + junk
    if isinstance(parameter, param.String):
        return ["x", "0", "a" * 300] + junk
    return junk


def random_query(rng: random.Random, wrong_types: bool = False) -> dict:
    """One query: 1 to 10 settings, each with a candidate value; sometimes an unknown name,
    and (``wrong_types``) sometimes a Python value of the wrong type."""
    parameters = Settings.param.objects()
    names = [name for name in parameters if name != "name"]
    query = {}
    for name in rng.sample(names, rng.randint(1, 10)):
        value = rng.choice(candidate_values(name, parameters[name]))
        if wrong_types and rng.random() < 0.15:
            value = rng.choice(WRONG_TYPES)
        query[name] = value
    if rng.random() < 0.1:
        query["no_such_setting"] = "1"
    return query


def random_queries(count: int, seed: int = SEED, wrong_types: bool = False) -> list[dict]:
    rng = random.Random(seed)
    return [random_query(rng, wrong_types) for _ in range(count)]


#: combinations that each pass alone and crashed the page together (issue 12, item 1)
CONFLICTS = [
    {"dataset": "regression"},
    {"dataset": "regression", "layer": "3"},
    {"dataset": "regression", "layer": "9"},
    {"architecture": "1-4-1", "tau": "4", "task": "echo", "hidden_width": "4"},
    {"architecture": "3-8-2"},
    {"model": "rnn", "architecture": "1-4-1", "levels": "1", "layer": "3"},
    {"model": "rnn", "tau": "2", "time_step": "9", "output_from": "7", "truncate": "8",
     "sparse": "truncate"},
    {"samples": "8", "batch_size": "64", "sample": "60"},
    {"model": "rnn", "task": "echo", "delay": "30", "tau": "3"},
    {"lesson": "rnn-hessian", "model": "fnn"},
    {"lesson": "kronecker", "dataset": "regression"},
    {"sparse": "backtrack", "backtrack": "99", "model": "rnn", "tau": "4"},
]


def query_id(query: dict) -> str:
    """A short, stable test id: the query string (Python values by type)."""
    shown = {name: value if isinstance(value, (str, int, float)) else type(value).__name__
             for name, value in query.items()}
    return urlencode(shown)[:80]


def is_settled(settings: Settings) -> bool:
    values = settings.values()
    settled, notes = settle(values)
    return settled == values and not notes


def check_messages(errors: dict, query: dict) -> None:
    for name, reason in errors.items():
        assert isinstance(reason, str) and reason.strip(), (name, reason)
        assert "Traceback" not in reason and len(reason) <= 300, reason
        assert name in query or name == "sparse", (name, query)


@pytest.mark.parametrize("query", random_queries(600, wrong_types=True) + CONFLICTS,
                         ids=lambda query: query_id(query))
def test_apply_leaves_settings_that_hold_together_and_build(query):
    settings = Settings()
    errors = settings.apply(query)
    check_messages(errors, query)
    assert is_settled(settings), settings.values()
    session = TrainingSession(settings)  # raises if the data or model cannot be built
    assert session.train(1) == 1 or session.status


def test_refused_and_adjusted_values_say_why():
    settings = Settings()
    errors = settings.apply({"batch_size": "abc", "dataset": "regression", "architecture": "3-8-2",
                             "layer": "7", "momentum": "2", "model": "cnn", "lesson": "nope",
                             "bogus": "1"})
    assert settings.batch_size == Settings().batch_size  # refused: the old value stays
    assert "batch_size takes a whole number from 1 to 512" in errors["batch_size"]
    assert "momentum takes a number from 0 to 0.999" in errors["momentum"]
    assert "model takes one of fnn, rnn" in errors["model"]
    assert "lesson takes one of rank-1" in errors["lesson"]
    assert "unknown setting" in errors["bogus"]
    # adjusted to hold together, and said so
    assert settings.architecture == "1-8-1"
    assert "regression data has 1 input(s)" in errors["architecture"]
    assert settings.layer == 2 and "k takes 1 to 2" in errors["layer"]


def test_values_not_given_are_fitted_silently():
    settings = Settings()
    assert settings.apply({"dataset": "regression", "samples": "8"}) == {}
    assert settings.architecture.startswith("1-") and settings.batch_size <= 8


def test_a_lesson_key_is_the_whole_lesson_and_later_values_win():
    settings = Settings()
    settings.apply({"batch_size": "2", "hidden_width": "4", "tau": "6", "task": "echo"})
    assert settings.apply({"lesson": "rank-r", "seed": "5"}) == {}
    fresh = Settings()
    fresh.apply({"lesson": "rank-r"})
    assert {**fresh.values(), "seed": 5} == settings.values()


def dashboard_works(dashboard) -> None:
    """The page a student would see: a model, a drawn view, Play trains."""
    assert dashboard.session.net is not None
    assert isinstance(dashboard.messages, dict)
    assert is_settled(dashboard.settings), dashboard.settings.values()
    dashboard.session.running = True  # what Play does, without a server's periodic callback
    dashboard.tick()
    assert dashboard.session.step >= 1 or dashboard.session.status
    dashboard.close()


@pytest.mark.parametrize("query", random_queries(80, seed=SEED + 1, wrong_types=True)
                         + CONFLICTS, ids=lambda query: query_id(query))
def test_dashboard_from_keywords_works(query):
    from app import Dashboard

    dashboard = Dashboard(**query)
    check_messages(dashboard.messages, query)
    dashboard_works(dashboard)


@pytest.mark.parametrize("query", random_queries(80, seed=SEED + 2) + CONFLICTS,
                         ids=lambda query: query_id(query))
def test_dashboard_from_the_url_works(query, monkeypatch):
    """The served path: built from ``pn.state.location`` and then synced with it; the URL's
    values must not undo the adjustments that made them hold together."""
    import panel as pn
    from panel.io.location import Location

    from app import Dashboard

    location = Location(search="?" + urlencode(query))
    monkeypatch.setattr(type(pn.state), "location", property(lambda self: location))
    dashboard = Dashboard(sync_url=True)
    expected = Settings()
    expected.apply({name: value for name, value in query.items() if name in expected.param})
    assert dashboard.settings.values() == expected.values()
    reloaded = Location(search=location.search)  # the link the page now shows
    again = Settings()
    again.apply(dict(reloaded.query_params))
    assert again.values() == expected.values(), location.search
    dashboard_works(dashboard)


@pytest.mark.parametrize("query", CONFLICTS[:3] + random_queries(3, seed=SEED + 3),
                         ids=lambda query: query_id(query))
def test_every_view_draws_after_a_random_link(rendered, query):
    """Rendered into a document, so the plots really draw (strict views raise on error)."""
    from app.configuration.settings import VIEWS

    dashboard = rendered(**query)
    dashboard.step()
    for view in VIEWS:
        dashboard.settings.view = view
        assert "Could not draw" not in dashboard.views[view].note


def test_a_link_the_page_writes_after_changes_by_hand_reopens_without_notes(monkeypatch):
    """Sliders moved one by one (the sequence shortened below t, the data set below the
    batch, the batch below the sample shown): the URL the page then shows reopens to the same
    settings with nothing to adjust."""
    import panel as pn
    from panel.io.location import Location

    from app import Dashboard

    location = Location(search="?model=rnn&time_step=7&sample=3&batch_size=8&samples=40")
    monkeypatch.setattr(type(pn.state), "location", property(lambda self: location))
    dashboard = Dashboard(sync_url=True)
    settings = dashboard.settings
    settings.tau = 4
    settings.samples = 8
    settings.batch_size = 2
    assert (settings.time_step, settings.batch_size, settings.sample) == (4, 2, 1)
    reopened = Settings()
    assert reopened.apply(dict(Location(search=location.search).query_params)) == {}
    assert reopened.values() == settings.values()
    dashboard_works(dashboard)


def test_values_applied_after_a_mistyped_architecture_still_work():
    """Text typed in the architecture box stays there (refused, the old model trains);
    a link or lesson applied afterwards must not trip over it."""
    from app import Dashboard

    dashboard = Dashboard()
    dashboard.settings.architecture = "2-x-1"
    assert "architecture" in dashboard.messages
    errors = dashboard.apply_settings({"layer": "2", "seed": "4", "tau": "99"})
    assert set(errors) == {"tau"} and dashboard.settings.seed == 4
    assert dashboard.settings.architecture == "2-x-1"  # left for the user to correct
    dashboard.sidebar.lesson_select.value = "kronecker"
    assert dashboard.settings.architecture == "2-4-4-1"
    dashboard_works(dashboard)
