"""The README's example links show what the README says they show.

Each link's settings are applied as the served page applies its address
(:func:`app.configuration.settings.query_values`,
:meth:`app.configuration.settings.Settings.apply`), trained without a
browser for as many steps as the README names, and its training and test accuracy are read as
the training view reads them (:func:`app.data.classification.evaluate`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.configuration.settings import Settings, query_values
from app.data.classification import evaluate
from app.training.session import TrainingSession

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_link(starts: str) -> str:
    """The query of the README's ``/app?...`` link that starts with ``starts``."""
    links = re.findall(r"`/app(\?[^`]+)`", README.read_text())
    found = [link for link in links if link.startswith(starts)]
    assert len(found) == 1, f"README.md has {len(found)} links starting {starts!r}: {links}"
    return found[0]


def trained(query: str, steps: int) -> tuple[float, float]:
    """(training accuracy, test accuracy) after ``steps`` steps of the link's settings."""
    settings = Settings()
    assert settings.apply(query_values(query)) == {}, "the link has refused settings"
    session = TrainingSession(settings)
    assert session.train(steps) == steps
    data = session.data
    _, train_accuracy = evaluate(session.net, data.X, data.Z, data.class_labels, data.labels)
    _, test_accuracy = evaluate(session.net, data.test_X, data.test_Z, data.test_labels,
                                data.labels)
    return train_accuracy, test_accuracy


@pytest.mark.slow
def test_the_two_spirals_are_learned_on_held_out_points_too():
    query = readme_link("?dataset=spirals&classes=2")
    assert "noise=0.02" in query and "test_fraction=0.2" in query
    assert trained(query, 6000) == (1.0, 1.0)


@pytest.mark.slow
def test_the_overfitting_example_overfits():
    train_accuracy, test_accuracy = trained(readme_link("?dataset=circles"), 20_000)
    assert train_accuracy >= 0.95, train_accuracy
    assert test_accuracy <= 0.85 and train_accuracy - test_accuracy >= 0.1, (
        train_accuracy, test_accuracy)
