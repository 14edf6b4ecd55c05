"""Customer email through a real SMTP server (aiosmtpd on 127.0.0.1): one recipient per
notice, the store's name and Reply-To, multipart/alternative, the customer's daytime, one
notice per shipment per window, and an SMTP outage retried and delivered once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules import RULES
from tests.backends import execute
from tests.conftest import BACKENDS
from tests.promised import STALL_PROMISED
from tests.rulekit import BERLIN, HONOLULU, NY, at, ev
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import (
    ExceptionKind,
    NoticeState,
    Outcome,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.outbox import Outbox
from trackwatch.notify.pacing import customer_send_time
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.store import Store, open_store
from trackwatch.store.records import PollUpdate


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that reach the store run on both backends."""
    return str(request.param)


NUMBER = "1Z5R89390357567127"


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (at(11, 26, 1), NY, at(11, 26, 8)),  # 01:00 in New York waits for 08:00
        (at(11, 26, 9), NY, at(11, 26, 9)),  # daytime: now
        (at(11, 26, 21), NY, at(11, 27, 8)),  # evening: tomorrow morning
        (at(11, 26, 9), HONOLULU, at(11, 26, 8, tz=HONOLULU)),  # 04:00 in Honolulu
        (at(11, 26, 9), BERLIN, at(11, 26, 9)),  # 15:00 in Berlin: now
        (at(11, 26, 15), BERLIN, at(11, 27, 8, tz=BERLIN)),  # 21:00 in Berlin
    ],
)
def test_customer_notices_wait_for_daytime_in_the_customers_zone(
    now: datetime, zone: ZoneInfo, expected: datetime
) -> None:
    assert customer_send_time(now, None, timedelta(hours=24), zone, (8, 20)) == expected


def test_one_customer_notice_per_window() -> None:
    previous = at(11, 26, 10)
    later = customer_send_time(at(11, 26, 12), previous, timedelta(hours=24), NY, (8, 20))
    assert later == at(11, 27, 10)
    assert customer_send_time(at(11, 28, 12), previous, timedelta(hours=24), NY, (8, 20)) \
        == at(11, 28, 12)  # fmt: skip


@dataclass
class Rig:
    store: Store
    monitor: Monitor
    outbox: Outbox
    clock: FrozenClock
    sid: int

    async def judge(self, when: datetime, *events: TrackingEvent) -> None:
        self.clock.set(when)
        result = TrackingResult(tracking_number=NUMBER, outcome=Outcome.FOUND,
                                events=list(events), status=events[-1].status)  # fmt: skip
        await self.store.apply_polls([PollUpdate(self.sid, when, when, result)])
        await self.monitor.run_once()

    async def send(self, when: datetime) -> int:
        self.clock.set(when)
        return await self.outbox.run_once()


@pytest.fixture
async def rig(database: str, smtp: SmtpServer) -> AsyncIterator[Rig]:
    settings = build_settings({
        "daemon": {"database": database},
        "stores": {"shop": {"name": "Jetoy", "contact_email": "support@jetoy.example",
                            "policy": STALL_PROMISED,
                            "channels": {"customer_email": [smtp.url()]}}},
    })  # fmt: skip
    clock = FrozenClock(at(11, 20, 9))
    store = await open_store(settings.daemon.database)
    sid = await store.add_shipment(Shipment(
        store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
        customer_email="ada@example.org", customer_name="Ada",
        destination_postal_code="10001", shipped_at=at(11, 20, 9)), clock.now())  # fmt: skip
    channels = ChannelDirectory(settings.stores)
    monitor = Monitor(store, RULES, clock, settings, channels, Renderer())
    outbox = Outbox(store, clock, settings.daemon, channels)
    yield Rig(store, monitor, outbox, clock, sid)
    await store.close()


LABEL = ev(at(11, 20, 9), Status.LABEL_CREATED, "Label")
PICKUP = ev(at(11, 20, 18), Status.IN_TRANSIT, "Pickup scan")


async def test_a_delay_email_waits_for_morning_and_is_well_formed(
    rig: Rig, smtp: SmtpServer
) -> None:
    await rig.judge(at(11, 26, 1), LABEL, PICKUP)  # stalled at 01:00 New York time
    assert await rig.send(at(11, 26, 7, 59)) == 0
    assert smtp.messages == []
    assert await rig.send(at(11, 26, 8)) == 1
    (mail,) = smtp.messages
    assert mail["To"] == "ada@example.org"
    assert mail["From"] == "Jetoy <orders@shop.example>"
    assert mail["Reply-To"] == "support@jetoy.example"
    assert mail["Message-ID"] and mail["Date"]
    assert mail["Subject"] == "Your order A1 is taking longer than usual"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = (part.get_payload(decode=True).decode() for part in mail.get_payload())  # type: ignore[union-attr]
    for body in (text, html):
        assert "Hello Ada" in body and "Order A1" in body
        assert f"https://www.ups.com/track?tracknum={NUMBER}" in body
        assert "support@jetoy.example" in body
    assert f'<a href="https://www.ups.com/track?tracknum={NUMBER}">' in html
    assert await rig.send(at(11, 26, 9)) == 0  # sent once


async def test_a_second_alert_reaches_the_customer_a_window_later(
    rig: Rig, smtp: SmtpServer
) -> None:
    await rig.judge(at(11, 26, 1), LABEL, PICKUP)  # stalled: the email goes at 08:00
    assert await rig.send(at(11, 26, 8)) == 1
    damaged = ev(at(11, 26, 10), Status.EXCEPTION, "Damaged", exception=ExceptionKind.DAMAGED)
    await rig.judge(at(11, 26, 11), LABEL, PICKUP, damaged)
    assert await rig.send(at(11, 27, 7, 59)) == 0  # within 24 h of the first
    assert await rig.send(at(11, 27, 8)) == 1
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects == ["Your order A1 is taking longer than usual",
                        "Your order A1 was damaged in transit"]  # fmt: skip


async def test_an_smtp_outage_is_retried_and_delivered_once(rig: Rig, smtp: SmtpServer) -> None:
    smtp.stop()
    await rig.judge(at(11, 26, 9), LABEL, PICKUP)
    assert await rig.send(at(11, 26, 9)) == 1
    (notice,) = await rig.store.notices()
    assert notice.state is NoticeState.PENDING and notice.attempts == 1
    assert notice.last_error and "ada@example.org" not in notice.last_error
    assert await rig.send(at(11, 26, 9, 0) + timedelta(seconds=30)) == 0  # backing off
    smtp.start()
    assert await rig.send(at(11, 26, 9, 1)) == 1
    assert await rig.send(at(11, 26, 12)) == 0
    assert len(smtp.messages) == 1
    (notice,) = await rig.store.notices()
    assert notice.state is NoticeState.SENT and notice.attempts == 2


def test_the_email_benchmark_delivers_every_notice_and_prints_a_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench-email", "--notices", "6"]) == 0
    out = capsys.readouterr().out
    assert "sent=6 received_by_smtp=6" in out and "notices_per_second=" in out
    assert "per_send_context_notices_per_second=" in out and "speedup=" in out


async def test_an_email_sent_again_carries_the_same_message_id(
    rig: Rig, smtp: SmtpServer, database: str
) -> None:
    """A crash between the SMTP server's acceptance and the "sent" record sends the notice
    again after the restart: both copies carry one Message-ID, the notice's key, so a mail
    client shows one. The crash is played by putting the row back as the dead sender left
    it: claimed, its lease run out."""
    await rig.judge(at(11, 26, 9), LABEL, PICKUP)
    assert await rig.send(at(11, 26, 9)) == 1
    (notice,) = await rig.store.notices()
    await execute(database, "UPDATE notices SET state='sending', sent_at=NULL, lease_until=?"
                  " WHERE id=?", datetime(2026, 11, 26, 14, 5, tzinfo=UTC), notice.id)  # fmt: skip
    assert await rig.send(at(11, 26, 9, 5)) == 1
    first, second = smtp.messages
    assert first.get_all("Message-ID") == second.get_all("Message-ID")
    assert first.get_all("Message-ID") == [f"<{notice.idempotency_key}@127.0.0.1>"]


async def test_a_key_stays_in_its_notice_s_task() -> None:
    """The key rides in a context variable: an email sent by another task meanwhile (another
    notice, or anything else Apprise sends) keeps its own id."""
    import asyncio

    import apprise.plugins.email.base as plugin

    from trackwatch.notify.message_id import keyed

    make = plugin.make_msgid  # type: ignore[attr-defined]
    inside = asyncio.Event()
    done = asyncio.Event()

    async def notice() -> str:
        with keyed("tw-k-1-opened-customer-customer_email.0"):
            inside.set()
            await done.wait()
            return str(make(domain="smtp.example"))

    sending = asyncio.create_task(notice())
    await inside.wait()
    outside = [make(domain="smtp.example") for _ in range(2)]
    done.set()
    assert await sending == "<tw-k-1-opened-customer-customer_email.0@smtp.example>"
    assert outside[0] != outside[1] and "tw-k-1" not in outside[0]
