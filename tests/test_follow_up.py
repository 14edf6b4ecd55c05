"""A customer told their parcel is stuck ("We will write again as soon as it moves") is told,
once, when it moves again; delivered first, the delivered email is that word. Through the
real rules loop and outbox to a real SMTP server (aiosmtpd), on a FrozenClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from rules import RULES
from tests.conftest import BACKENDS
from tests.promised import STALL_PROMISED
from tests.rulekit import at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import (
    DeliveryLocation,
    ExceptionKind,
    Outcome,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.outbox import Outbox
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.store import Store, open_store
from trackwatch.store.records import PollUpdate


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that reach the store run on both backends."""
    return str(request.param)


NUMBER = "1Z5R89390357567127"
LABEL = ev(at(11, 16, 9), Status.LABEL_CREATED, "Label")
PICKUP = ev(at(11, 16, 18), Status.IN_TRANSIT, "Pickup scan")
MOVED = ev(at(11, 20, 10), Status.IN_TRANSIT, "Departed facility")
DELIVERED = ev(at(11, 20, 10), Status.DELIVERED, "Delivered")


@dataclass
class Rig:
    store: Store
    monitor: Monitor
    outbox: Outbox
    clock: FrozenClock
    sid: int
    smtp: SmtpServer

    async def poll(self, when: datetime, *events: TrackingEvent) -> None:
        """The carrier's answer at `when`, judged and sent."""
        self.clock.set(when)
        result = TrackingResult(tracking_number=NUMBER, outcome=Outcome.FOUND,
                                events=list(events), status=events[-1].status)  # fmt: skip
        await self.store.apply_polls([PollUpdate(self.sid, when, when, result)])
        await self.monitor.run_once()
        await self.outbox.run_once()

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.smtp.messages]


@pytest.fixture
async def rig(database: str, smtp: SmtpServer) -> AsyncIterator[Rig]:
    settings = build_settings({
        "daemon": {"database": database},
        "stores": {"shop": {"name": "Jetoy", "channels": {"customer_email": [smtp.url()]},
                            "notices": {"customer_window_hours": 1},
                            "policy": STALL_PROMISED}},
    })  # fmt: skip
    clock = FrozenClock(at(11, 16, 9))
    store = await open_store(settings.daemon.database)
    sid = await store.add_shipment(Shipment(
        store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
        customer_email="ada@example.org", destination_postal_code="10001",
        shipped_at=at(11, 16, 9)), clock.now())  # fmt: skip
    channels = ChannelDirectory(settings.stores)
    monitor = Monitor(store, RULES, clock, settings, channels, Renderer())
    yield Rig(store, monitor, Outbox(store, clock, settings.daemon, channels), clock, sid, smtp)
    await store.close()


STUCK = "Your order A1 is taking longer than usual"


async def test_a_customer_told_it_is_stuck_hears_once_when_it_moves(rig: Rig) -> None:
    await rig.poll(at(11, 20, 9), LABEL, PICKUP)  # 3 business days without a scan
    assert rig.subjects() == [STUCK]
    await rig.poll(at(11, 20, 12), LABEL, PICKUP, MOVED)
    assert rig.subjects() == [STUCK, "Your order A1 is moving again"]
    await rig.poll(at(11, 20, 18), LABEL, PICKUP, MOVED)  # judged again: nothing more
    assert len(rig.subjects()) == 2
    body = rig.smtp.messages[1].get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    assert "on its way again" in body and NUMBER in body


async def test_delivered_first_the_delivered_email_is_the_word(rig: Rig) -> None:
    await rig.poll(at(11, 20, 9), LABEL, PICKUP)
    await rig.poll(at(11, 20, 12), LABEL, PICKUP, DELIVERED)
    subjects = rig.subjects()
    assert subjects[0] == STUCK and subjects[1] == "Your order A1 has been delivered"
    assert "Your order A1 is moving again" not in subjects


async def test_staff_hear_of_a_resolution_in_the_destination_s_time(rig: Rig) -> None:
    await rig.poll(at(11, 20, 9), LABEL, PICKUP)
    await rig.poll(at(11, 20, 12), LABEL, PICKUP, MOVED)
    (alert,) = await rig.store.all_alerts()
    assert alert.resolution is not None and "UTC" not in alert.resolution
    assert alert.resolution.endswith("at 2026-11-20 10:00 EST")


async def test_the_plain_text_part_reads_as_written(rig: Rig) -> None:
    """Apprise derives the text part from the HTML: no line may come out indented."""
    await rig.poll(at(11, 20, 9), LABEL, PICKUP)
    text = rig.smtp.messages[0].get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    lines = text.splitlines()
    assert any(line.startswith("Track it: ") for line in lines)
    assert not [line for line in lines if line.startswith(" ")]


async def test_an_info_flag_ending_is_not_news_to_staff(database: str, smtp: SmtpServer) -> None:
    """A risky delivery (info) is told to staff once; when it ends, nothing more."""
    settings = build_settings({
        "daemon": {"database": database},
        "stores": {"shop": {"name": "Jetoy", "channels": {"staff_email": [smtp.url()]},
                            "notices": {"staff_email_min_severity": "info"}}},
    })  # fmt: skip
    clock = FrozenClock(at(11, 16, 9))
    store = await open_store(settings.daemon.database)
    sid = await store.add_shipment(Shipment(
        store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
        customer_email="ada@example.org", destination_postal_code="10001",
        shipped_at=at(11, 16, 9)), clock.now())  # fmt: skip
    channels = ChannelDirectory(settings.stores)
    rig = Rig(store, Monitor(store, RULES, clock, settings, channels, Renderer()),
              Outbox(store, clock, settings.daemon, channels), clock, sid, smtp)  # fmt: skip
    porch = ev(at(11, 18, 10), Status.DELIVERED, "Delivered", location=DeliveryLocation.FRONT_DOOR)
    await rig.poll(at(11, 18, 12), LABEL, PICKUP, porch)
    await rig.poll(at(12, 30, 12), LABEL, PICKUP, porch)  # past every window
    alerts = await store.all_alerts()
    assert {a.rule for a in alerts} >= {"risky_delivery"} and all(a.resolved_at for a in alerts)
    subjects = [str(m["Subject"]) for m in smtp.messages]
    assert len(subjects) == 1 and "Resolved" not in subjects[0]  # the flag, told once
    await store.close()


async def test_a_word_owed_outlives_a_staff_finding_that_took_the_stall_over(rig: Rig) -> None:
    """Stuck (customer told), then silent long enough to be presumed lost (a staff finding
    that supersedes the stall): when the parcel moves at last, the customer hears it."""
    await rig.poll(at(11, 20, 9), LABEL, PICKUP)
    assert rig.subjects() == [STUCK]
    await rig.poll(at(12, 4, 12), LABEL, PICKUP)
    await rig.poll(at(12, 7, 12), LABEL, PICKUP)
    rules = {a.rule: a for a in await rig.store.all_alerts()}
    assert rules["stalled"].resolution == "superseded by lost"
    assert rig.subjects() == [STUCK]  # presumed lost is staff's business
    moved = ev(at(12, 8, 10), Status.IN_TRANSIT, "Departed facility")
    await rig.poll(at(12, 8, 12), LABEL, PICKUP, moved)
    assert rig.subjects() == [STUCK, "Your order A1 is moving again"]
    await rig.poll(at(12, 9, 12), LABEL, PICKUP, moved)
    assert len(rig.subjects()) == 2  # once


async def test_other_news_is_the_word_not_moving_again(rig: Rig) -> None:
    """A damage scan after the stall: the damage email is the news; no "moving again"."""
    await rig.poll(at(11, 20, 9), LABEL, PICKUP)
    damaged = ev(at(11, 20, 10), Status.EXCEPTION, "Damaged", exception=ExceptionKind.DAMAGED)
    await rig.poll(at(11, 20, 12), LABEL, PICKUP, damaged)
    rig.clock.set(at(11, 21, 12))
    await rig.outbox.run_once()
    subjects = rig.subjects()
    assert subjects[0] == STUCK and "damaged" in subjects[1].lower()
    assert "Your order A1 is moving again" not in subjects
    moved = ev(at(11, 23, 10), Status.IN_TRANSIT, "Departed facility")
    await rig.poll(at(11, 23, 12), LABEL, PICKUP, damaged, moved)
    assert "Your order A1 is moving again" not in rig.subjects()  # the debt was paid


async def test_a_stall_that_ends_before_its_email_goes_sends_neither(rig: Rig) -> None:
    """Stalled at 03:00 (its email waits for 08:00), moving at 05:00: the customer gets
    neither the stale "taking longer" nor a "moving again" for a worry they never had."""
    await rig.poll(at(11, 20, 3), LABEL, PICKUP)
    moved = ev(at(11, 20, 5), Status.IN_TRANSIT, "Departed facility")
    await rig.poll(at(11, 20, 6), LABEL, PICKUP, moved)
    for hour in (8, 9, 10):
        rig.clock.set(at(11, 20, hour))
        await rig.outbox.run_once()
    assert rig.subjects() == []
    (stale,) = [n for n in await rig.store.notices() if n.audience.value == "customer"]
    assert stale.state.value == "cancelled"
