"""The store contract, on both backends: each test runs on a SQLite file and on a
PostgreSQL database of its own (tests/conftest.py: `backend`, `database`, `any_store`).
What only one engine has (SQLite's WAL and old files, PostgreSQL's migration lock) is
tested on that one."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.backends import INTEGRITY_ERRORS, execute
from tests.conftest import SettingsFactory, both_backends
from tests.postgres import Cluster, create_database, drop_database
from trackwatch.clock import FrozenClock
from trackwatch.model import (
    Audience,
    Direction,
    Finding,
    Outcome,
    Place,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.store import DuplicateShipment, SqliteStore, Store, open_store
from trackwatch.store.postgres import PostgresStore
from trackwatch.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from trackwatch.store.records import (
    AlertOpen,
    AlertResolve,
    Evaluation,
    NoticeDraft,
    PollFailure,
    PollUpdate,
    Reschedule,
)
from trackwatch.store.rows import LEASE
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.steps import Migration

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def shipment(number: str = "1Z5R89390357567127") -> Shipment:
    return Shipment(store="shop", carrier="ups", tracking_number=number, order_id="1",
                    customer_email="c@example.com", shipped_at=NOW)  # fmt: skip


def finding(episode: str = "e1") -> Finding:
    return Finding(rule="stalled", episode=episode, severity=Severity.WARNING,
                   audiences=(Audience.STAFF,), summary="s", action="a", explanation={"k": "v"})  # fmt: skip


DRAFT = NoticeDraft("opened", Audience.STAFF, "staff_chat.0", "shop", "title", "body")
RESOLVED = NoticeDraft("resolved", Audience.STAFF, "staff_chat.0", "shop", "title", "body")


@both_backends
async def test_migrates_once_and_reopens(database: str) -> None:
    store = await open_store(database)
    assert isinstance(store, SqliteStore | PostgresStore)
    assert await store.schema_version() == len(migrations_of(store))
    await store.add_shipment(shipment(), NOW)
    await store.close()
    store = await open_store(database)  # migrations are not re-run
    assert len((await store.list_shipments()).shipments) == 1
    await store.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    await (await SqliteStore.open(path)).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"shipments", "events", "alerts", "notices"} <= tables


async def test_daemons_starting_together_on_postgres_migrate_once(postgres: Cluster) -> None:
    """Three daemons start at once on an empty database: one migrates (under the advisory
    lock), the others wait for it and find nothing to do; none fails on a table the first
    is creating."""
    name = await create_database(postgres, template="template0")
    try:
        stores = await asyncio.gather(*[PostgresStore.open(postgres.url(name)) for _ in range(3)])
        for store in stores:
            assert await store.schema_version() == len(POSTGRES_MIGRATIONS)
            await store.close()
        applied = await execute(postgres.url(name), "SELECT version FROM schema_migrations")
        assert sorted(v for (v,) in applied) == list(range(1, len(POSTGRES_MIGRATIONS) + 1))
        assert len({s.instance for s in stores}) == 1  # one database, one instance id
    finally:
        await drop_database(postgres, name)


async def test_open_store_picks_the_backend_from_the_setting(
    tmp_path: Path, postgres: Cluster
) -> None:
    """A path or sqlite:/// is SQLite; postgresql:// and postgres:// are PostgreSQL; any
    other scheme is refused, naming what is known."""
    name = await create_database(postgres)
    url = postgres.url(name)
    try:
        for setting, kind in ((str(tmp_path / "a.db"), SqliteStore),
                              (f"sqlite:///{tmp_path}/b.db", SqliteStore),
                              (url, PostgresStore),
                              (url.replace("postgresql://", "postgres://"), PostgresStore)):  # fmt: skip
            store = await open_store(setting)
            assert isinstance(store, kind), setting
            await store.close()
    finally:
        await drop_database(postgres, name)
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()
    with pytest.raises(ValueError, match=r"mysql:// databases are not supported.*postgresql://"):
        await open_store("mysql://db/tw")


def migrations_of(store: SqliteStore | PostgresStore) -> tuple[Migration, ...]:
    return MIGRATIONS if isinstance(store, SqliteStore) else POSTGRES_MIGRATIONS


@both_backends
async def test_duplicate_shipment_is_refused_and_nothing_is_lost(any_store: Store) -> None:
    store = any_store
    first = await store.add_shipment(shipment(), NOW)
    with pytest.raises(DuplicateShipment) as err:
        await store.add_shipment(shipment(), NOW)
    assert err.value.existing_id == first
    assert len((await store.list_shipments()).shipments) == 1


@both_backends
async def test_one_alert_per_episode_and_one_notice_per_change(any_store: Store) -> None:
    store = any_store
    sid = await store.add_shipment(shipment(), NOW)
    opening = Evaluation(opens=[AlertOpen(sid, finding(), (DRAFT,))])
    await store.apply_evaluation(opening, NOW)
    await store.apply_evaluation(opening, NOW)  # the same episode again: a no-op
    (alert,) = await store.all_alerts()
    assert len(await store.notices()) == 1
    closing = Evaluation(resolves=[AlertResolve(alert.id, "auto", "it moved", (RESOLVED,))])
    await store.apply_evaluation(closing, NOW)
    await store.apply_evaluation(closing, NOW)  # already resolved: no second notice
    assert len(await store.notices()) == 2
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, finding("e2"), (DRAFT,))]), NOW)
    assert len(await store.all_alerts()) == 2  # a new episode is a new alert


@both_backends
async def test_a_claimed_notice_is_reclaimed_only_after_its_lease(any_store: Store) -> None:
    store = any_store
    sid = await store.add_shipment(shipment(), NOW)
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, finding(), (DRAFT,))]), NOW)
    lease = NOW + timedelta(minutes=2)
    (claimed,) = await store.claim_notices(NOW, lease, 10)
    assert claimed.attempts == 1
    assert await store.claim_notices(NOW + timedelta(minutes=1), lease, 10) == []
    (again,) = await store.claim_notices(lease, lease + timedelta(minutes=2), 10)
    assert again.id == claimed.id and again.attempts == 2
    await store.mark_sent([again.id], lease)
    assert (
        await store.claim_notices(lease + timedelta(hours=1), lease + timedelta(hours=2), 10) == []
    )


@both_backends
async def test_a_poll_landing_mid_judgement_is_judged_again(any_store: Store) -> None:
    """The rules loop read the shipment, a poll (or a customer's report) wrote new data,
    then the rules loop stored its verdict: the shipment must stay due for judging."""
    store = any_store
    sid = await store.add_shipment(shipment(), NOW)
    (seen,) = (await store.shipments_to_check(NOW, 10)).shipments
    result = TrackingResult(tracking_number=seen.tracking_number, outcome=Outcome.FOUND,
                            events=[], status=Status.IN_TRANSIT)  # fmt: skip
    await store.apply_polls([PollUpdate(sid, NOW, NOW + timedelta(hours=4), result)])
    stale = Reschedule(sid, None, None, seen.revision)
    await store.apply_evaluation(Evaluation(schedules=[stale]), NOW)
    (again,) = (await store.shipments_to_check(NOW, 10)).shipments
    await store.apply_evaluation(
        Evaluation(schedules=[Reschedule(sid, None, None, again.revision)]), NOW
    )
    assert (await store.shipments_to_check(NOW, 10)).shipments == []
    await store.report_missing(sid, "customer", NOW)
    await store.apply_evaluation(Evaluation(schedules=[stale]), NOW)
    assert len((await store.shipments_to_check(NOW, 10)).shipments) == 1


def scanned(number: str, *hours: int) -> TrackingResult:
    events = [TrackingEvent(occurred_at=NOW - timedelta(hours=h), status=Status.IN_TRANSIT,
                            code="I", description="Arrived at facility") for h in hours]  # fmt: skip
    return TrackingResult(tracking_number=number, outcome=Outcome.FOUND, events=events,
                          status=Status.IN_TRANSIT)  # fmt: skip


@both_backends
async def test_a_failure_inside_a_transaction_leaves_nothing_written(
    database: str, any_store: Store
) -> None:
    """A pass's answers land whole or not at all: the second answer of a batch fails (its
    shipment is not in the database), so the first one's events and counters are not kept
    either, by this connection nor by another; and the next transaction works."""
    store = any_store
    sid = await store.add_shipment(shipment(), NOW)
    later = NOW + timedelta(hours=4)
    batch = [PollUpdate(sid, NOW, later, scanned("1Z5R89390357567127", 30, 20)),
             PollUpdate(sid + 1, NOW, later, scanned("1Z879E930346834440", 10))]  # fmt: skip
    with pytest.raises(INTEGRITY_ERRORS):
        await store.apply_polls(batch)
    kept = await store.get_shipment(sid)
    assert kept is not None and kept.polls == 0 and kept.last_polled_at is None
    assert (await store.events_for([sid])).get(sid, []) == []
    assert await execute(database, "SELECT COUNT(*) FROM events") == [(0,)]
    await store.apply_polls(batch[:1])  # the connection is usable: no transaction left open
    assert len((await store.events_for([sid]))[sid]) == 2


@both_backends
async def test_two_stores_on_one_database_write_at_once(database: str) -> None:
    """The daemon holds its store open while `trackwatch add` (a store of its own) writes:
    writes at once all land, and each store reads the other's."""
    daemon, command = await open_store(database), await open_store(database)
    writes = [(daemon, command)[i % 2].add_shipment(shipment(f"1ZSHARED{i:04d}"), NOW)
              for i in range(40)]  # fmt: skip
    assert len(set(await asyncio.gather(*writes))) == 40
    assert (
        len((await daemon.list_shipments()).shipments)
        == len((await command.list_shipments()).shipments)
        == 40
    )
    await daemon.close()
    await command.close()


async def test_the_daemon_and_a_command_share_one_database_file(tmp_path: Path) -> None:
    """On SQLite, two connections share one file: writes at once queue on the busy timeout
    instead of failing with "database is locked", and WAL lets a reader read while a writer
    holds the file."""
    path = tmp_path / "shared.db"
    daemon, command = await SqliteStore.open(path), await SqliteStore.open(path)
    await asyncio.gather(*[(daemon, command)[i % 2].add_shipment(shipment(f"1ZSHARED{i:04d}"), NOW)
                           for i in range(40)])  # fmt: skip

    writer = sqlite3.connect(path, isolation_level=None)  # another command, mid-transaction
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("DELETE FROM shipments")
    try:
        # WAL: the daemon reads the last committed state, at once, while the writer holds it.
        assert len((await daemon.list_shipments()).shipments) == 40
        adding = asyncio.ensure_future(daemon.add_shipment(shipment("1ZSHARED9999"), NOW))
        # The daemon's write waits for the writer (busy timeout) instead of failing at once.
        # A real-time wait: SQLite's busy timeout runs on the wall clock, not on ours.
        done, _ = await asyncio.wait({adding}, timeout=0.5)
        assert not done, adding.exception()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    await adding
    assert len((await command.list_shipments()).shipments) == 41
    await daemon.close()
    await command.close()


async def test_a_version_7_database_gains_sources_and_stops_in_place(tmp_path: Path) -> None:
    """Migration 8 is additive: a database of the previous release keeps its shipments,
    each watched, with no source, and can stop them."""
    path = tmp_path / "v7.db"
    with sqlite3.connect(path) as db:
        for number, script in enumerate(MIGRATIONS[:7], start=1):
            db.executescript(f"{script}\nPRAGMA user_version = {number};")
        db.execute(
            "INSERT INTO shipments (store, carrier, tracking_number, order_id, customer_email,"
            " destination_country, shipped_at, created_at, next_poll_at)"
            " VALUES ('shop', 'ups', '1Z5R89390357567127', '1', 'c@example.com', 'US',"
            " '2026-11-23T12:00:00.000000Z', '2026-11-23T12:00:00.000000Z',"
            " '2026-11-23T12:00:00.000000Z')"
        )
    store = await SqliteStore.open(path, upgrade=True)  # as the daemon starts
    assert await store.schema_version() == len(MIGRATIONS)
    (old,) = (await store.list_shipments()).shipments
    assert old.active and old.stopped is None
    found = await store.shipments_of_fulfillment("shop", "shopify:1", ["1Z5R89390357567127"])
    assert [s.id for s in found.shipments] == [old.id]
    stopped = await store.stop_watching(old.id or 0, "order cancelled", "staff (cli)", NOW)
    assert stopped is not None and not stopped.already
    assert (await store.due_shipments(NOW, 10)).shipments == []
    await store.close()


@both_backends
async def test_a_reload_judges_everything_once_per_change_not_once_per_daemon(
    database: str,
) -> None:
    """Several daemons reloading the same files used to mark every shipment for judging once
    each; the policies' fingerprint makes it once per change."""
    one, two = await open_store(database), await open_store(database)
    await one.add_shipment(shipment(), NOW)
    assert await one.judge_all_again("policies v1") == 1
    assert await two.judge_all_again("policies v1") == 0  # a second daemon, same files
    assert await two.judge_all_again("policies v2") == 1
    await one.close()
    await two.close()


@both_backends
async def test_daemons_sharing_a_database_park_and_back_off_together(database: str) -> None:
    """A 429 or an outage one daemon meets used to hold that daemon alone; the others went
    on calling. Two daemons' carrier states over one database: what one learns, the other
    knows from its next pass."""
    from trackwatch.carrier_state import CarrierState
    from trackwatch.config import DaemonSettings
    from trackwatch.errors import RateLimited, Unavailable

    one_db, two_db = await open_store(database), await open_store(database)
    one, two = CarrierState(DaemonSettings(), one_db), CarrierState(DaemonSettings(), two_db)
    parked = await one.rate_limited("dhl", RateLimited("dhl", "429", retry_after=1800), NOW)
    until = await one.failed("ups", Unavailable("ups", "HTTP 503"), NOW)
    await two.refresh()
    assert two.blocked_until("dhl", NOW) == parked == NOW + timedelta(minutes=30)
    assert two.blocked_until("ups", NOW) == until and two.is_failing("ups")
    # A shorter 429 met later by the other daemon never shortens the wait.
    await two.rate_limited("dhl", RateLimited("dhl", "429", retry_after=60), NOW)
    await one.refresh()
    assert one.blocked_until("dhl", NOW) == parked
    later = until + timedelta(seconds=1)
    failing = Unavailable("ups", "HTTP 503")
    assert await two.failed("ups", failing, later) == later + timedelta(minutes=30)
    await one.refresh()
    assert one.repeats("ups") == 2  # the second failure was the other daemon's
    await one.succeeded("ups")
    await two.refresh()
    assert not two.is_failing("ups") and two.blocked_until("dhl", NOW) == parked
    await one_db.close()
    await two_db.close()


async def _watch(store: Store, count: int) -> list[int]:
    return [await store.add_shipment(shipment(f"1ZCLAIM{i:010d}"), NOW) for i in range(count)]


@both_backends
async def test_daemons_claiming_due_polls_at_once_never_share_one(database: str) -> None:
    """Due shipments used to be read without a claim: two daemons polled the same parcels.
    Four daemons claiming at once take each due shipment exactly once."""
    stores = [await open_store(database) for _ in range(4)]
    watched = await _watch(stores[0], 60)
    claims = await asyncio.gather(*(s.due_shipments(NOW, 25) for s in stores))
    taken = [s.id or 0 for claim in claims for s in claim.shipments]
    assert sorted(taken) == sorted(watched)  # each once, none left out
    for store in stores:
        assert (await store.due_shipments(NOW, 100)).shipments == []
    assert await stores[0].next_poll_at() == NOW + LEASE  # held rows: when their lease ends
    for store in stores:
        await store.close()


@both_backends
async def test_a_claim_ends_with_the_poll_or_the_lease_and_can_be_given_back(
    any_store: Store,
) -> None:
    store = any_store
    polled, failed, given_back, abandoned = await _watch(store, 4)
    assert len((await store.due_shipments(NOW, 10)).shipments) == 4
    later = NOW + timedelta(minutes=1)
    found = TrackingResult(outcome=Outcome.FOUND, tracking_number="1ZCLAIM0000000000",
                           status=Status.IN_TRANSIT)  # fmt: skip
    await store.apply_polls([PollUpdate(polled, later, later, found)])
    await store.poll_failed([PollFailure(failed, later)], "carrier down")
    await store.release_polls([given_back])
    due = await store.due_shipments(later, 10)  # what the poll wrote is due again, unheld
    assert sorted(s.id or 0 for s in due.shipments) == sorted([polled, failed, given_back])
    assert [s.id for s in (await store.due_shipments(NOW + LEASE, 10)).shipments] == [abandoned]


@both_backends
async def test_a_judgement_another_daemon_holds_wakes_no_one_before_its_lease_ends(
    database: str,
) -> None:
    """The wake-up query returned a deadline another daemon had claimed: every other
    daemon's rules loop woke, found nothing to claim and woke again at once, for as long as
    the claim lasted (5 minutes when its holder died)."""
    one, two = await open_store(database), await open_store(database)
    await _watch(one, 2)
    await execute(database, "UPDATE shipments SET dirty=?, check_at=?", False, NOW)
    assert await two.next_check_at() == NOW
    assert len((await one.shipments_to_check(NOW, 10)).shipments) == 2
    assert await two.next_check_at() == NOW + LEASE
    await one.close()
    await two.close()


@both_backends
async def test_daemons_judging_at_once_never_judge_one_shipment_twice(database: str) -> None:
    stores = [await open_store(database) for _ in range(3)]
    watched = await _watch(stores[0], 30)
    claims = await asyncio.gather(*(s.shipments_to_check(NOW, 12) for s in stores))
    assert sorted(s.id or 0 for c in claims for s in c.shipments) == sorted(watched)
    assert (await stores[1].shipments_to_check(NOW, 100)).shipments == []
    first = claims[0].shipments[0]
    await stores[0].apply_evaluation(Evaluation(schedules=[
        Reschedule(first.id or 0, check_at=None, poll_by=NOW, revision=first.revision)]),
        NOW)  # fmt: skip
    retaken = await stores[2].shipments_to_check(NOW + LEASE, 100)  # the others' ran out
    assert sorted(s.id or 0 for s in retaken.shipments) == sorted(set(watched) - {first.id})
    for store in stores:
        await store.close()


TOKYO = timezone(timedelta(hours=9))


@both_backends
async def test_a_shipment_reads_back_as_it_was_written(any_store: Store) -> None:
    """Every field, times in any zone to the microsecond, text beyond ASCII: what is read is
    what was written (times as the same instants, in UTC)."""
    written = Shipment(
        store="shop", carrier="ups", tracking_number="1Z5R89390357567127", order_id="#1001-é",
        customer_email="zoë@example.com", customer_name="Zoë O'Brien", customer_phone="+12125550100",
        destination_country="CA", destination_postal_code="H2X 1Y4", destination_city="Montréal",
        shipped_at=datetime(2026, 11, 23, 21, 5, 7, 123456, tzinfo=TOKYO),
        ordered_at=NOW - timedelta(days=2), promised_by=NOW + timedelta(days=3),
        direction=Direction.RETURN, status=Status.IN_TRANSIT, eta=NOW + timedelta(days=1),
        last_event_at=NOW - timedelta(hours=5), next_poll_at=NOW + timedelta(minutes=15),
        sender_carrier="usps", carrier_note="a remark",
    )  # fmt: skip
    sid = await any_store.add_shipment(written, NOW)
    read = await any_store.get_shipment(sid)
    assert read == written.model_copy(update={"id": sid})
    assert read is not None and read.shipped_at.utcoffset() == timedelta(0)
    assert read.shipped_at.microsecond == 123456


@both_backends
async def test_alerts_events_and_notices_read_back_as_written(any_store: Store) -> None:
    """An explanation keeps its keys' order (staff read them in that order), audiences
    theirs, events their order in time; a notice carries its alert's severity."""
    sid = await any_store.add_shipment(shipment(), NOW)
    explained = finding().model_copy(update={
        "explanation": {"zeta": "last scan 5 days ago", "alpha": "promised by Friday"},
        "audiences": (Audience.STAFF, Audience.CUSTOMER)})  # fmt: skip
    await any_store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, explained,
                                                                 (DRAFT,))]), NOW)  # fmt: skip
    (alert,) = await any_store.all_alerts()
    assert list(alert.explanation.items()) == list(explained.explanation.items())
    assert alert.audiences == (Audience.STAFF, Audience.CUSTOMER) and alert.opened_at == NOW
    result = scanned("1Z5R89390357567127", 3, 30, 20)
    await any_store.apply_polls([PollUpdate(sid, NOW, NOW, result)] * 2)  # twice: kept once
    stored = (await any_store.events_for([sid]))[sid]
    assert stored == sorted(result.events, key=lambda e: e.occurred_at)
    (notice,) = await any_store.notices()
    assert (notice.alert_id, notice.shipment_id, notice.severity) == (
        alert.id,
        sid,
        Severity.WARNING,
    )
    assert notice.next_attempt_at == NOW and notice.idempotency_key.startswith("tw-")
    assert any_store.instance in notice.idempotency_key


@both_backends
async def test_a_notice_of_no_alert_needs_its_own_key_and_is_queued_once(
    any_store: Store,
) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        await any_store.enqueue([DRAFT], NOW)
    digest = NoticeDraft("daily", Audience.STAFF, "staff_email.0", "shop", "t", "b",
                         not_before=NOW + timedelta(hours=8), key="digest-shop-2026-11-23")  # fmt: skip
    await any_store.enqueue([digest], NOW)
    await any_store.enqueue([digest], NOW + timedelta(minutes=1))  # a restart sends it again
    (notice,) = await any_store.notices()
    assert notice.alert_id is None and notice.next_attempt_at == NOW + timedelta(hours=8)
    assert await any_store.next_notice_at() == NOW + timedelta(hours=8)
    figures = await any_store.figures(NOW + timedelta(minutes=10))
    assert figures.notices["pending"] == 1 and figures.oldest_pending_seconds == 600.0


@both_backends
async def test_a_nul_from_a_carrier_stops_nothing(any_store: Store, backend: str) -> None:
    """Carrier text reaches the store unchecked (scans, remarks, and through the rules alert
    summaries). PostgreSQL cannot keep a NUL in text: there it is kept as U+FFFD, the
    replacement character, rather than failing the whole pass on every poll."""
    sid = await any_store.add_shipment(shipment(), NOW)
    event = TrackingEvent(occurred_at=NOW, status=Status.IN_TRANSIT, code="I\x00",
                          description="Arrived\x00", place=Place(city="Chi\x00cago"))  # fmt: skip
    result = TrackingResult(tracking_number="1Z5R89390357567127", outcome=Outcome.FOUND,
                            events=[event], status=Status.IN_TRANSIT)  # fmt: skip
    await any_store.apply_polls([PollUpdate(sid, NOW, NOW, result, note="remark\x00")])
    told = finding().model_copy(update={"summary": "Held at Chi\x00cago"})
    await any_store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, told, (DRAFT,))]), NOW)
    kept = "\x00" if backend == "sqlite" else "\ufffd"
    stored = await any_store.get_shipment(sid)
    assert stored is not None and stored.carrier_note == f"remark{kept}"
    assert (await any_store.events_for([sid]))[sid] == [event]  # the scan itself is JSON
    (alert,) = await any_store.all_alerts()
    assert alert.summary == f"Held at Chi{kept}cago"


@both_backends
async def test_passes_writing_the_same_shipments_at_once_both_land(any_store: Store) -> None:
    """The poll loop and the rules loop write the same shipments at once, each in its own
    order. On PostgreSQL, transactions that lock rows in opposite orders deadlock (one is
    aborted and its pass fails); every write of several shipments locks them in id order."""
    ids = [await any_store.add_shipment(shipment(f"1ZLOCK{i:04d}"), NOW) for i in range(50)]
    for _ in range(5):
        polls = [PollUpdate(sid, NOW, NOW + timedelta(hours=1), scanned("1Z", 3)) for sid in ids]
        plans = [Reschedule(sid, NOW, NOW + timedelta(hours=2), 10**6) for sid in ids]
        await asyncio.gather(
            any_store.apply_polls(polls),
            any_store.apply_polls(polls[::-1]),
            any_store.apply_evaluation(Evaluation(schedules=plans[::-1]), NOW),
        )
    stored = (await any_store.list_shipments()).shipments
    assert [s.polls for s in stored] == [10] * 50


async def test_a_second_daemon_on_one_sqlite_file_is_refused(
    make_settings: SettingsFactory, clock: FrozenClock
) -> None:
    """Two daemons on one SQLite file used to run side by side, spending one quota twice;
    the second is now refused with a clear error, and the CLI still opens the file."""
    from trackwatch.app import open_daemon
    from trackwatch.store import StoreInUse

    settings = make_settings()
    async with open_daemon(settings, clock):
        with pytest.raises(StoreInUse, match="another trackwatch daemon is running on"):
            async with open_daemon(settings, clock):
                pass  # pragma: no cover
        command = await open_store(settings.daemon.database)  # a CLI command alongside
        await command.close()
    async with open_daemon(settings, clock):  # the first one gone, the file is free
        pass


@both_backends
async def test_a_notice_missing_a_required_field_fails_loudly(any_store: Store) -> None:
    """SQLite's INSERT OR IGNORE also ignored NOT NULL: a notice with no body vanished
    without a word. Only a repeated key is left alone now; anything else is an error."""
    bad = NoticeDraft("digest", Audience.STAFF, "staff_chat.0", "shop", "title",
                      None, key="digest-1")  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(INTEGRITY_ERRORS):
        await any_store.enqueue([bad], NOW)
    good = NoticeDraft("digest", Audience.STAFF, "staff_chat.0", "shop", "title", "body",
                       key="digest-1")  # fmt: skip
    await any_store.enqueue([good, good], NOW)
    assert [n.body for n in await any_store.notices()] == ["body"]


async def _someone_waits_on_a_lock(conn: Any) -> None:
    """Until a transaction of the server waits on a row lock (another process: no event to
    await, so it is asked every 10 ms, for at most 10 s)."""
    for _ in range(1000):
        if await conn.fetchval(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type='Lock'"
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nothing waited on a lock")


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_judgement_and_a_stop_at_once_do_not_deadlock(database: str) -> None:
    """A judgement resolving an alert locked the alert, then its shipment; stopping a
    shipment locks the shipment, then its alerts: at once, PostgreSQL found a deadlock and
    failed one of them. A judgement now locks its shipments first, as every write does."""
    import asyncpg

    store = await open_store(database)
    sid = await store.add_shipment(shipment(), NOW)
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, finding(), (DRAFT,))]), NOW)
    (alert,) = await store.all_alerts()
    stopping = await asyncpg.connect(database)  # another daemon's stop, step by step
    watcher = await asyncpg.connect(database)
    try:
        tx = stopping.transaction()
        await tx.start()
        await stopping.execute("UPDATE shipments SET stopped='by test' WHERE id=$1", sid)
        judging = asyncio.ensure_future(store.apply_evaluation(
            Evaluation(resolves=[AlertResolve(alert.id or 0, "trackwatch", "moving", (RESOLVED,))],
                       schedules=[Reschedule(sid, check_at=None, poll_by=NOW)]),
            NOW))  # fmt: skip
        await _someone_waits_on_a_lock(watcher)
        await stopping.execute(
            "UPDATE alerts SET state='resolved', resolution='stopped' WHERE id=$1", alert.id
        )
        await tx.commit()
        applied = await judging
    finally:
        await stopping.close()
        await watcher.close()
        await store.close()
    assert applied.resolved == []  # the stop's write came first; the judgement saw it


async def test_a_database_upgraded_mid_day_keeps_the_days_calls_spent(tmp_path: Path) -> None:
    """Migration 12 counts a daily quota's calls as they are taken; a database upgraded in
    the middle of a day counts the calls its ledger already holds for that day, so the
    upgraded daemon does not spend DHL's 250 a second time."""
    from trackwatch.clock import FrozenClock
    from trackwatch.quota import Quota

    path = tmp_path / "v11.db"
    with sqlite3.connect(path) as db:
        for number, script in enumerate(MIGRATIONS[:11], start=1):
            db.executescript(f"{script}\nPRAGMA user_version = {number};")
        db.executemany("INSERT INTO carrier_calls (carrier, at) VALUES ('dhl', ?)",
                       [(f"2026-12-07T{h:02d}:00:00.000000Z",) for h in range(9, 15)])  # fmt: skip
        db.execute("INSERT INTO carrier_calls VALUES ('dhl', '2026-12-06T23:00:00.000000Z')")
    store = await SqliteStore.open(path, upgrade=True)
    quota = Quota("dhl", 250, "day", FrozenClock(datetime(2026, 12, 7, 15, tzinfo=UTC)), store)
    assert (await quota.spent()).remaining == 244  # today's 6, not yesterday's
    await store.close()
