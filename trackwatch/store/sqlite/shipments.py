"""Shipments in and out: ingest (CLI, CSV, API, Shopify), operator reads, reports, stops and
restarts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from trackwatch.model import (
    AlertState,
    Shipment,
)
from trackwatch.store.records import (
    FulfillmentApplied,
    FulfillmentUpdate,
    NoticeDraft,
    Readout,
    Stopped,
    StopWatching,
    parse_ts,
    shipment_subject,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import (
    DuplicateShipment,
    UnreadableShipment,
    readout,
    row_of_shipment,
)

RECEIPTS_KEPT = timedelta(days=30)  # Shopify retries a failed delivery for up to 48 hours


# The ids of stored shipments among (store, carrier, tracking_number) keys given as one JSON
# parameter: a batch of any size in one statement, each key an index seek.
_WATCHED = (
    "SELECT s.id, s.store, s.carrier, s.tracking_number FROM json_each(?) AS k"
    " JOIN shipments s ON s.store = json_extract(k.value, '$[0]')"
    " AND s.carrier = json_extract(k.value, '$[1]')"
    " AND s.tracking_number = json_extract(k.value, '$[2]')"
)

Key = tuple[str, str, str]


def _shipment_key(shipment: Shipment) -> Key:
    return (shipment.store, shipment.carrier, shipment.tracking_number)


async def _ids(db: aiosqlite.Connection, keys: Iterable[Key]) -> dict[Key, int]:
    cur = await db.execute(_WATCHED, (json.dumps(list(keys)),))
    return {(str(r[1]), str(r[2]), str(r[3])): int(r[0]) for r in await cur.fetchall()}


async def _insert_shipments(
    db: aiosqlite.Connection, shipments: Sequence[Shipment], now: datetime,
    source: str | None = None,
) -> list[tuple[int, bool]]:  # fmt: skip
    """Insert the batch in three statements (the stored among it, the new in one
    executemany, their ids), not two per shipment: an import's cost was the round trips."""
    keys = [_shipment_key(s) for s in shipments]
    old = await _ids(db, set(keys))
    new: dict[Key, Shipment] = {}
    for key, shipment in zip(keys, shipments, strict=True):
        if key not in old:
            new.setdefault(key, shipment)  # a key twice in a batch is stored once
    if new:
        rows = [row_of_shipment(s, now) | {"source": source} for s in new.values()]
        columns = ", ".join(rows[0])
        marks = ", ".join(f":{key}" for key in rows[0])
        await db.executemany(f"INSERT INTO shipments ({columns}) VALUES ({marks}) ON CONFLICT "
                             "(store, carrier, tracking_number) DO NOTHING", rows)  # fmt: skip
    added = await _ids(db, new) if new else {}
    out: list[tuple[int, bool]] = []
    for key in keys:
        created = key in added and new.pop(key, None) is not None
        out.append((added.get(key) or old.get(key, 0), created))
    return out


# Stopping watching (by hand, or on the store's word): neither polled nor judged again
# (`active` = 0) until restarted. A shipment stopped already keeps its first reason.
_STOP = (
    "UPDATE shipments SET active=0, stopped=:stopped, stopped_by=:by, stopped_at=:now,"
    " next_poll_at=NULL, check_at=NULL, deadline_at=NULL, dirty=0"
    " WHERE id=:id AND active=1 RETURNING id"
)


# Every customer notice of the shipment not yet taken by a sender; one in flight may go.
_CANCEL_CUSTOMER_NOTICES = (
    "UPDATE notices SET state='cancelled', last_error=?, lease_until=NULL"
    " WHERE shipment_id=? AND audience='customer' AND state='pending'"
)


# A list of texts given as one JSON parameter: any length, within SQLite's variable limit.
_EACH = "(SELECT value FROM json_each(?))"


_RESTART = (
    "UPDATE shipments SET stopped=NULL, stopped_by=NULL, stopped_at=NULL, restarted_at=:now,"
    " next_poll_at=:now, dirty=1, revision=revision+1, active=1, misses=0,"
    " set_aside=NULL, set_aside_at=NULL"
)


async def _first_receipt(db: aiosqlite.Connection, receipt: str, now: datetime) -> bool:
    """Record a webhook delivery; False when it was handled before."""
    await db.execute("DELETE FROM webhook_receipts WHERE received_at < ?",
                     (ts(now - RECEIPTS_KEPT),))  # fmt: skip
    cur = await db.execute(
        "INSERT INTO webhook_receipts (key, received_at) VALUES (?, ?)"
        " ON CONFLICT (key) DO NOTHING RETURNING key", (receipt, ts(now)),
    )  # fmt: skip
    return await cur.fetchone() is not None


async def _newest_version(
    db: aiosqlite.Connection, update: FulfillmentUpdate, now: datetime
) -> bool:
    """Record the fulfillment's version; False when a newer one was applied before (Shopify
    does not promise to deliver in order: a retried create may follow the cancellation)."""
    if update.source is None or update.updated_at is None:
        return True
    await db.execute("DELETE FROM fulfillments WHERE received_at < ?",
                     (ts(now - RECEIPTS_KEPT),))  # fmt: skip
    cur = await db.execute(
        "INSERT INTO fulfillments (store, source, updated_at, received_at) VALUES (?,?,?,?)"
        " ON CONFLICT (store, source) DO UPDATE SET updated_at=excluded.updated_at,"
        " received_at=excluded.received_at WHERE excluded.updated_at >= fulfillments.updated_at"
        " RETURNING updated_at",
        (update.store, update.source, ts(update.updated_at), ts(now)),
    )  # fmt: skip
    return await cur.fetchone() is not None


async def _resume(db: aiosqlite.Connection, update: FulfillmentUpdate, now: datetime) -> list[int]:
    """The fulfillment's numbers are its own from now on; one that `update.by` stopped (its
    fulfillment cancelled, or the number replaced) is watched again. A stop by staff stands."""
    if not update.listed:
        return []
    numbers = json.dumps(sorted(update.listed))
    if update.source is not None:
        await db.execute("UPDATE shipments SET source=?, fulfillment_gid=COALESCE(?,"
                         f" fulfillment_gid) WHERE store=? AND tracking_number IN {_EACH}",
                         (update.source, update.gid, update.store, numbers))  # fmt: skip
    cur = await db.execute(
        _RESTART + " WHERE store=:store AND active=0 AND stopped_by=:by"
        " AND tracking_number IN (SELECT value FROM json_each(:numbers)) RETURNING id",
        {"now": ts(now), "store": update.store, "by": update.by, "numbers": numbers},
    )  # fmt: skip
    return sorted(int(row[0]) for row in await cur.fetchall())


class SqliteShipments(SqliteBase):
    async def watched(self, shipments: Sequence[Shipment]) -> list[int | None]:
        """The id of each shipment whose store, carrier and number are already stored (None
        for one that is not): what adding them would leave as it is."""
        found = await self._ids_of([_shipment_key(s) for s in shipments])
        return [found.get(_shipment_key(s)) for s in shipments]

    async def _ids_of(self, keys: list[Key]) -> dict[Key, int]:
        rows = await self._all(_WATCHED, (json.dumps(keys),))
        return {(str(r[1]), str(r[2]), str(r[3])): int(r[0]) for r in rows}

    async def add_shipment(self, shipment: Shipment, now: datetime) -> int:
        [(shipment_id, created)] = await self.add_shipments([shipment], now)
        if not created:
            raise DuplicateShipment(shipment_id)
        return shipment_id

    async def add_shipments(
        self, shipments: Sequence[Shipment], now: datetime
    ) -> list[tuple[int, bool]]:
        """Store new shipments in one transaction; for each, its id and whether it is new
        (a store's carrier and tracking number already watched are left as they are)."""
        async with self._tx() as db:
            return await _insert_shipments(db, shipments, now)

    async def apply_fulfillment(
        self, update: FulfillmentUpdate, now: datetime
    ) -> FulfillmentApplied | None:
        """A fulfillment delivery in one transaction (see FulfillmentUpdate), unless its
        receipt was seen before: then None and nothing changes. Receipts and fulfillment
        versions are kept 30 days (Shopify retries a delivery for 48 hours)."""
        async with self._tx() as db:
            if not await _first_receipt(db, update.receipt, now):
                return None
            if not await _newest_version(db, update, now):
                return FulfillmentApplied(stale=True)
            added = await _insert_shipments(db, update.shipments, now, update.source)
            resumed = await _resume(db, update, now)
            stopped = [s for stop in update.stops if (s := await self._stop(db, stop, now))]
        return FulfillmentApplied(added, stopped, resumed)

    async def shipments_of_fulfillment(
        self, store: str, source: str | None, numbers: Iterable[str]
    ) -> Readout:
        """A store's shipments that came from fulfillment `source`, and those of `numbers`
        that came with no source (added another way, or before sources were recorded)."""
        return readout(await self._all(
            "SELECT * FROM shipments WHERE store=? AND (source=? OR (source IS NULL AND"
            f" tracking_number IN {_EACH})) ORDER BY id",
            (store, source, json.dumps(sorted(set(numbers)))),
        ))  # fmt: skip

    async def stop_watching(
        self, shipment_id: int, reason: str, by: str, now: datetime,
        notices: Mapping[int, tuple[NoticeDraft, ...]] | None = None,
    ) -> Stopped | None:  # fmt: skip
        """Stop watching a shipment until `restart`: no more polls or judgements, its open
        alerts resolved (each with its `notices`, the staff told by the caller's drafts),
        every pending customer notice cancelled. None for an unknown shipment; a shipment
        stopped already is left as it was (`already`)."""
        stop = StopWatching(shipment_id, reason, by, notices or {})
        async with self._tx() as db:
            return await self._stop(db, stop, now)

    async def _stop(
        self, db: aiosqlite.Connection, stop: StopWatching, now: datetime
    ) -> Stopped | None:
        stopped = f"by {stop.by}: {stop.reason}"
        cur = await db.execute(_STOP, {"stopped": stopped, "by": stop.by, "now": ts(now),
                                       "id": stop.shipment_id})  # fmt: skip
        if await cur.fetchone() is None:
            cur = await db.execute("SELECT stopped FROM shipments WHERE id=?",
                                   (stop.shipment_id,))  # fmt: skip
            row = await cur.fetchone()
            return None if row is None else Stopped(stop.shipment_id, True, str(row[0] or ""))
        cur = await db.execute(
            "UPDATE alerts SET state='resolved', resolved_at=?, resolved_by=?, resolution=?"
            " WHERE (shipment_id=? OR (shipment_id IS NULL AND subject=?)) AND state='open'"
            " RETURNING id, shipment_id",
            (ts(now), stop.by, f"watching stopped: {stop.reason}", stop.shipment_id,
             shipment_subject(stop.shipment_id)),
        )  # fmt: skip
        resolved = sorted(int(r[0]) for r in await cur.fetchall() if r[1] is not None)
        told = [d for aid in resolved for d in stop.notices.get(aid, ())]
        for aid in resolved:
            await self._enqueue(db, aid, stop.notices.get(aid, ()), now)
        cur = await db.execute(_CANCEL_CUSTOMER_NOTICES,
                               (f"not sent: watching stopped {stopped}", stop.shipment_id))  # fmt: skip
        return Stopped(stop.shipment_id, False, stopped, tuple(resolved), cur.rowcount, len(told))

    async def get_shipment(self, shipment_id: int) -> Shipment | None:
        """The shipment, None if there is none; UnreadableShipment for a row that cannot be
        read (set aside by the loops)."""
        rows = await self._all("SELECT * FROM shipments WHERE id=?", (shipment_id,))
        found = readout(rows)
        if found.unreadable:
            raise UnreadableShipment(found.unreadable[0])
        return found.shipments[0] if found.shipments else None

    async def list_shipments(self, store: str | None = None, limit: int = 1000) -> Readout:
        sql = "SELECT * FROM shipments"
        params: list[Any] = []
        if store is not None:
            sql += " WHERE store=?"
            params.append(store)
        return readout(await self._all(sql + " ORDER BY id LIMIT ?", [*params, limit]))

    async def restart_polling(self, shipment_id: int, now: datetime) -> bool:
        """Poll a stopped or set-aside shipment again (now), and judge it on what comes
        back."""
        async with self._tx() as db:
            cur = await db.execute(
                _RESTART + " WHERE id=:id AND (stopped IS NOT NULL OR set_aside IS NOT NULL)",
                {"now": ts(now), "id": shipment_id},
            )
            # Its set-aside alert ends here, so that a second setting aside is told again.
            await db.execute(
                "UPDATE alerts SET state='resolved', resolved_at=?, resolved_by='hand',"
                " resolution='taken back by restart' WHERE shipment_id IS NULL AND subject=?"
                " AND state='open'",
                (ts(now), shipment_subject(shipment_id)),
            )
            return cur.rowcount == 1

    async def report_missing(
        self, shipment_id: int, reported_by: str, now: datetime
    ) -> datetime | None:
        """Record a 'delivered but not received' report; the first one stands. Returns
        when it was reported, or None for an unknown shipment."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE shipments SET missing_reported_at=COALESCE(missing_reported_at, ?),"
                " missing_reported_by=COALESCE(missing_reported_by, ?), dirty=1,"
                " revision=revision+1 WHERE id=?",
                (ts(now), reported_by, shipment_id),
            )
            cur = await db.execute(
                "SELECT missing_reported_at FROM shipments WHERE id=?", (shipment_id,)
            )
            row = await cur.fetchone()
        return parse_ts(row[0]) if row else None

    async def resolve_by_hand(
        self, shipment_id: int, rule: str | None, note: str, now: datetime
    ) -> list[int]:
        """Resolve a shipment's open alerts (one rule's, or all); returns their ids. The
        episode stays resolved: the rules do not reopen it."""
        sql = "UPDATE alerts SET state=?, resolved_at=?, resolved_by='hand', resolution=? " \
              "WHERE shipment_id=? AND state=?"  # fmt: skip
        params: list[Any] = [AlertState.RESOLVED.value, ts(now), note, shipment_id,
                             AlertState.OPEN.value]  # fmt: skip
        if rule is not None:
            sql += " AND rule=?"
            params.append(rule)
        async with self._tx() as db:
            cur = await db.execute(sql + " RETURNING id", params)
            return sorted(int(row[0]) for row in await cur.fetchall())

    async def destination_countries(self) -> list[str]:
        """The countries watched parcels are bound for (their holiday calendars are warmed
        at start)."""
        rows = await self._all("SELECT DISTINCT destination_country FROM shipments"
                               " WHERE next_poll_at IS NOT NULL OR check_at IS NOT NULL")  # fmt: skip
        return sorted(str(row[0]) for row in rows)
