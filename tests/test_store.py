from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trackwatch.model import (
    Audience,
    Finding,
    Outcome,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.store import DuplicateShipment, SqliteStore
from trackwatch.store.records import (
    AlertOpen,
    AlertResolve,
    Evaluation,
    NoticeDraft,
    PollUpdate,
    Reschedule,
)
from trackwatch.store.schema import MIGRATIONS

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def shipment(number: str = "1Z5R89390357567127") -> Shipment:
    return Shipment(store="shop", carrier="ups", tracking_number=number, order_id="1",
                    customer_email="c@example.com", shipped_at=NOW)  # fmt: skip


def finding(episode: str = "e1") -> Finding:
    return Finding(rule="stalled", episode=episode, severity=Severity.WARNING,
                   audiences=(Audience.STAFF,), summary="s", action="a", explanation={"k": "v"})  # fmt: skip


DRAFT = NoticeDraft("opened", Audience.STAFF, "staff_chat.0", "shop", "title", "body")
RESOLVED = NoticeDraft("resolved", Audience.STAFF, "staff_chat.0", "shop", "title", "body")


async def test_migrates_an_empty_file_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = await SqliteStore.open(path)
    assert await store.schema_version() == len(MIGRATIONS)
    await store.add_shipment(shipment(), NOW)
    await store.close()
    store = await SqliteStore.open(path)  # migrations are not re-run
    assert len((await store.list_shipments()).shipments) == 1
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"shipments", "events", "alerts", "notices"} <= tables


async def test_duplicate_shipment_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "d.db")
    first = await store.add_shipment(shipment(), NOW)
    with pytest.raises(DuplicateShipment) as err:
        await store.add_shipment(shipment(), NOW)
    assert err.value.existing_id == first
    assert len((await store.list_shipments()).shipments) == 1
    await store.close()


async def test_one_alert_per_episode_and_one_notice_per_change(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "a.db")
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
    await store.close()


async def test_a_claimed_notice_is_reclaimed_only_after_its_lease(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "n.db")
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
    await store.close()


async def test_a_poll_landing_mid_judgement_is_judged_again(tmp_path: Path) -> None:
    """The rules loop read the shipment, a poll (or a customer's report) wrote new data,
    then the rules loop stored its verdict: the shipment must stay due for judging."""
    store = await SqliteStore.open(tmp_path / "r.db")
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
    await store.close()


def scanned(number: str, *hours: int) -> TrackingResult:
    events = [TrackingEvent(occurred_at=NOW - timedelta(hours=h), status=Status.IN_TRANSIT,
                            code="I", description="Arrived at facility") for h in hours]  # fmt: skip
    return TrackingResult(tracking_number=number, outcome=Outcome.FOUND, events=events,
                          status=Status.IN_TRANSIT)  # fmt: skip


async def test_a_failure_inside_a_transaction_leaves_nothing_written(tmp_path: Path) -> None:
    """A pass's answers land whole or not at all: the second answer of a batch fails (its
    shipment is not in the database), so the first one's events and counters are not kept
    either, by this connection nor by another; and the next transaction works."""
    path = tmp_path / "tx.db"
    store = await SqliteStore.open(path)
    sid = await store.add_shipment(shipment(), NOW)
    later = NOW + timedelta(hours=4)
    batch = [PollUpdate(sid, NOW, later, scanned("1Z5R89390357567127", 30, 20)),
             PollUpdate(sid + 1, NOW, later, scanned("1Z879E930346834440", 10))]  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError):
        await store.apply_polls(batch)
    kept = await store.get_shipment(sid)
    assert kept is not None and kept.polls == 0 and kept.last_polled_at is None
    assert (await store.events_for([sid])).get(sid, []) == []
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    await store.apply_polls(batch[:1])  # the connection is usable: no transaction left open
    assert len((await store.events_for([sid]))[sid]) == 2
    await store.close()


async def test_the_daemon_and_a_command_share_one_database_file(tmp_path: Path) -> None:
    """The daemon holds its connection open while `trackwatch add` (its own connection)
    writes: both work. Writes at once queue on the busy timeout instead of failing with
    "database is locked", and WAL lets a reader read while a writer holds the file."""
    path = tmp_path / "shared.db"
    daemon, command = await SqliteStore.open(path), await SqliteStore.open(path)
    writes = [(daemon, command)[i % 2].add_shipment(shipment(f"1ZSHARED{i:04d}"), NOW)
              for i in range(40)]  # fmt: skip
    assert len(set(await asyncio.gather(*writes))) == 40
    assert (
        len((await daemon.list_shipments()).shipments)
        == len((await command.list_shipments()).shipments)
        == 40
    )

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
    store = await SqliteStore.open(path)
    assert await store.schema_version() == len(MIGRATIONS)
    (old,) = (await store.list_shipments()).shipments
    assert old.active and old.stopped is None
    found = await store.shipments_of_fulfillment("shop", "shopify:1", ["1Z5R89390357567127"])
    assert [s.id for s in found.shipments] == [old.id]
    stopped = await store.stop_watching(old.id or 0, "order cancelled", "staff (cli)", NOW)
    assert stopped is not None and not stopped.already
    assert (await store.due_shipments(NOW, 10)).shipments == []
    await store.close()


async def test_a_reload_judges_everything_once_per_change_not_once_per_daemon(
    tmp_path: Path,
) -> None:
    """Several daemons reloading the same files used to mark every shipment for judging once
    each; the policies' fingerprint makes it once per change."""
    store = await SqliteStore.open(tmp_path / "r.db")
    await store.add_shipment(shipment(), NOW)
    assert await store.judge_all_again("policies v1") == 1
    assert await store.judge_all_again("policies v1") == 0  # a second daemon, same files
    assert await store.judge_all_again("policies v2") == 1
    await store.close()


async def test_daemons_sharing_a_database_park_and_back_off_together(tmp_path: Path) -> None:
    """A 429 or an outage one daemon meets used to hold that daemon alone; the others went
    on calling. Two daemons' carrier states over one database: what one learns, the other
    knows from its next pass."""
    from trackwatch.carrier_state import CarrierState
    from trackwatch.config import DaemonSettings
    from trackwatch.errors import RateLimited, Unavailable

    one_db = await SqliteStore.open(tmp_path / "c.db")
    two_db = await SqliteStore.open(tmp_path / "c.db")
    one, two = CarrierState(DaemonSettings(), one_db), CarrierState(DaemonSettings(), two_db)
    parked = await one.rate_limited("dhl", RateLimited("dhl", "429", retry_after=1800), NOW)
    until = await one.failed("ups", Unavailable("ups", "HTTP 503"), NOW)
    await two.refresh()
    assert two.blocked_until("dhl", NOW) == parked == NOW + timedelta(minutes=30)
    assert two.blocked_until("ups", NOW) == until and two.is_failing("ups")
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
