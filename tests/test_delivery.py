"""How notices reach people: the store's name as the email's sender, urgency carried to chat
as Apprise's notify type, a digest without info-level noise, staff hours and the digest off
on the store's public holidays, urgent customer notices ahead of the pacing window, and no
customer notice sent in the customer's night whatever delayed it. Real SMTP (aiosmtpd), a
real HTTP sink and a real SQLite file on 127.0.0.1; FrozenClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import HeaderRegistry
from pathlib import Path
from typing import Any

import pytest

from rules import RULES
from tests.conftest import BACKENDS
from tests.promised import STALL_PROMISED
from tests.rulekit import HONOLULU, NY, at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import ConfigError, Settings, StoreSettings, build_settings
from trackwatch.model import (
    Audience,
    ExceptionKind,
    Finding,
    NoticeState,
    Outcome,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.digest import Digests, digest_slots
from trackwatch.notify.drafting import Drafter, Pacing, staff_slot
from trackwatch.notify.outbox import Outbox
from trackwatch.notify.pacing import staff_time
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.store import Store, open_store
from trackwatch.store.records import AlertOpen, Evaluation, PollUpdate


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that reach the store run on both backends."""
    return str(request.param)


NUMBER = "1Z5R89390357567127"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
THANKSGIVING = at(11, 26)  # Thursday 26 November 2026, a US federal holiday
LABEL = ev(at(11, 13, 9), Status.LABEL_CREATED, "Label")
PICKUP = ev(at(11, 13, 18), Status.IN_TRANSIT, "Pickup scan")  # stalled from 19 November


def settings_for(database: str, chat: HttpSink, smtp: SmtpServer, name: str = "Jetoy",
                 **store: Any) -> Settings:  # fmt: skip
    channels = {
        "staff_chat": [chat.url("chat")],
        "staff_email": [smtp.url("alerts@jetoy.example") + "&to=team@jetoy.example"],
        "customer_email": [smtp.url("orders@jetoy.example")],
    }
    return build_settings({
        "daemon": {"database": database},
        "stores": {"shop": {"name": name, "contact_email": "support@jetoy.example",
                            "channels": channels, "policy": STALL_PROMISED, **store}},
    })  # fmt: skip


@dataclass
class Rig:
    store: Store
    monitor: Monitor
    outbox: Outbox
    clock: FrozenClock
    settings: Settings
    drafter: Drafter

    async def add(self, number: str = NUMBER, postal_code: str = "10001") -> int:
        parcel = Shipment(store="shop", carrier="ups", tracking_number=number, order_id="A1",
                          customer_email="ada@example.org", customer_name="Ada",
                          destination_postal_code=postal_code, shipped_at=at(11, 13, 9))  # fmt: skip
        return await self.store.add_shipment(parcel, self.clock.now())

    async def judge(self, sid: int, when: datetime, *events: TrackingEvent) -> None:
        self.clock.set(when)
        result = TrackingResult(tracking_number=NUMBER, outcome=Outcome.FOUND,
                                events=list(events), status=events[-1].status)  # fmt: skip
        await self.store.apply_polls([PollUpdate(sid, when, when, result)])
        await self.monitor.run_once()

    async def send(self, when: datetime) -> int:
        self.clock.set(when)
        return await self.outbox.run_once()

    def digests(self) -> Digests:
        return Digests(self.store, self.clock, self.settings,
                       ChannelDirectory(self.settings.stores), self.drafter)  # fmt: skip


async def open_rig(settings: Settings) -> Rig:
    clock = FrozenClock(at(11, 16, 9))
    store = await open_store(settings.daemon.database)
    channels = ChannelDirectory(settings.stores)
    drafter = Drafter(settings, channels, Renderer())
    monitor = Monitor(store, RULES, clock, settings, channels, Renderer(), drafter=drafter)
    outbox = Outbox(store, clock, settings.daemon, channels, drafter=drafter)
    return Rig(store, monitor, outbox, clock, settings, drafter)


@pytest.fixture
async def rig(database: str, sink: HttpSink, smtp: SmtpServer) -> AsyncIterator[Rig]:
    opened = await open_rig(settings_for(database, sink, smtp))
    yield opened
    await opened.store.close()


def customer_mail(smtp: SmtpServer) -> int:
    """How many emails the customer received (what each said is the templates' business)."""
    return len([m for m in smtp.messages if m["To"] == "ada@example.org"])


async def customer_sent(rig: Rig) -> list[tuple[str, datetime | None]]:
    """(rule, sent at) of each customer notice, in the order drafted."""
    rules = {a.id: a.rule for a in await rig.store.all_alerts()}
    return [(rules[n.alert_id or 0], n.sent_at) for n in await rig.store.notices()
            if n.audience is Audience.CUSTOMER]  # fmt: skip


# --- 8: the sender's name --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Demo Prints", "Café Crème", "Smith, Jones & Co", 'The "Best" Prints',
     "Ünïcødé, \"quoted\" + more", "100%41 Cotton", "O'Neil; Sons <Prints>"],
)  # fmt: skip
async def test_the_email_s_sender_is_the_store_s_name_exactly(
    database: str, sink: HttpSink, smtp: SmtpServer, name: str
) -> None:
    """Read by a real SMTP server and parsed as a mail client does (RFC 5322 with RFC 2047
    encoded words): the display name is the store's name, character for character."""
    rig = await open_rig(settings_for(database, sink, smtp, name=name))
    try:
        sid = await rig.add()
        await rig.judge(sid, at(11, 24, 10), LABEL, PICKUP)
        await rig.send(at(11, 24, 10))
    finally:
        await rig.store.close()
    (mail,) = [m for m in smtp.messages if m["To"] == "ada@example.org"]
    sender = HeaderRegistry()("From", str(mail["From"]))
    (address,) = sender.addresses  # type: ignore[attr-defined]
    assert (address.display_name, address.addr_spec) == (name, "orders@jetoy.example")


# --- 9a: urgency carried to chat -------------------------------------------------------------


async def chat_types(rig: Rig, sink: HttpSink) -> dict[tuple[str, str], str]:
    """(rule, event) -> the Apprise type of the chat message about it ("digest" for the
    digest), matched by the Idempotency-Key header each notice carries."""
    rules = {a.id: a.rule for a in await rig.store.all_alerts()}
    notices = {n.idempotency_key: n for n in await rig.store.notices()}
    got: dict[tuple[str, str], str] = {}
    for received in (r for r in sink.received if r.path == "/chat"):
        notice = notices[received.headers["Idempotency-Key"]]
        rule = rules[notice.alert_id] if notice.alert_id is not None else "digest"
        got[(rule, notice.event)] = received.body["type"]
    return got


async def test_chat_messages_carry_their_urgency_as_the_apprise_type(
    database: str, sink: HttpSink, smtp: SmtpServer
) -> None:
    """Stalled (warning) is `warning`, an address problem (urgent) `failure`, the stall's
    resolution `success`, an info-level flag and the digest `info`."""
    staff = {"weekdays": EVERY_DAY, "day_starts": 0, "day_ends": 24, "holidays": "none"}
    rig = await open_rig(settings_for(database, sink, smtp, policy={"staff": staff},
                                      notices={"staff_chat_min_severity": "info"}))  # fmt: skip
    try:
        sid = await rig.add()
        await rig.judge(sid, at(11, 24, 10), LABEL, PICKUP)
        await rig.send(at(11, 24, 10))
        problem = ev(at(11, 24, 11), Status.EXCEPTION, "Address problem",
                     exception=ExceptionKind.ADDRESS_ISSUE)  # fmt: skip
        await rig.judge(sid, at(11, 24, 12), LABEL, PICKUP, problem)
        await rig.send(at(11, 24, 12))
        other = await rig.add("1Z879E930346834440")
        await open_alert(rig, other, "risky_delivery", Severity.INFO)
        await rig.send(at(11, 24, 13))
        rig.clock.set(at(11, 25, 9))
        await rig.digests().run_once()
        await rig.send(at(11, 25, 9))
        got = await chat_types(rig, sink)
    finally:
        await rig.store.close()
    assert got == {
        ("stalled", "opened"): "warning",
        ("exceptions", "opened"): "failure",
        ("stalled", "resolved"): "success",
        ("risky_delivery", "opened"): "info",
        ("digest", "daily"): "info",
    }


async def open_alert(rig: Rig, sid: int, rule: str, severity: Severity) -> None:
    """An alert opened as the monitor opens one (staff told on their channels)."""
    finding = Finding(rule=rule, episode="e1", severity=severity, audiences=(Audience.STAFF,),
                      summary="Parcel A1 was delivered where parcels go missing",
                      action="Be ready", explanation={"why": "front door"})  # fmt: skip
    shipment = await rig.store.get_shipment(sid)
    assert shipment is not None
    drafts = rig.drafter.for_shipment(shipment, rule, severity, [(Audience.STAFF, "opened")],
                                      Pacing(rig.clock.now()), alert=finding)  # fmt: skip
    await rig.store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, finding, drafts)]),
                                     rig.clock.now())  # fmt: skip


# --- 9b: a digest without noise --------------------------------------------------------------


async def test_the_digest_leaves_out_info_level_flags(rig: Rig, sink: HttpSink) -> None:
    """A risky delivery (info) stays open for the claim window; the digest lists only what
    staff must act on, and says nothing on a morning when only such flags are open."""
    flagged = await rig.add()
    await open_alert(rig, flagged, "risky_delivery", Severity.INFO)
    digests = rig.digests()
    rig.clock.set(at(11, 24, 9))
    assert await digests.run_once() == 0  # only an info-level flag: no digest at all
    stalled = await rig.add("1Z879E930346834440")
    await open_alert(rig, stalled, "stalled", Severity.WARNING)
    rig.clock.set(at(11, 25, 9))
    assert await digests.run_once() == 2  # staff chat and staff email
    await rig.send(at(11, 25, 9))
    (chat,) = [r for r in sink.received if r.path == "/chat" and "open alert" in r.body["title"]]
    assert chat.body["title"] == "[Jetoy] 1 open alert on Wed 25 Nov"
    assert "stalled" in chat.body["message"] and "risky" not in chat.body["message"]


# --- 9c: public holidays ---------------------------------------------------------------------


def staff_store(tmp_path: Path, sink: HttpSink, smtp: SmtpServer, **staff: Any) -> StoreSettings:
    return settings_for(str(tmp_path / "tw.db"), sink, smtp, policy={"staff": staff}).stores["shop"]


def test_staff_hours_skip_public_holidays() -> None:
    """Wednesday evening before Thanksgiving, or Thanksgiving itself: chat waits for Friday
    morning."""
    closed = {THANKSGIVING.date()}.__contains__
    weekdays, hours = frozenset(range(5)), (9, 17)
    for drafted in (at(11, 25, 18), at(11, 26, 10)):
        assert staff_time(drafted, NY, weekdays, hours, closed) == at(11, 27, 9)
    assert staff_time(at(11, 25, 18), NY, weekdays, hours) == at(11, 26, 9)  # none given


@pytest.mark.parametrize(
    ("staff", "expected"),
    [
        ({}, at(11, 27, 9)),  # the origin country's holidays by default: Friday
        ({"holidays": "none"}, at(11, 26, 9)),  # switched off: Thanksgiving morning
    ],
)
def test_staff_chat_waits_over_thanksgiving(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer, staff: dict[str, str], expected: datetime
) -> None:
    store = staff_store(tmp_path, sink, smtp, **staff)
    assert staff_slot(store, "staff_chat.0", Severity.WARNING, at(11, 25, 18)) == expected
    assert staff_slot(store, "staff_chat.0", Severity.URGENT, at(11, 25, 18)) == at(11, 25, 18)


def test_no_digest_on_thanksgiving_unless_holidays_are_switched_off(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer
) -> None:
    week = (at(11, 25, 10), at(11, 28, 10))
    assert digest_slots(staff_store(tmp_path, sink, smtp), *week) == [at(11, 27, 9)]
    off = staff_store(tmp_path, sink, smtp, holidays="none")
    assert digest_slots(off, *week) == [at(11, 26, 9), at(11, 27, 9)]


def test_a_subdivision_s_holidays_count_where_given(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer
) -> None:
    """Patriots' Day (Monday 20 April 2026) is a holiday in Massachusetts, not federally."""
    day = (at(4, 19, 10), at(4, 21, 10))
    assert digest_slots(staff_store(tmp_path, sink, smtp), *day) == [at(4, 20, 9), at(4, 21, 9)]
    boston = staff_store(tmp_path, sink, smtp, holidays="US-MA")
    assert digest_slots(boston, *day) == [at(4, 21, 9)]


@pytest.mark.parametrize("value", ["US-XX", "Narnia", "ZZ"])
def test_an_unknown_holiday_calendar_names_the_key(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_settings({"stores": {"shop": {"name": "Jetoy",
                                            "policy": {"staff": {"holidays": value}}}}})  # fmt: skip
    assert "stores.shop.policy.staff.holidays" in str(caught.value)
    assert repr(value) in str(caught.value)


# --- 9d: urgent customer notices -------------------------------------------------------------


async def test_an_address_problem_reaches_the_customer_without_waiting_a_day(
    rig: Rig, smtp: SmtpServer
) -> None:
    """The stall email went at 10:00; the carrier reports an address problem at 12:00 and
    holds the parcel about a week: the customer hears of it at once, not 24 h later."""
    sid = await rig.add()
    await rig.judge(sid, at(11, 24, 10), LABEL, PICKUP)
    await rig.send(at(11, 24, 10))
    problem = ev(at(11, 24, 11), Status.EXCEPTION, "Address problem",
                 exception=ExceptionKind.ADDRESS_ISSUE)  # fmt: skip
    await rig.judge(sid, at(11, 24, 12), LABEL, PICKUP, problem)
    await rig.send(at(11, 24, 12))
    assert await customer_sent(rig) == [("stalled", at(11, 24, 10)),
                                        ("exceptions", at(11, 24, 12))]  # fmt: skip
    assert customer_mail(smtp) == 2


async def test_an_urgent_notice_at_night_waits_for_the_morning_not_the_window(
    rig: Rig, smtp: SmtpServer
) -> None:
    """An address problem at 23:00 is worth a morning email, not a 2 a.m. one."""
    sid = await rig.add()
    await rig.judge(sid, at(11, 24, 19), LABEL, PICKUP)
    await rig.send(at(11, 24, 19))
    problem = ev(at(11, 24, 22), Status.EXCEPTION, "Address problem",
                 exception=ExceptionKind.ADDRESS_ISSUE)  # fmt: skip
    await rig.judge(sid, at(11, 24, 23), LABEL, PICKUP, problem)
    await rig.send(at(11, 25, 2))
    await rig.send(at(11, 25, 7, 59))
    assert customer_mail(smtp) == 1
    await rig.send(at(11, 25, 8))
    assert await customer_sent(rig) == [("stalled", at(11, 24, 19)),
                                        ("exceptions", at(11, 25, 8))]  # fmt: skip
    assert customer_mail(smtp) == 2


async def test_a_warning_still_waits_its_window_behind_an_urgent_notice(
    rig: Rig, smtp: SmtpServer
) -> None:
    """Urgency jumps the queue; the next ordinary notice still keeps its distance."""
    sid = await rig.add()
    problem = ev(at(11, 24, 9), Status.EXCEPTION, "Address problem",
                 exception=ExceptionKind.ADDRESS_ISSUE)  # fmt: skip
    await rig.judge(sid, at(11, 24, 10), LABEL, PICKUP, problem)
    await rig.send(at(11, 24, 10))
    parcel = await rig.store.get_shipment(sid)
    assert parcel is not None
    pace = Pacing(at(11, 24, 12), await rig.store.last_customer_notices([sid]))
    stall = Finding(rule="stalled", episode="e2", severity=Severity.WARNING,
                    audiences=(Audience.CUSTOMER,), summary="Stalled", action="Wait",
                    explanation={"why": "no scan"})  # fmt: skip
    drafts = rig.drafter.for_shipment(parcel, "stalled", Severity.WARNING,
                                      [(Audience.CUSTOMER, "opened")], pace, alert=stall)  # fmt: skip
    assert [d.not_before for d in drafts] == [at(11, 25, 10)]


# --- night sends -----------------------------------------------------------------------------


async def test_a_customer_notice_held_up_into_the_night_waits_for_morning(
    rig: Rig, smtp: SmtpServer
) -> None:
    """Drafted at 19:30 for the customer's daytime, the daemon was down until 23:00: the
    outbox puts it back to 08:00 without counting an attempt."""
    sid = await rig.add()
    await rig.judge(sid, at(11, 24, 19, 30), LABEL, PICKUP)
    assert await rig.send(at(11, 24, 23)) == 1  # the staff email; the customer's waits
    assert customer_mail(smtp) == 0
    (waiting,) = [n for n in await rig.store.notices() if n.audience is Audience.CUSTOMER]
    assert (waiting.state, waiting.attempts) == (NoticeState.PENDING, 0)
    assert waiting.next_attempt_at == at(11, 25, 8)
    assert await rig.send(at(11, 25, 7, 59)) == 0
    assert await rig.send(at(11, 25, 8)) == 1
    assert customer_mail(smtp) == 1
    (sent,) = [n for n in await rig.store.notices() if n.audience is Audience.CUSTOMER]
    assert (sent.state, sent.attempts) == (NoticeState.SENT, 1)


async def test_a_retry_that_falls_in_the_night_waits_for_morning(
    rig: Rig, smtp: SmtpServer
) -> None:
    smtp.stop()
    sid = await rig.add()
    await rig.judge(sid, at(11, 24, 19, 59), LABEL, PICKUP)
    await rig.send(at(11, 24, 19, 59))  # refused; retried a minute later, at 20:00
    smtp.start()
    await rig.send(at(11, 24, 20, 0))
    assert customer_mail(smtp) == 0
    (waiting,) = [n for n in await rig.store.notices() if n.audience is Audience.CUSTOMER]
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (
        NoticeState.PENDING, 1, at(11, 25, 8))  # fmt: skip
    await rig.send(at(11, 25, 8))
    assert customer_mail(smtp) == 1


async def test_the_night_is_the_customer_s_not_the_store_s(rig: Rig, smtp: SmtpServer) -> None:
    """09:00 in New York is 04:00 in Honolulu: a notice held up until then waits for 08:00
    Hawaii time."""
    sid = await rig.add(postal_code="96813")
    await rig.judge(sid, at(11, 24, 19, 0, tz=HONOLULU), LABEL, PICKUP)
    await rig.send(at(11, 25, 4, 0, tz=HONOLULU))
    assert customer_mail(smtp) == 0
    await rig.send(at(11, 25, 8, 0, tz=HONOLULU))
    assert customer_mail(smtp) == 1
