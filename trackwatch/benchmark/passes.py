"""What one scheduler pass costs the database, by store size: the queries each loop runs
on every wake-up (the poll loop's claim and next due time, the rules loop's claim and next
check, the /metrics figures), when nothing is due and when 2,000 shipments are.

A pass should cost about the same at 100,000 shipments as at 1,000: each of these is an
index seek, never a walk of every active row. Measured on a SQLite file made for it."""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackwatch.model import Shipment
from trackwatch.store import Store, open_store
from trackwatch.store.records import ts

CARRIERS = ("usps", "ups", "fedex", "dhl")
CHUNK = 5000
POLL_LIMIT = 2000  # the poller's batch
JUDGE_LIMIT = 1000  # the rules loop's


@dataclass(frozen=True)
class PassCost:
    shipments: int
    due: int
    ms: dict[str, float]  # query -> median milliseconds

    @property
    def total(self) -> float:
        return sum(self.ms.values())


def _shipment(index: int, now: datetime) -> Shipment:
    return Shipment(store="shop", carrier=CARRIERS[index % 4], tracking_number=f"BENCH{index:09d}",
                    order_id=f"B{index}", customer_email=f"c{index}@example.com",
                    shipped_at=now - timedelta(days=2))  # fmt: skip


async def _fill(path: Path, count: int, now: datetime) -> None:
    """`count` shipments, judged and scheduled: each due a poll and a check at some minute
    of the next 1,000 hours, none dirty."""
    store = await open_store(str(path))
    try:
        for start in range(0, count, CHUNK):
            batch = [_shipment(i, now) for i in range(start, min(count, start + CHUNK))]
            await store.add_shipments(batch, now)
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db, db:
        for sid in range(1, count + 1):
            later = ts(now + timedelta(minutes=1 + sid % 60_000))
            db.execute("UPDATE shipments SET dirty=0, check_at=?, next_poll_at=?, deadline_at=?"
                       " WHERE id=?", (later, later, later, sid))  # fmt: skip


def _make_due(path: Path, due: int, now: datetime) -> None:
    """The first `due` shipments due a poll and a check now; every claim given back."""
    past = ts(now - timedelta(minutes=1))
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE shipments SET poll_lease=NULL, judge_lease=NULL")
        db.execute("UPDATE shipments SET next_poll_at=?, check_at=? WHERE id<=?", (past, past, due))


def _queries(store: Store, now: datetime) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "due_shipments": lambda: store.due_shipments(now, POLL_LIMIT),
        "next_poll_at": store.next_poll_at,
        "shipments_to_check": lambda: store.shipments_to_check(now, JUDGE_LIMIT),
        "next_check_at": store.next_check_at,
        "figures": lambda: store.figures(now),
    }


async def measure(count: int, due: int, repeats: int, now: datetime, path: Path) -> PassCost:
    timings: dict[str, list[float]] = {}
    for _ in range(repeats):
        _make_due(path, due, now)
        store = await open_store(str(path))
        try:
            for name, query in _queries(store, now).items():
                started = time.perf_counter()
                await query()
                timings.setdefault(name, []).append(1000 * (time.perf_counter() - started))
        finally:
            await store.close()
    return PassCost(count, due, {k: statistics.median(v) for k, v in timings.items()})


async def pass_costs(sizes: tuple[int, ...], repeats: int) -> list[PassCost]:
    now = datetime.now(UTC)
    found = []
    with tempfile.TemporaryDirectory(prefix="tw-bench-pass-") as tmp:
        for count in sizes:
            path = Path(tmp) / f"pass-{count}.db"
            await _fill(path, count, now)
            for due in (0, min(POLL_LIMIT, count)):
                found.append(await measure(count, due, repeats, now, path))
    return found
