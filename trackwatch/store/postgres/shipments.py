"""Shipments in and out: ingest (CLI, CSV, API, Shopify), operator reads, reports, stops and
restarts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from trackwatch.model import AlertState, Shipment
from trackwatch.store.postgres.base import Conn, PostgresBase, affected
from trackwatch.store.postgres.rows import readout
from trackwatch.store.records import (
    FulfillmentApplied,
    FulfillmentUpdate,
    NoticeDraft,
    Readout,
    Stopped,
    StopWatching,
    shipment_subject,
)
from trackwatch.store.rows import DuplicateShipment, UnreadableShipment, values_of_shipment

RECEIPTS_KEPT = timedelta(days=30)  # Shopify retries a failed delivery for up to 48 hours


# The ids of stored shipments among (store, carrier, tracking_number) keys given as three
# arrays: a batch of any size in one statement, each key an index seek.
_WATCHED = (
    "SELECT s.id, s.store, s.carrier, s.tracking_number"
    " FROM unnest($1::text[], $2::text[], $3::text[]) AS k(store, carrier, tracking_number)"
    " JOIN shipments s USING (store, carrier, tracking_number)"
)

Key = tuple[str, str, str]


def _shipment_key(shipment: Shipment) -> Key:
    return (shipment.store, shipment.carrier, shipment.tracking_number)


def _arrays(keys: Iterable[Key]) -> list[list[str]]:
    listed = list(keys)
    return [[k[i] for k in listed] for i in range(3)]


async def _ids(c: Conn, keys: Iterable[Key]) -> dict[Key, int]:
    rows = await c.fetch(_WATCHED, *_arrays(keys))
    return {(str(r[1]), str(r[2]), str(r[3])): int(r[0]) for r in rows}


async def _insert_shipments(
    c: Conn, shipments: Sequence[Shipment], now: datetime, source: str | None = None
) -> list[tuple[int, bool]]:
    """Insert the batch in three statements (the stored among it, the new in one
    executemany, their ids), not two per shipment. A shipment another daemon adds between
    the first and the second is stored once all the same, and counted as added here too."""
    keys = [_shipment_key(s) for s in shipments]
    old = await _ids(c, set(keys))
    new: dict[Key, Shipment] = {}
    for key, shipment in zip(keys, shipments, strict=True):
        if key not in old:
            new.setdefault(key, shipment)  # a key twice in a batch is stored once
    if new:
        rows = [values_of_shipment(s, now) | {"source": source} for s in new.values()]
        marks = ", ".join(f"${n}" for n in range(1, len(rows[0]) + 1))
        await c.executemany(
            f"INSERT INTO shipments ({', '.join(rows[0])}) VALUES ({marks}) ON CONFLICT"
            " (store, carrier, tracking_number) DO NOTHING", [list(r.values()) for r in rows],
        )  # fmt: skip
    added = await _ids(c, new) if new else {}
    out: list[tuple[int, bool]] = []
    for key in keys:
        created = key in added and new.pop(key, None) is not None
        out.append((added.get(key) or old.get(key, 0), created))
    return out


# Stopping watching (by hand, or on the store's word): neither polled nor judged again
# (`active` false) until restarted. A shipment stopped already keeps its first reason.
_STOP = (
    "UPDATE shipments SET active=false, stopped=$1, stopped_by=$2, stopped_at=$3,"
    " next_poll_at=NULL, check_at=NULL, deadline_at=NULL, dirty=false"
    " WHERE id=$4 AND active RETURNING id"
)

# Every customer notice of the shipment not yet taken by a sender; one in flight may go.
_CANCEL_CUSTOMER_NOTICES = (
    "UPDATE notices SET state='cancelled', last_error=$1, lease_until=NULL"
    " WHERE shipment_id=$2 AND audience='customer' AND state='pending'"
)

# $1: now.
_RESTART = (
    "UPDATE shipments SET stopped=NULL, stopped_by=NULL, stopped_at=NULL, restarted_at=$1,"
    " next_poll_at=$1, dirty=true, revision=revision+1, active=true, misses=0,"
    " set_aside=NULL, set_aside_at=NULL"
)


async def _first_receipt(c: Conn, receipt: str, now: datetime) -> bool:
    """Record a webhook delivery; False when it was handled before."""
    await c.execute("DELETE FROM webhook_receipts WHERE received_at < $1", now - RECEIPTS_KEPT)
    return await c.fetchval(
        "INSERT INTO webhook_receipts (key, received_at) VALUES ($1, $2)"
        " ON CONFLICT (key) DO NOTHING RETURNING key", receipt, now,
    ) is not None  # fmt: skip


async def _newest_version(c: Conn, update: FulfillmentUpdate, now: datetime) -> bool:
    """Record the fulfillment's version; False when a newer one was applied before (Shopify
    does not promise to deliver in order: a retried create may follow the cancellation)."""
    if update.source is None or update.updated_at is None:
        return True
    await c.execute("DELETE FROM fulfillments WHERE received_at < $1", now - RECEIPTS_KEPT)
    return await c.fetchval(
        "INSERT INTO fulfillments (store, source, updated_at, received_at) VALUES ($1,$2,$3,$4)"
        " ON CONFLICT (store, source) DO UPDATE SET updated_at=excluded.updated_at,"
        " received_at=excluded.received_at WHERE excluded.updated_at >= fulfillments.updated_at"
        " RETURNING updated_at",
        update.store, update.source, update.updated_at, now,
    ) is not None  # fmt: skip


async def _resume(c: Conn, update: FulfillmentUpdate, now: datetime) -> list[int]:
    """The fulfillment's numbers are its own from now on; one that `update.by` stopped (its
    fulfillment cancelled, or the number replaced) is watched again. A stop by staff stands."""
    if not update.listed:
        return []
    numbers = sorted(update.listed)
    if update.source is not None:
        await c.execute("UPDATE shipments SET source=$1, fulfillment_gid=COALESCE($4,"
                        " fulfillment_gid) WHERE store=$2 AND tracking_number = ANY($3::text[])",
                        update.source, update.store, numbers, update.gid)  # fmt: skip
    rows = await c.fetch(
        _RESTART + " WHERE store=$2 AND NOT active AND stopped_by=$3"
        " AND tracking_number = ANY($4::text[]) RETURNING id",
        now, update.store, update.by, numbers,
    )  # fmt: skip
    return sorted(int(row[0]) for row in rows)


class PostgresShipments(PostgresBase):
    async def watched(self, shipments: Sequence[Shipment]) -> list[int | None]:
        """The id of each shipment already stored (see SqliteShipments.watched)."""
        rows = await self._all(_WATCHED, *_arrays(_shipment_key(s) for s in shipments))
        found = {(str(r[1]), str(r[2]), str(r[3])): int(r[0]) for r in rows}
        return [found.get(_shipment_key(s)) for s in shipments]

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
        async with self._tx() as c:
            return await _insert_shipments(c, shipments, now)

    async def apply_fulfillment(
        self, update: FulfillmentUpdate, now: datetime
    ) -> FulfillmentApplied | None:
        """A fulfillment delivery in one transaction (see FulfillmentUpdate), unless its
        receipt was seen before: then None and nothing changes."""
        async with self._tx() as c:
            if not await _first_receipt(c, update.receipt, now):
                return None
            if not await _newest_version(c, update, now):
                return FulfillmentApplied(stale=True)
            added = await _insert_shipments(c, update.shipments, now, update.source)
            resumed = await _resume(c, update, now)
            stopped = [s for stop in update.stops if (s := await self._stop(c, stop, now))]
        return FulfillmentApplied(added, stopped, resumed)

    async def shipments_of_fulfillment(
        self, store: str, source: str | None, numbers: Iterable[str]
    ) -> Readout:
        """A store's shipments that came from fulfillment `source`, and those of `numbers`
        that came with no source (added another way, or before sources were recorded)."""
        return readout(await self._all(
            "SELECT * FROM shipments WHERE store=$1 AND (source=$2 OR (source IS NULL AND"
            " tracking_number = ANY($3::text[]))) ORDER BY id",
            store, source, sorted(set(numbers)),
        ))  # fmt: skip

    async def stop_watching(
        self, shipment_id: int, reason: str, by: str, now: datetime,
        notices: Mapping[int, tuple[NoticeDraft, ...]] | None = None,
    ) -> Stopped | None:  # fmt: skip
        """Stop watching a shipment until `restart` (see SqliteShipments.stop_watching)."""
        async with self._tx() as c:
            return await self._stop(c, StopWatching(shipment_id, reason, by, notices or {}), now)

    async def _stop(self, c: Conn, stop: StopWatching, now: datetime) -> Stopped | None:
        stopped = f"by {stop.by}: {stop.reason}"
        if await c.fetchval(_STOP, stopped, stop.by, now, stop.shipment_id) is None:
            row = await c.fetchrow("SELECT stopped FROM shipments WHERE id=$1", stop.shipment_id)
            return None if row is None else Stopped(stop.shipment_id, True, str(row[0] or ""))
        rows = await c.fetch(
            "UPDATE alerts SET state='resolved', resolved_at=$1, resolved_by=$2, resolution=$3"
            " WHERE (shipment_id=$4 OR (shipment_id IS NULL AND subject=$5)) AND state='open'"
            " RETURNING id, shipment_id",
            now, stop.by, f"watching stopped: {stop.reason}", stop.shipment_id,
            shipment_subject(stop.shipment_id),
        )  # fmt: skip
        resolved = sorted(int(r[0]) for r in rows if r[1] is not None)
        told = [d for aid in resolved for d in stop.notices.get(aid, ())]
        for aid in resolved:
            await self._enqueue(c, aid, stop.notices.get(aid, ()), now)
        status = await c.execute(_CANCEL_CUSTOMER_NOTICES,
                                 f"not sent: watching stopped {stopped}", stop.shipment_id)  # fmt: skip
        return Stopped(
            stop.shipment_id, False, stopped, tuple(resolved), affected(status), len(told)
        )

    async def get_shipment(self, shipment_id: int) -> Shipment | None:
        """The shipment, None if there is none; UnreadableShipment for a row that cannot be
        read (set aside by the loops)."""
        found = readout(await self._all("SELECT * FROM shipments WHERE id=$1", shipment_id))
        if found.unreadable:
            raise UnreadableShipment(found.unreadable[0])
        return found.shipments[0] if found.shipments else None

    async def list_shipments(self, store: str | None = None, limit: int = 1000) -> Readout:
        return readout(await self._all(
            "SELECT * FROM shipments WHERE store=$1 OR $1::text IS NULL ORDER BY id LIMIT $2",
            store, limit,
        ))  # fmt: skip

    async def restart_polling(self, shipment_id: int, now: datetime) -> bool:
        """Poll a stopped or set-aside shipment again (now), and judge it on what comes
        back."""
        async with self._tx() as c:
            status = await c.execute(
                _RESTART + " WHERE id=$2 AND (stopped IS NOT NULL OR set_aside IS NOT NULL)",
                now, shipment_id,
            )  # fmt: skip
            # Its set-aside alert ends here, so that a second setting aside is told again.
            await c.execute(
                "UPDATE alerts SET state='resolved', resolved_at=$1, resolved_by='hand',"
                " resolution='taken back by restart' WHERE shipment_id IS NULL AND subject=$2"
                " AND state='open'",
                now, shipment_subject(shipment_id),
            )  # fmt: skip
            return affected(status) == 1

    async def report_missing(
        self, shipment_id: int, reported_by: str, now: datetime
    ) -> datetime | None:
        """Record a 'delivered but not received' report; the first one stands. Returns
        when it was reported, or None for an unknown shipment."""
        async with self._tx() as c:
            row = await c.fetchrow(
                "UPDATE shipments SET missing_reported_at=COALESCE(missing_reported_at, $1),"
                " missing_reported_by=COALESCE(missing_reported_by, $2), dirty=true,"
                " revision=revision+1 WHERE id=$3 RETURNING missing_reported_at",
                now, reported_by, shipment_id,
            )  # fmt: skip
        return None if row is None else row[0]

    async def resolve_by_hand(
        self, shipment_id: int, rule: str | None, note: str, now: datetime
    ) -> list[int]:
        """Resolve a shipment's open alerts (one rule's, or all); returns their ids. The
        episode stays resolved: the rules do not reopen it."""
        rows = await self._all(
            "UPDATE alerts SET state=$1, resolved_at=$2, resolved_by='hand', resolution=$3"
            " WHERE shipment_id=$4 AND state=$5 AND (rule=$6 OR $6::text IS NULL) RETURNING id",
            AlertState.RESOLVED.value, now, note, shipment_id, AlertState.OPEN.value, rule,
        )  # fmt: skip
        return sorted(int(row[0]) for row in rows)

    async def destination_countries(self) -> list[str]:
        """The countries watched parcels are bound for (their holiday calendars are warmed
        at start)."""
        rows = await self._all("SELECT DISTINCT destination_country FROM shipments"
                               " WHERE next_poll_at IS NOT NULL OR check_at IS NOT NULL")  # fmt: skip
        return sorted(str(row[0]) for row in rows)
