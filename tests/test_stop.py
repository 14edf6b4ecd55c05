"""Stopping watching a shipment (issue 17, finding 7), through the real monitor and a real
database (SQLite's and PostgreSQL's): polling and judging end, open alerts resolve (staff told once, when they were
told of the alert), every pending customer notice is cancelled, stopping twice changes
nothing, and `restart` watches it again. Time is a FrozenClock; polls are written directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from rules import RULES
from tests.conftest import both_backends
from tests.promised import STALL_PROMISED
from tests.rulekit import at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import Audience, Outcome, Shipment, Status, TrackingResult
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.render import Renderer
from trackwatch.stopping import stop_shipment
from trackwatch.store import Store, open_store
from trackwatch.store.records import AlertOpen, Evaluation, PollUpdate, Reschedule, Stopped

pytestmark = both_backends
NUMBER = "1Z5R89390357567127"
LABEL = ev(at(11, 20, 9), Status.LABEL_CREATED, "Label created")
PICKUP = ev(at(11, 20, 18), Status.IN_TRANSIT, "Pickup scan")
STALLED_AT = at(11, 26, 1)  # Mon, Tue, Wed without a scan


@dataclass
class Rig:
    store: Store
    monitor: Monitor
    clock: FrozenClock
    settings: Settings
    sid: int

    async def poll(self) -> None:
        now = self.clock.now()
        result = TrackingResult(tracking_number=NUMBER, outcome=Outcome.FOUND,
                                events=[LABEL, PICKUP], status=Status.IN_TRANSIT)  # fmt: skip
        await self.store.apply_polls([PollUpdate(self.sid, now, now, result)])

    async def stall(self) -> None:
        """The parcel stalls: its alert opens, customer and staff notices pending."""
        self.clock.set(STALLED_AT)
        await self.poll()
        await self.monitor.run_once()

    async def shipment(self) -> Shipment:
        found = await self.store.get_shipment(self.sid)
        assert found is not None
        return found

    async def stop(self, reason: str = "order refunded", by: str = "staff (cli)") -> Stopped:
        shipment = await self.shipment()
        return await stop_shipment(self.store, self.settings, shipment, reason, by,
                                   self.clock.now())  # fmt: skip

    async def notices(self) -> list[tuple[str, str, str]]:
        return [(n.audience.value, n.event, n.state.value) for n in await self.store.notices()]


@pytest.fixture
async def rig(database: str) -> AsyncIterator[Rig]:
    settings = build_settings({
        "daemon": {"database": database},
        "stores": {"shop": {"name": "Shop", "contact_email": "help@shop.example",
                            "policy": STALL_PROMISED, "channels": {"staff_chat": ["json://127.0.0.1:9/chat"],
                                         "customer_email": ["mailto://127.0.0.1:9?from=o@s.e"]}}},
    })  # fmt: skip
    clock = FrozenClock(at(11, 20, 9))
    store = await open_store(settings.daemon.database)
    shipment = Shipment(store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
                        customer_email="c@example.com", destination_postal_code="10001",
                        destination_city="New York", shipped_at=at(11, 20, 9))  # fmt: skip
    sid = await store.add_shipment(shipment, clock.now())
    monitor = Monitor(store, RULES, clock, settings, ChannelDirectory(settings.stores), Renderer())
    yield Rig(store, monitor, clock, settings, sid)
    await store.close()


async def test_stopping_cancels_customer_notices_and_tells_staff_of_the_resolution(
    rig: Rig,
) -> None:
    await rig.stall()
    assert sorted(await rig.notices()) == [("customer", "opened", "pending"),
                                           ("staff", "opened", "pending")]  # fmt: skip
    await rig.stop("order refunded")
    (alert,) = await rig.store.alerts_for(rig.sid)
    assert (alert.state.value, alert.resolved_by) == ("resolved", "staff (cli)")
    assert alert.resolution == "watching stopped: order refunded"
    assert sorted(await rig.notices()) == [("customer", "opened", "cancelled"),
                                           ("staff", "opened", "pending"),
                                           ("staff", "resolved", "pending")]  # fmt: skip
    customer = [n for n in await rig.store.notices() if n.audience is Audience.CUSTOMER]
    assert customer[0].last_error == "not sent: watching stopped by staff (cli): order refunded"
    resolved = next(n for n in await rig.store.notices() if n.event == "resolved")
    assert "watching stopped by staff (cli): order refunded" in resolved.body
    # Nothing cancelled is taken by the outbox, nor paces a later customer notice.
    claimed = await rig.store.claim_notices(at(12, 30), at(12, 30, 1), 10)
    assert {n.audience for n in claimed} == {Audience.STAFF}
    assert await rig.store.last_customer_notices([rig.sid]) == {}


async def test_a_stopped_shipment_is_neither_polled_nor_judged(rig: Rig) -> None:
    await rig.stall()
    await rig.stop()
    shipment = await rig.shipment()
    assert shipment.active is False
    assert shipment.stopped == "by staff (cli): order refunded"
    assert shipment.stopped_at == STALLED_AT
    assert (shipment.next_poll_at, shipment.check_at) == (None, None)
    # Weeks later the parcel would be lost (and expired): nothing is judged, nothing polled.
    later = STALLED_AT + timedelta(days=60)
    rig.clock.set(later)
    assert (await rig.store.due_shipments(later, 10)).shipments == []
    assert (await rig.store.shipments_to_check(later, 10)).shipments == []
    await rig.monitor.run_once()
    assert [a.rule for a in await rig.store.alerts_for(rig.sid)] == ["stalled"]
    assert await rig.store.next_poll_at() is None and await rig.store.next_check_at() is None
    assert (await rig.store.figures(later)).polled == 0


async def test_stopping_twice_changes_nothing(rig: Rig) -> None:
    await rig.stall()
    first = await rig.stop("order refunded")
    before = await rig.notices()
    rig.clock.set(STALLED_AT + timedelta(hours=1))
    again = await rig.stop("another reason", by="store (api)")
    assert first.already is False and again.already is True
    assert await rig.notices() == before
    shipment = await rig.shipment()
    assert shipment.stopped == "by staff (cli): order refunded"
    assert shipment.stopped_at == STALLED_AT


async def test_restart_watches_a_stopped_shipment_again(rig: Rig) -> None:
    await rig.stall()
    await rig.stop()
    later = STALLED_AT + timedelta(hours=2)
    assert await rig.store.restart_polling(rig.sid, later)
    shipment = await rig.shipment()
    assert shipment.active is True and shipment.stopped is None
    assert shipment.next_poll_at == later
    assert [s.id for s in (await rig.store.due_shipments(later, 10)).shipments] == [rig.sid]
    # The stall resolved by the stop stays resolved: the customer is not told it again.
    rig.clock.set(later)
    await rig.poll()
    await rig.monitor.run_once()
    assert [(a.rule, a.state.value) for a in await rig.store.alerts_for(rig.sid)] == [
        ("stalled", "resolved")]  # fmt: skip
    assert ("customer", "opened", "pending") not in await rig.notices()


async def test_a_judgement_made_before_the_stop_changes_nothing_after_it(rig: Rig) -> None:
    """The rules loop read the shipment, then the stop landed (the API shares its event
    loop; the CLI its database): the judgement opens no alert, notifies nobody and plans no
    poll."""
    await rig.stall()
    shipment = await rig.shipment()
    events = (await rig.store.events_for([rig.sid]))[rig.sid]
    view = rig.monitor.view(shipment, events)
    verdict = rig.monitor.verdict(view, STALLED_AT + timedelta(days=30))
    assert verdict.findings  # lost by then, and more
    await rig.stop()
    finding = next(iter(verdict.findings.values()))
    stale = Evaluation(opens=[AlertOpen(rig.sid, finding, ())],
                       schedules=[Reschedule(rig.sid, STALLED_AT + timedelta(days=1),
                                             STALLED_AT + timedelta(hours=1),
                                             shipment.revision)])  # fmt: skip
    applied = await rig.store.apply_evaluation(stale, STALLED_AT)
    assert not applied
    assert [a.rule for a in await rig.store.alerts_for(rig.sid)] == ["stalled"]
    after = await rig.shipment()
    assert (after.next_poll_at, after.check_at) == (None, None)


async def test_a_poll_landing_after_the_stop_plans_no_other(rig: Rig) -> None:
    await rig.stall()
    await rig.stop()
    await rig.poll()  # a poll that was in flight when the stop landed
    shipment = await rig.shipment()
    assert shipment.next_poll_at is None and shipment.active is False
    assert await rig.store.next_poll_at() is None


async def test_stopping_a_shipment_without_alerts_records_the_reason(rig: Rig) -> None:
    stopped = await rig.stop("label voided", by="store (api)")
    assert stopped.resolved == () and stopped.cancelled == 0
    shipment = await rig.shipment()
    assert shipment.stopped == "by store (api): label voided" and not shipment.active
    assert await rig.store.stop_watching(999, "x", "y", STALLED_AT) is None
