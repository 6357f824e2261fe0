"""A served session's objects are kept out of garbage collections from its build until a
session ends (app.gc_policy)."""

from __future__ import annotations

import gc
import weakref

import pytest
from bokeh.document import Document

from app.gc_policy import freeze_built_session


class Cycle:
    def __init__(self):
        self.me = self


@pytest.fixture
def unfrozen():
    """The collector as the other tests have it: nothing frozen, before and after."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_built_session_is_frozen_until_a_session_ends(unfrozen):
    document = Document()
    freeze_built_session(document)
    assert gc.get_freeze_count() > 0
    [ended] = document.session_destroyed_callbacks
    ended(None)  # what Bokeh calls when the session is destroyed
    assert gc.get_freeze_count() == 0


def test_garbage_of_a_frozen_session_is_freed_once_a_session_ended(unfrozen):
    cycle = Cycle()
    alive = weakref.ref(cycle)
    document = Document()
    freeze_built_session(document)
    del cycle
    gc.collect()
    assert alive() is not None, "a frozen object was scanned by a collection"
    made_later = Cycle()
    later = weakref.ref(made_later)
    del made_later
    gc.collect()
    assert later() is None, "an object made after the freeze was not collected"
    [ended] = document.session_destroyed_callbacks
    ended(None)
    gc.collect()
    assert alive() is None
