"""Upgrading to schema 20 while parcels to Canada, Australia, Brazil and Russia are watched
(the zone fix, trackwatch.zones: Toronto was read in Newfoundland's time): the database the
old code filled through real polls of the sandbox is migrated, the new code polls and judges
the same parcels again, and nothing is stored, opened or sent twice; every stored instant is
then what a database filled by the new code from the start holds.

The carriers (the sandbox) always speak the true local time; only the daemon's side used the
legacy zone lookup before the upgrade: it is put into the modules that read zones for the
first phase, and the database is left at the previous release's version (19; PostgreSQL 10).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import carriers.base
import carriers.dhl.parse
import carriers.ups.parse
import carriers.ups.push
import carriers.usps.parse
import trackwatch.calendar
import trackwatch.notify.drafting
import trackwatch.notify.outbox
import trackwatch.policy
import trackwatch.views
import trackwatch.web.report_page
from tests.backends import execute
from tests.conftest import ALWAYS_STAFFED, both_backends
from trackwatch.app import open_daemon
from trackwatch.calendar import calendar_for
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.legacy_zones import legacy_zone_for
from trackwatch.model import Place, Shipment
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store import open_store, sqlite_path
from trackwatch.store.postgres import base as postgres_base
from trackwatch.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.sqlite import base as sqlite_base
from trackwatch.zones import zone_for

pytestmark = both_backends
NY = ZoneInfo("America/New_York")
# Every module of the daemon's side that looks a zone up (the sandbox's are left alone).
READERS = (carriers.base, carriers.dhl.parse, carriers.ups.parse, carriers.ups.push,
           carriers.usps.parse, trackwatch.calendar, trackwatch.notify.drafting,
           trackwatch.notify.outbox, trackwatch.policy, trackwatch.views,
           trackwatch.web.report_page)  # fmt: skip

CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
TORONTO = Place(city="Toronto", state="ON", postal_code="M5V 3L9", country="CA")
VANCOUVER = Place(city="Vancouver", state="BC", postal_code="V6B 1A1", country="CA")
# Perth: Lord Howe's time (the old lookup's for all Australia) is Sydney's in November.
PERTH = Place(city="Perth", state="WA", postal_code="6000", country="AU")
SAO_PAULO = Place(city="Sao Paulo", state="SP", postal_code="01310-100", country="BR")
MOSCOW = Place(city="Moscow", postal_code="101000", country="RU")
START = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
UPGRADED_AT = datetime(2026, 12, 4, 12, 0, tzinfo=NY)
END = UPGRADED_AT + timedelta(hours=12)


def local(place: Place, day: int, hour: int, month: int = 11) -> datetime:
    """A wall time where `place` is, by the carrier's own clock (the fixed lookup)."""
    zone = zone_for(place.country, place.postal_code, place.state)
    return datetime(2026, month, day, hour, 0, tzinfo=zone)


def shipped(place: Place) -> list[Milestone]:
    return [Milestone(local(CHICAGO, 23, 10), "label", CHICAGO),
            Milestone(local(CHICAGO, 23, 18), "picked_up", CHICAGO)]  # fmt: skip


def daily(place: Place) -> list[Milestone]:
    """A scan at 09:00 there every day from Nov 25 to Dec 3 (none after the upgrade)."""
    days = [datetime(2026, 11, 25) + timedelta(days=n) for n in range(9)]
    return [Milestone(local(place, d.day, 9, d.month), "in_transit", place) for d in days]


@dataclass(frozen=True)
class Case:
    carrier: str
    number: str
    destination: Place
    timeline: list[Milestone]
    scheduled: date | None = None


CASES = (
    # Delivered in Toronto: the delivered check-in is open, the customer was told.
    Case(
        "dhl",
        "1234567890",
        TORONTO,
        [
            *shipped(TORONTO),
            Milestone(local(TORONTO, 25, 8), "arrived", TORONTO),
            Milestone(local(TORONTO, 27, 8), "out_for_delivery", TORONTO),
            Milestone(local(TORONTO, 27, 14), "delivered", TORONTO, "Front Door"),
        ],
    ),
    # The same by FedEx, which gives every scan and date its offset: nothing to re-date.
    Case(
        "fedex",
        "998886861174",
        TORONTO,
        [
            *shipped(TORONTO),
            Milestone(local(TORONTO, 25, 8), "arrived", TORONTO),
            Milestone(local(TORONTO, 27, 14), "delivered", TORONTO, "Front Door"),
        ],
    ),
    # Held by customs in Perth: an exception open.
    Case(
        "dhl",
        "2234567890",
        PERTH,
        [
            *shipped(PERTH),
            Milestone(local(PERTH, 26, 9), "arrived", PERTH),
            Milestone(local(PERTH, 27, 10), "customs_hold", PERTH),
        ],
    ),
    # Quiet in Sao Paulo since Dec 1: stalled, the customer told, not yet lost.
    Case(
        "dhl",
        "3234567890",
        SAO_PAULO,
        [*shipped(SAO_PAULO), Milestone(local(SAO_PAULO, 1, 10, 12), "arrived", SAO_PAULO)],
    ),
    # Quiet in Toronto and Moscow since Nov 24: stalled (customer told), then presumed lost,
    # which took the stall over: the customer is owed a word when it moves.
    Case(
        "dhl",
        "4234567890",
        TORONTO,
        [*shipped(TORONTO), Milestone(local(TORONTO, 24, 10), "arrived", TORONTO)],
    ),
    Case(
        "dhl",
        "5234567890",
        MOSCOW,
        [*shipped(MOSCOW), Milestone(local(MOSCOW, 24, 12), "arrived", MOSCOW)],
    ),
    # Past their carrier's date (a day-end at the destination) and still moving: late, the
    # customer told.
    Case(
        "ups",
        "1Z5R89390357567127",
        VANCOUVER,
        [*shipped(VANCOUVER), *daily(VANCOUVER)],
        date(2026, 11, 27),
    ),
    Case(
        "usps",
        "9400111899223197428490",
        TORONTO,
        [*shipped(TORONTO), *daily(TORONTO)],
        date(2026, 11, 27),
    ),
    Case("dhl", "6234567890", TORONTO, [*shipped(TORONTO), *daily(TORONTO)], date(2026, 11, 27)),
)


def settings(database: str, sandbox: SandboxServer, sink: HttpSink, smtp: SmtpServer) -> Settings:
    carriers_section = {
        name: {"enabled": True, "base_url": sandbox.base_url, "client_id": "id",
               "client_secret": "secret", "api_key": "key", "rate_limit": 100,
               "max_inline_wait_seconds": 0}
        for name in ("usps", "ups", "fedex", "dhl")
    }  # fmt: skip
    stall = "If your tracking hasn't updated in more than 2 business days"
    policy = {"stall": {"international_business_days": 2, "customs_business_days": 2},
              "lost": {"international_business_days": 4},
              "promises": {"stall": {"international_business_days": stall}},
              "staff": ALWAYS_STAFFED}  # fmt: skip
    return build_settings({
        "daemon": {"database": database, "http_port": 0},
        "carriers": carriers_section,
        "stores": {"shop": {"name": "Test Shop", "policy": policy,
                            "channels": {"staff_chat": [sink.url("staff")],
                                         "customer_email": [smtp.url()]}}},
    })  # fmt: skip


@asynccontextmanager
async def carriers_at(start: datetime) -> AsyncIterator[tuple[FrozenClock, SandboxServer]]:
    """The carriers' sandbox, on a clock of its own from `start`, speaking every case."""
    clock = FrozenClock(start)
    world = World()
    for case in CASES:
        world.add(Parcel(case.carrier, case.number, case.timeline, case.destination,
                         scheduled_delivery=case.scheduled, shipped_on=date(2026, 11, 23)))  # fmt: skip
    server = await SandboxServer(world, clock).start()
    try:
        yield clock, server
    finally:
        await server.stop()


async def watch_and_run(config: Settings, clock: FrozenClock, until: datetime,
                        add: bool) -> None:  # fmt: skip
    async with open_daemon(config, clock) as daemon:
        if add:
            for i, case in enumerate(CASES):
                await daemon.store.add_shipment(Shipment(
                    store="shop", carrier=case.carrier, tracking_number=case.number,
                    order_id=f"A{i}", customer_email=f"c{i}@example.com",
                    destination_country=case.destination.country or "",
                    destination_postal_code=case.destination.postal_code or "",
                    destination_city=case.destination.city or "",
                    shipped_at=datetime(2026, 11, 23, 9, tzinfo=NY)), clock.now())  # fmt: skip
        while clock.now() < until:
            clock.advance(minutes=30)
            await daemon.tick()


def legacy_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """The release before the fix: the legacy lookup in every reader, schema 19 (10)."""
    for module in READERS:
        monkeypatch.setattr(module, "zone_for", legacy_zone_for)
    monkeypatch.setattr(sqlite_base, "MIGRATIONS", MIGRATIONS[:19])
    monkeypatch.setattr(postgres_base, "MIGRATIONS", POSTGRES_MIGRATIONS[:10])
    calendar_for.cache_clear()


def fixed_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    calendar_for.cache_clear()


EVENTS = ("SELECT s.tracking_number, e.occurred_at, e.code, e.place, e.data FROM events e"
          " JOIN shipments s ON s.id = e.shipment_id ORDER BY 1, 2, 3, 4")  # fmt: skip
TIMES = ("SELECT tracking_number, eta, first_eta, last_event_at, follow_up_after FROM shipments"
         " ORDER BY 1")  # fmt: skip
ALERTS = ("SELECT a.id, s.tracking_number, a.rule, a.episode, a.state, a.resolution"
          " FROM alerts a JOIN shipments s ON s.id = a.shipment_id ORDER BY a.id")  # fmt: skip
NOTICES = ("SELECT n.id, s.tracking_number, n.event, n.audience, n.title FROM notices n"
           " LEFT JOIN shipments s ON s.id = n.shipment_id ORDER BY n.id")  # fmt: skip


@dataclass
class Snapshot:
    events: list[tuple[Any, ...]]
    times: list[tuple[Any, ...]]
    alerts: list[tuple[Any, ...]]
    notices: list[tuple[Any, ...]]

    @classmethod
    async def of(cls, database: str) -> Snapshot:
        return cls(await execute(database, EVENTS), await execute(database, TIMES),
                   await execute(database, ALERTS), await execute(database, NOTICES))  # fmt: skip

    def episodes(self) -> set[tuple[Any, ...]]:
        return {(number, rule, episode) for _, number, rule, episode, _, _ in self.alerts}


def instant(value: Any) -> datetime:
    """A stored instant, as either backend returns it (SQLite: text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def version(database: str) -> int:
    path = sqlite_path(database)
    if path is not None:
        with closing(sqlite3.connect(path)) as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])
    (row,) = await execute(database, "SELECT MAX(version) FROM schema_migrations")
    return int(row[0])


def harm(before: Snapshot, after: Snapshot) -> dict[str, list[Any]]:
    """What the new code's polls and judgements did again after the upgrade, by kind."""

    def scans(snapshot: Snapshot) -> Counter[tuple[Any, ...]]:
        return Counter((e[0], e[2], e[3], json.loads(e[4])["description"]) for e in snapshot.events)

    kept = {a[0]: a for a in before.alerts}
    found = {
        "scans stored again": list((scans(after) - scans(before)).elements()),
        "alerts resolved": [a for a in after.alerts if a[0] in kept and a[4] != kept[a[0]][4]],
        "alerts opened": [a for a in after.alerts if a[0] not in kept],
        "notices queued": [n for n in after.notices if n not in before.notices],
        "follow-ups sent": [n for n in after.notices if "moving again" in str(n[4])],
    }
    return {kind: items for kind, items in found.items() if items}


async def filled_by_old_code(database: str, sink: HttpSink, smtp: SmtpServer,
                             monkeypatch: pytest.MonkeyPatch) -> Snapshot:  # fmt: skip
    legacy_daemon(monkeypatch)
    async with carriers_at(START) as (clock, sandbox):
        await watch_and_run(settings(database, sandbox, sink, smtp), clock, UPGRADED_AT, True)
    fixed_daemon(monkeypatch)
    return await Snapshot.of(database)


async def test_old_code_stores_canadian_scans_in_newfoundland_time(
    old_database: str, sink: HttpSink, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first phase's premise: the old code read Toronto's 08:00 as St John's 08:00, and
    left the alerts the upgrade must carry over open, each with its notices queued."""
    before = await filled_by_old_code(old_database, sink, smtp, monkeypatch)
    toronto_8am_read_in_st_johns = datetime(2026, 11, 25, 8, tzinfo=ZoneInfo("America/St_Johns"))
    scans = [instant(e[1]) for e in before.events if e[0] == "1234567890"]
    assert toronto_8am_read_in_st_johns in scans
    opened = {(number, rule) for _, number, rule, _, state, _ in before.alerts if state == "open"}
    assert {("1234567890", "delivered"), ("998886861174", "delivered"), ("2234567890", "exceptions"),
            ("3234567890", "stalled"), ("4234567890", "lost"), ("5234567890", "lost"),
            ("1Z5R89390357567127", "late"), ("9400111899223197428490", "late"),
            ("6234567890", "late")} <= opened  # fmt: skip
    owed = [t for t in before.times if t[4] is not None]
    assert {t[0] for t in owed} >= {"4234567890", "5234567890"}
    customers = {n[1] for n in before.notices if n[3] == "customer"}
    assert {"1234567890", "3234567890", "4234567890", "1Z5R89390357567127"} <= customers


async def test_upgrade_re_dates_what_old_code_stored_and_nothing_happens_twice(
    old_database: str, database: str, sink: HttpSink, smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    fresh_database = database
    database = old_database
    before = await filled_by_old_code(database, sink, smtp, monkeypatch)
    upgraded = await open_store(database, upgrade=True)  # `trackwatch db upgrade`
    await upgraded.close()
    wanted = len(MIGRATIONS) if sqlite_path(database) else len(POSTGRES_MIGRATIONS)
    assert await version(database) == wanted
    async with carriers_at(UPGRADED_AT) as (clock, sandbox):
        await watch_and_run(settings(database, sandbox, sink, smtp), clock, END, False)
    after = await Snapshot.of(database)

    found = harm(before, after)
    assert not found, "\n".join(f"{kind} ({len(items)}): {items}" for kind, items in found.items())
    async with carriers_at(START) as (clock, sandbox):  # the new code from the start
        fresh = settings(fresh_database, sandbox, sink, smtp)
        await watch_and_run(fresh, clock, END, True)
    new = await Snapshot.of(fresh_database)
    assert after.events == new.events
    assert after.times == new.times
    assert after.episodes() == new.episodes()
