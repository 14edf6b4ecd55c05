from __future__ import annotations

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
