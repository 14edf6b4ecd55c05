"""Staff hours and the urgent bypass, routing by severity, the daily digest, a channel that
dead-letters (one staff alert, resolved when it delivers again; at once when it is not
configured or not an Apprise URL), customer text messages and per-store templates. Real
SMTP (aiosmtpd) and a real HTTP sink on 127.0.0.1; FrozenClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from rules import RULES
from tests.conftest import BACKENDS
from tests.promised import STALL_PROMISED
from tests.rulekit import BERLIN, NY, at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import ConfigError, Settings, build_settings
from trackwatch.model import (
    Alert,
    Audience,
    Finding,
    NoticeState,
    Outcome,
    Severity,
    Shipment,
    Status,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.digest import Digests, digest_slots
from trackwatch.notify.drafting import Drafter, Pacing
from trackwatch.notify.outbox import CHANNEL_FAILING, Outbox
from trackwatch.notify.pacing import staff_time
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.store import Store, open_store
from trackwatch.store.records import PollUpdate

NUMBER = "1Z5R89390357567127"
PHONE = "+15550001111"
WEEKDAYS = frozenset(range(5))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The tests that reach the outbox's store run on both backends."""
    return str(request.param)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (at(11, 24, 10), NY, at(11, 24, 10)),  # Tuesday 10:00: now
        (at(11, 27, 16, 59), NY, at(11, 27, 16, 59)),  # Friday, a minute before closing
        (at(11, 27, 17), NY, at(11, 30, 9)),  # Friday 17:00: Monday morning
        (at(11, 28, 10), NY, at(11, 30, 9)),  # Saturday
        (at(11, 24, 3), NY, at(11, 24, 9)),  # Tuesday night: that morning
        (at(11, 24, 1), BERLIN, at(11, 24, 9, tz=BERLIN)),  # 07:00 for staff in Berlin
    ],
)
def test_staff_chat_waits_for_staff_hours(
    now: datetime, zone: ZoneInfo, expected: datetime
) -> None:
    assert staff_time(now, zone, WEEKDAYS, (9, 17)) == expected


def settings_for(database: str, chat: HttpSink, smtp: SmtpServer, **store: object) -> Settings:
    channels = {
        "staff_chat": [chat.url("chat")],
        "staff_email": [smtp.url("alerts@jetoy.example") + "&to=team@jetoy.example"],
        "customer_email": [smtp.url("orders@jetoy.example")],
        "customer_sms": [f"json://127.0.0.1:{chat.port}/sms/{{phone}}"],
    }
    return build_settings({
        "daemon": {"database": database, "notice_max_attempts": 2},
        "stores": {"shop": {"name": "Jetoy", "contact_email": "support@jetoy.example",
                            "channels": channels, "policy": STALL_PROMISED, **store}},
    })  # fmt: skip


def shipment(**fields: object) -> Shipment:
    data: dict[str, object] = {
        "id": 1, "store": "shop", "carrier": "ups", "tracking_number": NUMBER, "order_id": "A1",
        "customer_email": "ada@example.org", "customer_name": "Ada",
        "destination_postal_code": "10001", "shipped_at": at(11, 20, 9), **fields,
    }  # fmt: skip
    return Shipment.model_validate(data)


def finding(severity: Severity, rule: str = "stalled") -> Finding:
    return Finding(rule=rule, episode="e1", severity=severity,
                   audiences=(Audience.STAFF, Audience.CUSTOMER), summary="Something is up",
                   action="Look into it", explanation={"why": "because"})  # fmt: skip


def slots(drafter: Drafter, pace: Pacing, severity: Severity,
          audience: Audience = Audience.STAFF, **fields: object) -> dict[str, datetime | None]:  # fmt: skip
    drafts = drafter.for_shipment(shipment(**fields), "stalled", severity,
                                  [(audience, "opened")], pace, alert=finding(severity))  # fmt: skip
    return {d.channel: d.not_before for d in drafts}


async def test_staff_routing_by_severity_and_the_urgent_bypass(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer
) -> None:
    settings = settings_for(str(tmp_path / "tw.db"), sink, smtp)
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer())
    saturday_night = at(11, 28, 2)
    pace = Pacing(saturday_night)
    # Info goes to staff email only (chat's floor is warning); the digest carries it too.
    assert slots(drafter, pace, Severity.INFO) == {"staff_email.0": saturday_night}
    # Warning: email now, chat on Monday morning.
    assert slots(drafter, pace, Severity.WARNING) == {
        "staff_email.0": saturday_night, "staff_chat.0": at(11, 30, 9)}  # fmt: skip
    # Urgent bypasses staff hours.
    assert slots(drafter, pace, Severity.URGENT) == {
        "staff_email.0": saturday_night, "staff_chat.0": saturday_night}  # fmt: skip


async def test_a_customer_with_a_phone_also_gets_a_short_text(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer
) -> None:
    settings = settings_for(str(tmp_path / "tw.db"), sink, smtp)
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer())
    pace = Pacing(at(11, 24, 10))
    assert set(slots(drafter, pace, Severity.WARNING, Audience.CUSTOMER)) == {"customer_email.0"}
    drafts = drafter.for_shipment(shipment(id=2, customer_phone=PHONE), "stalled",
                                  Severity.WARNING, [(Audience.CUSTOMER, "opened")], pace,
                                  alert=finding(Severity.WARNING))  # fmt: skip
    (text,) = [d for d in drafts if d.channel == "customer_sms.0"]
    assert text.recipient == PHONE and text.title == "Jetoy"
    assert "Your order A1 is taking longer than usual" in text.body
    assert f"https://www.ups.com/track?tracknum={NUMBER}" in text.body
    assert len(text.title) + len(text.body) < 160


@dataclass
class Rig:
    store: Store
    monitor: Monitor
    outbox: Outbox
    clock: FrozenClock
    settings: Settings
    drafter: Drafter

    async def stall(self, number: str, when: datetime, **fields: object) -> int:
        """A parcel quiet since the Friday before, judged at `when`: a stalled alert."""
        sid = await self.store.add_shipment(shipment(id=None, tracking_number=number,
                                                     **fields), when)  # fmt: skip
        self.clock.set(when)
        events = [ev(at(11, 13, 9), Status.LABEL_CREATED, "Label"),
                  ev(at(11, 13, 18), Status.IN_TRANSIT, "Pickup scan")]  # fmt: skip
        result = TrackingResult(tracking_number=number, outcome=Outcome.FOUND, events=events,
                                status=Status.IN_TRANSIT)  # fmt: skip
        await self.store.apply_polls([PollUpdate(sid, when, when, result)])
        await self.monitor.run_once()
        return sid

    async def send(self, when: datetime) -> int:
        self.clock.set(when)
        return await self.outbox.run_once()

    async def store_alerts(self) -> list[Alert]:
        return [a for a in await self.store.all_alerts() if a.shipment_id is None]


async def open_rig(settings: Settings) -> Rig:
    clock = FrozenClock(at(11, 23, 10))
    store = await open_store(settings.daemon.database)
    channels = ChannelDirectory(settings.stores)
    drafter = Drafter(settings, channels, Renderer())
    monitor = Monitor(store, RULES, clock, settings, channels, Renderer())
    outbox = Outbox(store, clock, settings.daemon, channels, drafter=drafter)
    return Rig(store, monitor, outbox, clock, settings, drafter)


@pytest.fixture
async def rig(database: str, sink: HttpSink, smtp: SmtpServer) -> AsyncIterator[Rig]:
    opened = await open_rig(settings_for(database, sink, smtp))
    yield opened
    await opened.store.close()


def subjects(smtp: SmtpServer, to: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.messages if m["To"] == to]


async def test_texts_reach_the_customers_number(rig: Rig, sink: HttpSink) -> None:
    await rig.stall("1Z5R89390357567127", at(11, 24, 10), customer_phone=PHONE)
    await rig.send(at(11, 24, 10))
    (text,) = [r for r in sink.received if r.path.startswith("/sms/")]
    assert unquote(text.path) == f"/sms/{PHONE}"
    assert "taking longer than usual" in text.body["message"]


async def test_a_dead_channel_raises_one_staff_alert_until_it_delivers_again(
    rig: Rig, sink: HttpSink, smtp: SmtpServer
) -> None:
    sink.status = 500  # staff chat is down
    await rig.stall("1Z5R89390357567127", at(11, 24, 10))
    await rig.send(at(11, 24, 10))
    await rig.send(at(11, 24, 10, 1))  # the second and last attempt: dead-lettered
    dead = await rig.store.notices(NoticeState.DEAD)
    assert [n.channel for n in dead] == ["staff_chat.0"]
    (alarm,) = await rig.store_alerts()
    assert (alarm.rule, alarm.subject, alarm.severity) == (CHANNEL_FAILING, "staff_chat.0",
                                                           Severity.URGENT)  # fmt: skip
    await rig.send(at(11, 24, 10, 2))  # the alarm goes out on staff email, not the dead chat
    team = subjects(smtp, "team@jetoy.example")
    assert team.count("[Jetoy] Notices to staff_chat.0 are not getting through") == 1

    await rig.stall("1Z879E930346834440", at(11, 24, 11))  # a second one dies the same way
    await rig.send(at(11, 24, 11))
    await rig.send(at(11, 24, 11, 1))
    assert len(await rig.store.notices(NoticeState.DEAD)) == 2
    assert len(await rig.store_alerts()) == 1  # still one alert

    sink.status = 200
    await rig.stall("1Z410E7W0392751591", at(11, 24, 12))
    await rig.send(at(11, 24, 12))
    await rig.send(at(11, 24, 12, 5))
    (alarm,) = await rig.store_alerts()
    assert alarm.resolved_at == at(11, 24, 12) and alarm.resolution == "delivering again"
    team = subjects(smtp, "team@jetoy.example")
    assert team.count("[Jetoy] Resolved: staff_chat.0 delivers again") == 1


async def test_a_notice_to_a_channel_no_longer_configured_is_dead_lettered_at_once(
    rig: Rig, sink: HttpSink, smtp: SmtpServer
) -> None:
    """A reload dropped staff chat while its notice waited: no retry can deliver it, so it
    is dead at its first attempt (of 2), and staff hear of it by email."""
    await rig.stall(NUMBER, at(11, 24, 10))
    stores = {name: store.model_copy(update={"channels": store.channels.model_copy(
        update={"staff_chat": []})}) for name, store in rig.settings.stores.items()}  # fmt: skip
    reloaded = rig.settings.model_copy(update={"stores": stores})
    channels = ChannelDirectory(stores)
    rig.outbox.configure(reloaded.daemon, channels, Drafter(reloaded, channels, Renderer()))
    await rig.send(at(11, 24, 10))
    dead = await rig.store.notices(NoticeState.DEAD)
    assert [(n.channel, n.attempts, n.last_error) for n in dead] == [
        ("staff_chat.0", 1, "channel staff_chat.0 is not configured")]  # fmt: skip
    (alarm,) = await rig.store_alerts()
    assert (alarm.rule, alarm.subject) == (CHANNEL_FAILING, "staff_chat.0")
    await rig.send(at(11, 24, 10, 1))
    assert "[Jetoy] Notices to staff_chat.0 are not getting through" in subjects(
        smtp, "team@jetoy.example")  # fmt: skip
    assert [r for r in sink.received if r.path == "/chat"] == []


async def test_a_notice_to_a_url_apprise_cannot_read_is_dead_lettered_at_once(
    database: str, sink: HttpSink, smtp: SmtpServer
) -> None:
    """A channel whose URL no Apprise plugin takes (a typo in the scheme) can never deliver:
    dead at its first attempt (of 2), with an error that names the channel, not the URL
    (URLs hold secrets)."""
    channels = {"staff_chat": ["discrod://CanaryWebhookId/CanaryWebhookToken"],
                "staff_email": [smtp.url("alerts@jetoy.example") + "&to=team@jetoy.example"]}  # fmt: skip
    rig = await open_rig(settings_for(database, sink, smtp, channels=channels))
    try:
        await rig.stall(NUMBER, at(11, 24, 10))
        await rig.send(at(11, 24, 10))
        dead = await rig.store.notices(NoticeState.DEAD)
        assert [(n.channel, n.attempts, n.last_error) for n in dead] == [
            ("staff_chat.0", 1, "channel staff_chat.0 is not a valid Apprise URL")]  # fmt: skip
        await rig.send(at(11, 24, 10, 1))
        assert "[Jetoy] Notices to staff_chat.0 are not getting through" in subjects(
            smtp, "team@jetoy.example")  # fmt: skip
    finally:
        await rig.store.close()


async def test_the_daily_digest_lists_open_staff_alerts_once(rig: Rig, sink: HttpSink) -> None:
    await rig.stall("1Z5R89390357567127", at(11, 23, 10))
    await rig.send(at(11, 23, 10))
    digests = Digests(rig.store, rig.clock, rig.settings, ChannelDirectory(rig.settings.stores),
                      rig.drafter)  # fmt: skip
    rig.clock.set(at(11, 24, 8, 59))
    assert await digests.next_due() == at(11, 24, 9)
    assert await digests.run_once() == 0
    rig.clock.set(at(11, 24, 9))
    assert await digests.run_once() == 2  # staff chat and staff email
    assert await digests.run_once() == 0
    await rig.send(at(11, 24, 9))
    (chat,) = [r for r in sink.received if r.body["title"].startswith("[Jetoy] 1 open alert")]
    assert "stalled · order A1" in chat.body["message"]
    # A restart the same morning finds the digest already queued: nothing twice.
    again = Digests(rig.store, rig.clock, rig.settings, ChannelDirectory(rig.settings.stores),
                    rig.drafter)  # fmt: skip
    rig.clock.set(at(11, 24, 9, 30))
    await again.run_once()
    assert len([n for n in await rig.store.notices() if n.event == "daily"]) == 2


def test_no_digest_on_a_weekend_or_when_switched_off(
    tmp_path: Path, sink: HttpSink, smtp: SmtpServer
) -> None:
    store = settings_for(str(tmp_path / "tw.db"), sink, smtp).stores["shop"]
    week = digest_slots(store, at(11, 27, 10), at(12, 1, 10))
    assert week == [at(11, 30, 9), at(12, 1, 9)]  # Friday's is past; no Saturday or Sunday
    off = settings_for(
        str(tmp_path / "tw.db"), sink, smtp, policy={"staff": {"digest_at": ""}}
    ).stores["shop"]
    assert digest_slots(off, at(11, 27, 10), at(12, 1, 10)) == []


def test_a_store_can_replace_a_template(tmp_path: Path) -> None:
    (tmp_path / "stalled.customer.opened.txt.j2").write_text(
        "Still on its way: {{ shipment.order_id }}\nSorry for the wait.\n"
    )
    renderer = Renderer({"shop": tmp_path})
    context = {"shipment": shipment(), "store": build_settings({}).store("shop"),
               "alert": finding(Severity.WARNING), "report_url": None}  # fmt: skip
    assert renderer.render("shop", "stalled", Audience.CUSTOMER, "opened", context) == (
        "Still on its way: A1", "Sorry for the wait.")  # fmt: skip
    builtin = renderer.render("other", "stalled", Audience.CUSTOMER, "opened", context)
    assert builtin[0] == "Your order A1 is taking longer than usual"


@pytest.mark.parametrize(
    ("store", "problem"),
    [
        (
            {"templates_dir": "/nonexistent/templates"},
            "stores.shop.templates_dir: Value error, /nonexistent/templates is not a directory",
        ),
        (
            {"channels": {"customer_sms": ["twilio://SID:hunter2@+15550001111"]}},
            "stores.shop.channels.customer_sms: Value error, needs {phone}",
        ),
        ({"policy": {"staff": {"digest_at": "9am"}}}, "stores.shop.policy.staff.digest_at"),
        ({"policy": {"staff": {"timezone": "Mars/Base"}}}, "unknown time zone 'Mars/Base'"),
    ],
)
def test_bad_notice_settings_name_the_key(store: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_settings({"stores": {"shop": {"name": "Jetoy", **store}}})
    assert problem in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_staff_zone_follows_the_origin_country() -> None:
    store = build_settings({"stores": {"uk": {"name": "Prints", "policy": {
        "origin_country": "GB"}}}}).stores["uk"]  # fmt: skip
    assert store.policy.staff_zone().key == "Europe/London"
    assert digest_slots(store, at(11, 24, 0), at(11, 24, 12))[0].astimezone(NY) == \
        at(11, 24, 4)  # fmt: skip
