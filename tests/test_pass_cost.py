"""A loop's wake-up costs the same at any store size (issue 21): with nothing due, the poll
loop's claim and next due time, the rules loop's claim and next check each read an index,
not every active row. They used to walk them all (`dirty=1 OR check_at<=?` could use no
index, and the next-due times took the MIN over every active row): 330 ms a pass at
100,000 shipments.

SQLite counts the virtual machine's steps (its progress handler): the same at 300 and at
3,000 idle shipments. PostgreSQL's plans, after ANALYZE, read a handful of rows."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.backends import execute
from tests.conftest import both_backends
from trackwatch.model import Audience, Finding, Severity, Shipment
from trackwatch.store import SqliteStore, Store, open_store
from trackwatch.store.postgres.judging import _TO_CHECK as PG_TO_CHECK
from trackwatch.store.postgres.judging import NEXT_CHECK as PG_NEXT_CHECK
from trackwatch.store.postgres.polls import NEXT_POLL as PG_NEXT_POLL
from trackwatch.store.records import DueTimes, NoticeDraft, StoreAlertOpen

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
Query = Callable[[Store], Awaitable[object]]
QUERIES: dict[str, Query] = {
    "due_shipments": lambda s: s.due_shipments(NOW, 2000),
    "next_poll_at": lambda s: s.next_poll_at(),
    "shipments_to_check": lambda s: s.shipments_to_check(NOW, 1000),
    "next_check_at": lambda s: s.next_check_at(),
    "next_due_times": lambda s: s.next_due_times(),
}


async def _idle(database: str, count: int) -> None:
    """`count` shipments judged and scheduled: each due a poll and a check later, none now."""
    store = await open_store(database)
    try:
        await store.add_shipments([
            Shipment(store="shop", carrier="ups", tracking_number=f"1ZIDLE{i:010d}",
                     order_id=f"I{i}", customer_email="c@example.com",
                     shipped_at=NOW - timedelta(days=2))
            for i in range(count)], NOW)  # fmt: skip
    finally:
        await store.close()
    for sid in range(1, count + 1):
        later = NOW + timedelta(minutes=5 + sid)
        await execute(database, "UPDATE shipments SET dirty=?, check_at=?, next_poll_at=?"
                      " WHERE id=?", False, later, later, sid)  # fmt: skip


async def _steps(path: str, query: Query) -> int:
    store = await SqliteStore.open(path)
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    try:
        await store._db.set_progress_handler(count, 10)
        await query(store)
    finally:
        await store.close()
    return steps


async def test_an_idle_pass_costs_the_same_at_ten_times_the_shipments(tmp_path: Any) -> None:
    small, large = str(tmp_path / "small.db"), str(tmp_path / "large.db")
    await _idle(small, 300)
    await _idle(large, 3000)
    for name, query in QUERIES.items():
        few, many = await _steps(small, query), await _steps(large, query)
        assert many <= few + 20, f"{name}: {few} steps at 300 shipments, {many} at 3,000"


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows the plan's nodes on `shipments` returned or filtered out."""
    read = 0
    if plan.get("Relation Name") == "shipments":
        read += int(plan.get("Actual Rows", 0)) + int(plan.get("Rows Removed by Filter", 0))
    return read + sum(_rows_read(p) for p in plan.get("Plans", []))


@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgres_reads_a_handful_of_rows_when_nothing_is_due(database: str) -> None:
    await _idle(database, 3000)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("ANALYZE shipments")
        for sql, args in ((PG_NEXT_POLL, ()), (PG_NEXT_CHECK, ()),
                          (PG_TO_CHECK, (NOW + timedelta(minutes=5), NOW, 1000))):  # fmt: skip
            # Nothing is due: the claim, run for real, changes nothing.
            found = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
            plan = json.loads(found)[0]["Plan"]
            assert _rows_read(plan) <= 10, (sql, plan)
    finally:
        await conn.close()


@both_backends
async def test_held_rows_count_when_their_hold_ends(database: str) -> None:
    """The next-due times read the rows nobody holds and the held ones apart: a row held
    past its due time is due when the hold ends, the next free one when it is due."""
    await _idle(database, 3)
    store = await open_store(database)
    try:
        await execute(database, "UPDATE shipments SET next_poll_at=?, check_at=? WHERE id=1",
                      NOW, NOW)  # fmt: skip
        assert len((await store.due_shipments(NOW, 10)).shipments) == 1
        assert len((await store.shipments_to_check(NOW, 10)).shipments) == 1
        held_until = NOW + timedelta(minutes=5)  # the lease (LEASE) before row 2 is due
        assert await store.next_poll_at() == held_until
        assert await store.next_check_at() == held_until
    finally:
        await store.close()


@both_backends
async def test_the_due_times_read_together_are_those_read_apart(database: str) -> None:
    """`next_due_times` (the stepped daemon's one reading after each pass) says what the
    three loops' own queries say: with nothing waiting, with held rows (due when the hold
    ends) and a notice pending."""
    store = await open_store(database)
    try:
        assert await store.next_due_times() == DueTimes(None, None, None)
    finally:
        await store.close()
    await _idle(database, 3)
    store = await open_store(database)
    try:
        await execute(database, "UPDATE shipments SET next_poll_at=?, check_at=? WHERE id=1",
                      NOW, NOW)  # fmt: skip
        await store.due_shipments(NOW, 10)
        await store.shipments_to_check(NOW, 10)
        finding = Finding(rule="carrier_down", episode="e1", severity=Severity.WARNING,
                          audiences=(Audience.STAFF,), summary="s", action="a", explanation={})  # fmt: skip
        draft = NoticeDraft("opened", Audience.STAFF, "staff_chat", "shop", "t", "b",
                            not_before=NOW + timedelta(hours=2))  # fmt: skip
        await store.open_store_alert(StoreAlertOpen("shop", "ups", finding, (draft,)), NOW)
        apart = DueTimes(await store.next_poll_at(), await store.next_check_at(),
                         await store.next_notice_at())  # fmt: skip
        assert apart.poll is not None and apart.check is not None and apart.notice is not None
        assert await store.next_due_times() == apart
    finally:
        await store.close()
