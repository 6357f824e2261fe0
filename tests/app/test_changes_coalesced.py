"""Settings changes on a served page: coalesced into one rebuild, drawn only once the page
has its document, and written to the address with the values in force."""

from __future__ import annotations

import asyncio

from panel.io.location import Location

from app import Dashboard
from app.live.scheduler import Scheduler
from tests.app.test_loop import FakeClock, served


def test_structural_changes_made_while_a_frame_is_in_flight_are_one_rebuild():
    async def run():
        clock = FakeClock(per_call=0.0002)
        dashboard = Dashboard(scheduler=Scheduler(clock=clock, train_clock=clock))
        _, server_session = served(dashboard)
        loop, session = dashboard.loop, dashboard.session
        dashboard.step()  # a frame, still being written
        await asyncio.sleep(0)
        assert server_session.locked_calls == 1 and loop.in_flight
        version = session.version
        for seed in range(3, 9):  # a student typing seeds faster than the page draws
            dashboard.settings.seed = seed
        assert session.version == version and loop.rebuild_owed
        session.running = True  # training waits for the model the settings ask for
        assert loop.train_for(0.01, clock) == 0.0 and session.step == 1
        session.running = False
        server_session.written.set()
        for _ in range(6):
            await asyncio.sleep(0)
        assert server_session.locked_calls == 2, "the changes were not one frame"
        assert session.version == version + 1 and not loop.rebuild_owed
        assert session.step == 0 and dashboard.readouts.step == "step 0"
        assert dashboard.settings.seed == 8
        dashboard.close()

    asyncio.run(run())


def test_not_served_a_structural_change_rebuilds_at_once():
    dashboard = Dashboard()
    version = dashboard.session.version
    dashboard.settings.seed = 11
    assert dashboard.session.version == version + 1 and not dashboard.loop.rebuild_owed
    dashboard.close()


def test_no_frame_reaches_a_page_before_it_has_loaded_its_document():
    """Until the page has loaded the document, Panel drops the changes a frame makes; a
    later frame would then refer to plots the page never received."""

    async def run():
        dashboard = Dashboard(scheduler=Scheduler(clock=FakeClock(per_call=0.0002)))
        _, server_session = served(dashboard)
        server_session.written.set()
        loop = dashboard.loop
        loop.page_ready = False  # as when served, until Panel's onload
        dashboard.settings.seed = 5
        dashboard.step()
        await asyncio.sleep(0)
        assert server_session.locked_calls == 0 and loop.in_flight
        loop.page_loaded()
        for _ in range(4):
            await asyncio.sleep(0)
        assert server_session.locked_calls == 1 and not loop.redraw_requested
        assert dashboard.settings.seed == 5 and not loop.rebuild_owed
        dashboard.close()

    asyncio.run(run())


def test_the_address_holds_a_value_fitted_while_its_change_was_handled():
    """A batch of 512 on 200 samples is 200: the address reads 200 (Panel's writer is told
    of 200, then of the older 512)."""
    dashboard = Dashboard()
    location = Location()
    dashboard.sync_location(location)
    assert dashboard.settings.samples == 200
    for typed in (512, 64, 256):
        dashboard.sidebar.widgets["batch_size"].value = typed
        expected = min(typed, 200)
        assert dashboard.settings.batch_size == expected
        assert location.query_params["batch_size"] == expected
        assert dashboard.sidebar.widgets["batch_size"].value == expected
    dashboard.close()
