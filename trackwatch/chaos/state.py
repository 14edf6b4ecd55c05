"""Reading a daemon's database from outside while it runs (or after it was killed): what it
holds, whether it has finished its work, and whether the file is sound."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackwatch.chaos.process import until
from trackwatch.model import Notice, NoticeState, Shipment
from trackwatch.store import SqliteStore
from trackwatch.store.records import ts


async def add_shipments(db: Path, shipments: Sequence[Shipment]) -> None:
    """Watch these shipments (each due a poll now), as `trackwatch add` would."""
    store = await SqliteStore.open(db)
    try:
        await store.add_shipments(shipments, datetime.now(UTC))
    finally:
        await store.close()


@dataclass
class Snapshot:
    alerts: set[tuple[str, str]] = field(default_factory=set)  # (order, rule)
    store_alerts: list[str] = field(default_factory=list)  # rules of alerts about a store
    notices: list[Notice] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)

    @property
    def pending(self) -> int:
        waiting = (NoticeState.PENDING, NoticeState.SENDING)
        return sum(1 for n in self.notices if n.state in waiting)

    def never_polled(self) -> dict[str, datetime | None]:
        """Order -> next poll, for every watched shipment not polled yet."""
        return {s.order_id: s.next_poll_at for s in self.shipments
                if s.last_polled_at is None and s.stopped is None and s.set_aside is None}  # fmt: skip


async def read(db: Path) -> Snapshot:
    store = await SqliteStore.open(db)
    try:
        shipments = (await store.list_shipments(limit=1_000_000)).shipments
        alerts = await store.all_alerts()
        notices = await store.notices()
    finally:
        await store.close()
    orders = {s.id: s.order_id for s in shipments}
    return Snapshot(
        alerts={(orders[a.shipment_id], a.rule) for a in alerts if a.shipment_id in orders},
        store_alerts=sorted(a.rule for a in alerts if a.shipment_id is None),
        notices=notices,
        shipments=shipments,
    )


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


# A first poll due later than this is not waited for: the run ends, and the shipment counts
# as never polled (its first poll was put off).
SOON = timedelta(minutes=1)
_WORK = (
    "SELECT (SELECT COUNT(*) FROM shipments WHERE active=1 AND last_polled_at IS NULL"
    "        AND set_aside IS NULL AND next_poll_at<=?),"
    " (SELECT COUNT(*) FROM shipments WHERE active=1 AND (dirty=1 OR check_at<=?)),"
    " (SELECT COUNT(*) FROM notices WHERE state IN ('pending', 'sending')),"
    " (SELECT COUNT(*) FROM notices), (SELECT COUNT(*) FROM alerts)"
)


def work_left(db: Path) -> tuple[int, ...]:
    """(first polls due soon, to judge, notices waiting, notices, alerts)."""
    now = datetime.now(UTC)
    with closing(sqlite3.connect(db, timeout=5)) as conn:
        row = conn.execute(_WORK, (ts(now + SOON), ts(now))).fetchone()
    return tuple(int(v) for v in row)


async def settle(db: Path, seconds: float, every: float = 0.5) -> bool:
    """Wait until no first poll is due soon and nothing is left to judge or send, twice in
    a row with nothing new in between; False if that takes longer than `seconds`."""
    last: list[tuple[int, ...]] = []

    async def idle() -> bool:
        now = work_left(db)
        done = now[:3] == (0, 0, 0) and last[-1:] == [now]
        last.append(now)
        return done

    return await until(idle, seconds, every)
