"""A carrier's scan dated years ahead is not stored by a poll (push review): as the parcel's
newest scan it would fix its status and last scan for as long, so that no later scan moved
it and no stall was ever seen. Pushes drop such scans too (trackwatch.push.merge)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.conftest import SettingsFactory, both_backends
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Place, Shipment, Status
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import Milestone, Parcel, World

CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
AHEAD = timedelta(days=3 * 365)


@pytest.fixture
async def sandbox(world: World, clock: FrozenClock) -> AsyncIterator[SandboxServer]:
    """The carrier's own clock is three years ahead: it answers scans it dated then."""
    server = await SandboxServer(world, FrozenClock(clock.now() + AHEAD)).start()
    yield server
    await server.stop()


@both_backends
async def test_a_polled_scan_dated_years_ahead_is_not_stored(
    make_settings: SettingsFactory, clock: FrozenClock, world: World, database: str
) -> None:
    shipped = clock.now() - timedelta(days=1)
    world.add(Parcel("dhl", "GMFUTURE0001", [
        Milestone(shipped + timedelta(hours=6), "picked_up", CHICAGO),
        Milestone(clock.now() + AHEAD - timedelta(hours=1), "delivered", CHICAGO),
    ], CHICAGO))  # fmt: skip
    async with open_daemon(make_settings(carriers={"dhl": {}}), clock) as daemon:
        ((sid, _),) = await daemon.store.add_shipments([
            Shipment(store="shop", carrier="dhl", tracking_number="GMFUTURE0001",
                     order_id="F1", customer_email="c@example.com", shipped_at=shipped)],
            clock.now())  # fmt: skip
        assert await daemon.poller.poll_due() == 1
        events = (await daemon.store.events_for([sid]))[sid]
        shipment = await daemon.store.get_shipment(sid)
    assert [e.status for e in events] == [Status.IN_TRANSIT]
    assert shipment is not None and shipment.status is not Status.DELIVERED
    assert shipment.last_event_at == events[0].occurred_at
    assert shipment.carrier_note is not None and "in the future" in shipment.carrier_note
