"""The alert lifecycle through the real monitor and a real SQLite file: open, escalate,
resolve when the condition clears, resolve by hand, supersession, and events that arrive out
of order or twice. Time is a FrozenClock; no carrier is called (polls are written directly)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from rules import RULES
from tests.conftest import BACKENDS
from tests.rulekit import at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import (
    Alert,
    Audience,
    DeliveryLocation,
    ExceptionKind,
    Outcome,
    Place,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.render import Renderer
from trackwatch.store import Store, open_store
from trackwatch.store.records import PollUpdate


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that reach the store run on both backends."""
    return str(request.param)


CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
LABEL = ev(at(11, 20, 9), Status.LABEL_CREATED, "Label created", CHICAGO)
PICKUP = ev(at(11, 20, 18), Status.IN_TRANSIT, "Pickup scan", CHICAGO)


@dataclass
class Rig:
    store: Store
    monitor: Monitor
    clock: FrozenClock
    sid: int

    async def poll(self, *events: TrackingEvent, eta: datetime | None = None) -> None:
        """The carrier's answer at the clock's now, as the poller would store it."""
        now = self.clock.now()
        ordered = sorted(events, key=lambda e: e.occurred_at)
        status = ordered[-1].status if ordered else Status.UNKNOWN
        result = TrackingResult(tracking_number="1Z5R89390357567127", outcome=Outcome.FOUND,
                                events=list(events), status=status, eta=eta)  # fmt: skip
        await self.store.apply_polls([PollUpdate(self.sid, now, now, result)])

    async def at(self, when: datetime, *events: TrackingEvent, **kw: Any) -> list[Alert]:
        """Move the clock, poll (so data is fresh), judge; returns every alert so far."""
        self.clock.set(when)
        await self.poll(*events, **kw)
        await self.monitor.run_once()
        return await self.store.alerts_for(self.sid)

    async def notices(self) -> list[tuple[str, str, str]]:
        found = await self.store.notices()
        alerts = {a.id: a.rule for a in await self.store.alerts_for(self.sid)}
        return [(alerts[n.alert_id or 0], n.event, n.audience.value) for n in found]


@pytest.fixture
async def rig(database: str) -> AsyncIterator[Rig]:
    settings = build_settings({
        "daemon": {"database": database},
        "stores": {"shop": {"name": "Shop", "contact_email": "help@shop.example",
                            "channels": {"staff_chat": ["json://127.0.0.1:9/chat"]}}},
    })  # fmt: skip
    clock = FrozenClock(at(11, 20, 9))
    store = await open_store(settings.daemon.database)
    shipment = Shipment(store="shop", carrier="ups", tracking_number="1Z5R89390357567127",
                        order_id="A1", customer_email="c@example.com",
                        destination_postal_code="10001", destination_city="New York",
                        shipped_at=at(11, 20, 9))  # fmt: skip
    sid = await store.add_shipment(shipment, clock.now())
    channels = ChannelDirectory(settings.stores)
    monitor = Monitor(store, RULES, clock, settings, channels, Renderer())
    yield Rig(store, monitor, clock, sid)
    await store.close()


def states(alerts: Iterable[Alert]) -> list[tuple[str, str]]:
    return [(a.rule, a.state.value) for a in alerts]


async def test_a_stall_opens_once_and_resolves_when_the_parcel_moves(rig: Rig) -> None:
    assert await rig.at(at(11, 25, 23), LABEL, PICKUP) == []
    alerts = await rig.at(at(11, 26, 1), LABEL, PICKUP)  # Mon, Tue, Wed passed
    assert states(alerts) == [("stalled", "open")]
    assert await rig.at(at(11, 26, 2), LABEL, PICKUP) == alerts  # judged again: no change
    moved = ev(at(11, 27, 8), Status.IN_TRANSIT, "Departed", CHICAGO)
    (alert,) = await rig.at(at(11, 27, 9), LABEL, PICKUP, moved)
    assert alert.state.value == "resolved" and alert.resolved_by == "auto"
    assert alert.resolution and "in transit" in alert.resolution
    assert await rig.notices() == [("stalled", "opened", "staff"), ("stalled", "resolved", "staff")]


async def test_events_out_of_order_and_twice_change_nothing(rig: Rig) -> None:
    late_scan = ev(at(11, 24, 8), Status.IN_TRANSIT, "Arrived", CHICAGO)
    await rig.at(at(11, 24, 9), late_scan, PICKUP, LABEL)  # newest first
    await rig.at(at(11, 24, 10), LABEL, PICKUP, late_scan, late_scan)  # each twice
    events = (await rig.store.events_for([rig.sid]))[rig.sid]
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert len(events) == 3
    # An old scan arriving after a newer one does not restart the stall clock.
    await rig.poll(PICKUP)
    assert await rig.at(at(11, 28, 1), LABEL, PICKUP) == []  # last scan is still Tue 24
    assert states(await rig.at(at(12, 1, 1))) == [("stalled", "open")]  # Wed, Fri, Mon


async def test_lost_supersedes_the_stall(rig: Rig) -> None:
    await rig.at(at(11, 26, 1), LABEL, PICKUP)
    lost = ev(at(11, 27, 10), Status.EXCEPTION, "Lost", CHICAGO, ExceptionKind.LOST)
    alerts = await rig.at(at(11, 27, 11), LABEL, PICKUP, lost)
    assert states(alerts) == [("stalled", "resolved"), ("lost", "open")]
    assert alerts[0].resolution == "superseded by lost"


async def test_an_address_problem_supersedes_the_stall_and_a_return_replaces_it(rig: Rig) -> None:
    await rig.at(at(11, 26, 1), LABEL, PICKUP)
    problem = ev(at(11, 27, 10), Status.EXCEPTION, "Bad address", CHICAGO,
                 ExceptionKind.ADDRESS_ISSUE)  # fmt: skip
    alerts = await rig.at(at(11, 27, 11), LABEL, PICKUP, problem)
    assert states(alerts) == [("stalled", "resolved"), ("exceptions", "open")]
    assert alerts[0].resolution == "superseded by exceptions"
    assert alerts[1].severity.value == "urgent"
    back = ev(at(12, 3, 10), Status.EXCEPTION, "Return to sender", CHICAGO,
              ExceptionKind.RETURNED_TO_SENDER)  # fmt: skip
    alerts = await rig.at(at(12, 3, 11), LABEL, PICKUP, problem, back)
    assert states(alerts) == [("stalled", "resolved"), ("exceptions", "resolved"),
                              ("exceptions", "open")]  # fmt: skip
    assert alerts[2].episode.startswith("returned_to_sender@")


async def test_delivery_closes_stall_and_late_alerts(rig: Rig) -> None:
    eta = at(11, 24)  # due Monday 23 November
    await rig.at(at(11, 26, 1), LABEL, PICKUP, eta=eta)
    alerts = await rig.at(at(11, 26, 2), LABEL, PICKUP, eta=eta)
    assert sorted(states(alerts)) == [("late", "open"), ("stalled", "open")]
    done = ev(at(11, 27, 12), Status.DELIVERED, "Delivered", CHICAGO,
              location=DeliveryLocation.MAILBOX)  # fmt: skip
    alerts = await rig.at(at(11, 27, 13), LABEL, PICKUP, done, eta=eta)
    assert ("late", "resolved") in states(alerts) and ("stalled", "resolved") in states(alerts)
    assert ("delivered", "open") in states(alerts)


async def test_late_escalates_to_staff_once(rig: Rig) -> None:
    eta = at(11, 24)  # Mon 23: the customer at the end of Tue 24, staff at Wed 25 00:00
    moving = ev(at(11, 24, 9), Status.IN_TRANSIT, "Arrived", CHICAGO)
    (alert,) = await rig.at(at(11, 25, 0, 30), LABEL, PICKUP, moving, eta=eta)
    assert alert.rule == "late" and alert.audiences == (Audience.CUSTOMER,)
    assert alert.escalated_at is None
    (alert,) = await rig.at(at(11, 26, 0, 30), LABEL, PICKUP, moving, eta=eta)
    assert alert.escalated_at == rig.clock.now()
    assert set(alert.audiences) == {Audience.CUSTOMER, Audience.STAFF}
    (again,) = await rig.at(at(11, 26, 1), LABEL, PICKUP, moving, eta=eta)
    assert again.escalated_at == alert.escalated_at
    assert await rig.notices() == [("late", "escalated", "staff")]  # no customer channel yet


async def test_a_hand_resolved_alert_stays_resolved_for_its_episode(rig: Rig) -> None:
    await rig.at(at(11, 26, 1), LABEL, PICKUP)
    assert await rig.store.resolve_by_hand(rig.sid, None, "carrier traced it", rig.clock.now())
    (alert,) = await rig.at(at(11, 26, 3), LABEL, PICKUP)
    assert (alert.state.value, alert.resolved_by) == ("resolved", "hand")
    assert alert.resolution == "carrier traced it"
    assert await rig.store.resolve_by_hand(rig.sid, None, "again", rig.clock.now()) == []
    moved = ev(at(11, 27, 8), Status.IN_TRANSIT, "Departed", CHICAGO)
    alerts = await rig.at(at(12, 3, 1), LABEL, PICKUP, moved)  # a new episode later
    assert states(alerts) == [("stalled", "resolved"), ("stalled", "open")]


async def test_a_missing_report_starts_the_wait_once(rig: Rig) -> None:
    done = ev(at(11, 24, 12), Status.DELIVERED, "Delivered", CHICAGO,
              location=DeliveryLocation.FRONT_DOOR)  # fmt: skip
    alerts = await rig.at(at(11, 24, 13), LABEL, PICKUP, done)
    assert sorted(states(alerts)) == [("delivered", "open"), ("risky_delivery", "open")]
    # The day's wait runs from the delivery scan (issue 17 finding 5); a second report
    # moves nothing.
    first = await rig.store.report_missing(rig.sid, "customer", at(11, 24, 14))
    assert await rig.store.report_missing(rig.sid, "staff", at(11, 25, 9)) == first
    assert not [a for a in await rig.at(at(11, 25, 11, 59)) if a.rule == "delivered_not_received"]
    alerts = await rig.at(at(11, 25, 12))
    assert ("delivered_not_received", "open") in states(alerts)
    assert ("risky_delivery", "resolved") in states(alerts)  # answered by the claim
    shipment = await rig.store.get_shipment(rig.sid)
    assert shipment is not None and shipment.missing_reported_by == "customer"
