"""app.compat: the switch of the library fast paths, the version check, and each fast path
against its public route (the tests marked ``both_ways`` run each way in one process; CI runs
the whole app suite again with ``HESSIAN_LAB_FAST_PATHS=off``)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import panel as pn
import pytest
from bokeh.document.events import ModelChangedEvent
from panel.models.esm import DataEvent

from app import Dashboard, compat
from app.page import browser_shims
from serve.in_process import ServerStandIn, served_document
from tests.support.sessions import served_frame
from tests.support.views import page_model


@pytest.fixture
def fast_paths(monkeypatch):
    """Set ``HESSIAN_LAB_FAST_PATHS`` for one test: ``fast_paths("off")``; the process's own
    setting is decided again afterwards."""

    def set_to(value: str) -> bool:
        monkeypatch.setenv(compat.VARIABLE, value)
        return compat.refresh()

    yield set_to
    monkeypatch.undo()
    compat.refresh()


@pytest.fixture(params=["on", "off"])
def both_ways(request, fast_paths):
    """The test runs with the fast paths on, then off; yields whether they are on."""
    active = fast_paths(request.param)
    assert active is (request.param == "on")
    return active


class EventRecorder:
    def __init__(self, events):
        self.events = events

    def _document_patched(self, event):
        self.events.append(event)


def writing_session(writing: bool):
    """A stand-in of Bokeh's ServerSession with one connection whose socket is writing."""
    stream = SimpleNamespace(writing=lambda: writing)
    socket = SimpleNamespace(ws_connection=SimpleNamespace(stream=stream))
    return SimpleNamespace(_subscribed_connections=[SimpleNamespace(_socket=socket)])


def test_on_unless_the_environment_turns_them_off(fast_paths, monkeypatch):
    monkeypatch.delenv(compat.VARIABLE, raising=False)
    assert compat.requested()
    for value, expected in (("on", True), (" OFF ", False), ("off", False)):
        monkeypatch.setenv(compat.VARIABLE, value)
        assert compat.requested() is expected


def test_a_value_other_than_on_or_off_is_refused_by_name(fast_paths):
    with pytest.raises(ValueError, match=r"HESSIAN_LAB_FAST_PATHS must be one of on, off, "
                                         r"not 'no'"):
        fast_paths("no")


def test_the_installed_libraries_are_the_checked_ones():
    assert compat.unchecked() == [], compat.installed_versions()


def test_a_library_outside_the_checked_releases_turns_every_fast_path_off_with_one_line(
        fast_paths, monkeypatch, caplog):
    versions = {**compat.installed_versions(), "bokeh": "3.10.0"}
    assert compat.unchecked(versions) == ["bokeh 3.10.0"]
    monkeypatch.setattr(compat, "installed_versions", lambda: versions)
    with caplog.at_level(logging.WARNING, logger=compat.__name__):
        assert not fast_paths("on")
        assert not compat.active()
        assert not browser_shims.install()
        assert not compat.writes_pending(writing_session(True))
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and "bokeh 3.10.0" in lines[0], lines


def test_off_turns_off_the_browser_shims_too(fast_paths, monkeypatch):
    monkeypatch.setattr(pn.config, "js_files", {})
    monkeypatch.delenv(browser_shims.VARIABLE, raising=False)
    fast_paths("off")
    assert not browser_shims.install()
    assert pn.config.js_files == {}
    fast_paths("on")
    assert browser_shims.install()
    assert pn.config.js_files == {browser_shims.JS_FILES_KEY: browser_shims.SCRIPT_URL}


def test_writes_pending_reads_the_socket_only_with_the_fast_paths(both_ways):
    assert compat.writes_pending(writing_session(True)) is both_ways
    assert not compat.writes_pending(writing_session(False))
    assert not compat.writes_pending(None)  # not served


def test_a_frame_puts_the_readouts_and_its_number_in_the_page_either_way(both_ways):
    """The step counter, the loss and the frame's number reach the page's data model in the
    frame's own patch, with the fast path (straight to the model) and without (``param``)."""
    dashboard = Dashboard()
    document = served_document(dashboard)
    server = ServerStandIn(document, dashboard.loop)
    dashboard.loop.attach(document, SimpleNamespace(session=server))
    events = []
    document.callbacks.on_change_dispatch_to(EventRecorder(events))
    dashboard.session.train(2)
    served_frame(dashboard.loop)  # drawn under the document lock
    changed = {(e.attr, e.new) for e in events if isinstance(e, ModelChangedEvent)}
    assert {("step", "step 2"), ("frame", 1)} <= changed, changed
    readouts = dashboard.readouts
    assert (readouts.step, readouts.frame) == ("step 2", 1)
    model = readouts.get_root(document)
    assert (model.data.step, model.data.frame) == ("step 2", 1)
    dashboard.close()


def test_a_receipt_from_the_page_reaches_the_loop_either_way(both_ways):
    dashboard = Dashboard()
    document = served_document(dashboard)
    receipts = []
    dashboard.readouts.on_receipt = receipts.append
    # as the page's message arrives: a Bokeh event on the component's model in the document
    readouts_model = page_model(document, "frame-readouts")
    document.callbacks.trigger_event(DataEvent(readouts_model, data=4))
    document.callbacks.trigger_event(DataEvent(readouts_model, data="not a number"))
    assert receipts == [4]
    dashboard.close()


def test_a_notebook_cell_is_found_only_with_the_fast_paths(both_ways):
    dashboard = Dashboard()
    assert compat.notebook_output(dashboard.loop.layout) == (None, None)  # shown nowhere
    dashboard.close()


def test_a_document_is_marked_served_either_way_for_the_benchmarks(both_ways):
    from bokeh.document import Document

    assert compat.mark_served(Document())  # what panel serve records: not a fast path
