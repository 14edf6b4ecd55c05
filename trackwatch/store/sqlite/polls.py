"""The poll queue: due shipments, what polling them brought, and when to poll them next."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from trackwatch.model import Outcome
from trackwatch.store.records import (
    PollFailure,
    PollUpdate,
    Readout,
    parse_ts,
    ts,
)
from trackwatch.store.rescans import StoredScan, replaced
from trackwatch.store.rows import LEASE, nearest_deadline_first
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import readout

# The next poll: the earliest of the rows nobody holds (the first one in next_poll_at's
# index), and of the few rows held, each when its hold ends if that is later.
NEXT_POLL = (
    "SELECT MIN(at) FROM (SELECT at FROM (SELECT next_poll_at AS at FROM shipments"
    " INDEXED BY shipments_next_poll WHERE active=1 AND next_poll_at IS NOT NULL AND poll_lease IS NULL"
    " ORDER BY next_poll_at LIMIT 1)"
    " UNION ALL SELECT MAX(next_poll_at, poll_lease) FROM shipments"
    " INDEXED BY shipments_poll_leased WHERE poll_lease IS NOT NULL AND active=1)"
)
_CLAIM = (
    "UPDATE shipments SET poll_lease=? WHERE id IN (SELECT id FROM shipments"
    " WHERE active=1 AND next_poll_at<=? AND set_aside IS NULL"
    " AND (poll_lease IS NULL OR poll_lease<=?)"
    " ORDER BY deadline_at IS NULL, deadline_at, next_poll_at LIMIT ?) RETURNING *"
)
_EVENT = (
    "INSERT INTO events (shipment_id, occurred_at, code, place, data)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (shipment_id, code, occurred_at, place)"
    # A scan a push brought first, with fewer details (UPS's does not say where the parcel
    # was left), takes the poll's fuller reading of it.
    " DO UPDATE SET data=excluded.data WHERE data != excluded.data"
)
_POLLED = (
    "UPDATE shipments SET polls=polls+1, last_polled_at=:polled, poll_lease=NULL,"
    " next_poll_at=CASE WHEN active=1 THEN :next END, dirty=active,"
    " revision=revision+1, misses=0, carrier_note=:note,"
    " status=COALESCE(:status, status), eta=COALESCE(:eta, eta),"
    " first_eta=COALESCE(first_eta, :eta),"
    " last_event_at=CASE WHEN :last IS NOT NULL AND"
    " (last_event_at IS NULL OR :last > last_event_at) THEN :last"
    " ELSE last_event_at END WHERE id=:id AND set_aside IS NULL"
)


class SqlitePolls(SqliteBase):
    async def due_shipments(self, now: datetime, limit: int, lease: timedelta = LEASE) -> Readout:
        """Claim the shipments due a poll, the nearest deadline first (those without one
        last), for `lease`: no other daemon takes them until this one writes what it did
        (or the lease runs out)."""
        params = (ts(now + lease), ts(now), ts(now), limit)
        rows = await self._in_tx(lambda db: db.execute(_CLAIM, params).fetchall())
        found = readout(rows)
        found.shipments.sort(key=nearest_deadline_first)
        return found

    async def release_polls(self, shipment_ids: Sequence[int]) -> None:
        """Give back claimed shipments not polled (the daemon is stopping): due as they were."""
        async with self._tx() as db:
            await db.executemany("UPDATE shipments SET poll_lease=NULL WHERE id=?",
                                 [(sid,) for sid in shipment_ids])  # fmt: skip

    async def deadlines_ahead(
        self, carrier: str, now: datetime, until: datetime, store: str | None = None
    ) -> int:
        """How many of a carrier's shipments (one store's, for a store's own account) not
        yet due a poll have a deadline to verify in (now, until]: the calls a quota must keep
        for them."""
        rows = await self._all(
            "SELECT COUNT(*) FROM shipments WHERE carrier=? AND active=1 AND stopped IS NULL"
            " AND deadline_at>? AND deadline_at<=? AND next_poll_at>? AND (store=? OR ? IS NULL)",
            (carrier, ts(now), ts(until), ts(now), store, store),
        )
        return int(rows[0][0]) if rows else 0

    async def next_poll_at(self) -> datetime | None:
        """When the next poll falls due; a shipment another daemon holds, when its lease
        runs out at the earliest."""
        rows = await self._all(NEXT_POLL)
        return parse_ts(rows[0][0]) if rows else None

    async def apply_polls(self, updates: Iterable[PollUpdate]) -> None:
        updates = list(updates)
        event_rows: list[tuple[Any, ...]] = []
        shipment_rows: list[dict[str, Any]] = []
        for update in updates:
            row = {
                "id": update.shipment_id,
                "polled": ts(update.polled_at),
                "next": ts(update.next_poll_at),
                "status": None,
                "last": None,
                "eta": None,
                "note": update.note,
            }
            result = update.result
            if result.outcome is Outcome.FOUND:
                row.update(status=result.status.value, last=ts(result.last_event_at))
                row["eta"] = ts(result.eta)
                event_rows.extend(
                    (update.shipment_id, ts(e.occurred_at), e.code, e.place.label(),
                     e.model_dump_json())
                    for e in result.events
                )  # fmt: skip
            shipment_rows.append(row)

        pushed = [u.shipment_id for u in updates if u.pushed and u.result.events]

        def write(db: sqlite3.Connection) -> None:
            if pushed:
                _drop_rescans(db, pushed, event_rows)
            db.executemany(_EVENT, event_rows)
            db.executemany(_POLLED, shipment_rows)

        await self._in_tx(write)

    async def poll_failed(self, failures: Sequence[PollFailure], note: str) -> None:
        """Polls that brought nothing usable: each shipment counts one more miss, keeps the
        reason, and is asked again at its `retry_at` (its data stays as it was, so no rule
        takes the failed poll for fresh news)."""
        async with self._tx() as db:
            await db.executemany(
                "UPDATE shipments SET misses=misses+1, carrier_note=?, next_poll_at=?, poll_lease=NULL"
                " WHERE id=? AND next_poll_at IS NOT NULL",
                [(note, ts(f.retry_at), f.shipment_id) for f in failures],
            )

    async def reschedule_polls(self, shipment_ids: Sequence[int], next_poll_at: datetime) -> None:
        async with self._tx() as db:
            await db.executemany(
                "UPDATE shipments SET next_poll_at=?, poll_lease=NULL WHERE id=?"
                " AND next_poll_at IS NOT NULL",
                [(ts(next_poll_at), sid) for sid in shipment_ids],
            )


def _drop_rescans(db: sqlite3.Connection, shipment_ids: list[int],
                  event_rows: list[tuple[Any, ...]]) -> None:  # fmt: skip
    marks = ",".join("?" * len(shipment_ids))
    query = "SELECT id, shipment_id, code, occurred_at, place, data FROM events WHERE shipment_id IN ({})"
    stored = [StoredScan(*row) for row in db.execute(query.format(marks), shipment_ids)]
    gone = replaced(stored, event_rows)
    db.executemany("DELETE FROM events WHERE id=?", [(i,) for i in gone])
