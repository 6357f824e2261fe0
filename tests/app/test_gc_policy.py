"""A served session's objects are kept out of garbage collections once it is built; a
session's end is followed by one full collection, which frees it (app.page.gc_policy)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest
from bokeh.document import Document

from app.page import gc_policy
from app.page.gc_policy import freeze_built_session


class Cycle:
    def __init__(self):
        self.me = self


@pytest.fixture
def unfrozen():
    """The collector as the other tests have it: nothing frozen, before and after."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_built_session_is_frozen_and_frozen_again_after_a_session_ends(unfrozen):
    document = Document()
    freeze_built_session(document)
    assert gc.get_freeze_count() > 0
    [ended] = document.session_destroyed_callbacks
    ended(None)  # what Bokeh calls when the session is destroyed (here: no event loop)
    assert gc.get_freeze_count() > 0, "the live objects were not frozen again"


def test_sessions_ended_together_share_one_collection_on_the_event_loop(unfrozen,
                                                                         monkeypatch):
    monkeypatch.setattr(gc_policy, "COLLECT_DELAY_S", 0.05)
    collections = []
    monkeypatch.setattr(gc_policy.gc, "collect",
                        lambda *generation: collections.append(generation) or 0)
    documents = [Document(), Document()]

    async def main():
        for document in documents:
            freeze_built_session(document)
        collections.clear()
        for document in documents:
            [ended] = document.session_destroyed_callbacks
            ended(None)
        assert collections == [], "collected while Bokeh still holds the session"
        await asyncio.sleep(0.3)

    asyncio.run(main())
    assert collections == [()], "not one full collection for the two ended sessions"


def test_freezing_can_be_turned_off(unfrozen, monkeypatch):
    monkeypatch.setenv("HESSIAN_LAB_GC_FREEZE", "off")
    document = Document()
    freeze_built_session(document)
    assert gc.get_freeze_count() == 0
    assert not document.session_destroyed_callbacks


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
