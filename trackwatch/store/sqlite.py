"""SQLite behind aiosqlite: WAL, migrations, and every write of a loop pass in one transaction.

The loops share one connection, so an asyncio lock serialises transactions; aiosqlite's
thread hop costs about 0.07 ms a statement, so writes are batched with executemany.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from trackwatch.model import (
    Alert,
    AlertState,
    Audience,
    Finding,
    Notice,
    NoticeState,
    Outcome,
    Shipment,
    TrackingEvent,
)
from trackwatch.store.records import (
    AlertEscalate,
    Applied,
    Evaluation,
    Figures,
    FulfillmentApplied,
    FulfillmentUpdate,
    NoticeDraft,
    PollFailure,
    PollUpdate,
    Readout,
    Reschedule,
    Stopped,
    StopWatching,
    StoreAlertOpen,
    Unreadable,
    parse_ts,
    shipment_subject,
    ts,
)
from trackwatch.store.schema import MIGRATIONS

_SHIPMENT_TIMES = (
    "shipped_at",
    "last_event_at",
    "eta",
    "last_polled_at",
    "next_poll_at",
    "check_at",
    "ordered_at",
    "promised_by",
    "missing_reported_at",
    "deadline_at",
    "stopped_at",
    "restarted_at",
    "set_aside_at",
)


RECEIPTS_KEPT = timedelta(days=30)  # Shopify retries a failed delivery for up to 48 hours


class UnreadableShipment(Exception):
    def __init__(self, row: Unreadable) -> None:
        super().__init__(f"shipment {row.shipment_id} cannot be read: {row.reason}")
        self.row = row


class DuplicateShipment(Exception):
    def __init__(self, existing_id: int) -> None:
        super().__init__(f"already watched as shipment {existing_id}")
        self.existing_id = existing_id


def _shipment(row: aiosqlite.Row) -> Shipment:
    data = dict(row)
    for key in _SHIPMENT_TIMES:
        data[key] = parse_ts(data[key])
    data["active"] = bool(data["active"])
    return Shipment.model_validate(data)


def _readout(rows: Iterable[aiosqlite.Row]) -> Readout:
    """The rows as Shipments; a row that cannot be read is reported, not raised, so that
    one bad row never stops a loop."""
    out = Readout([])
    for row in rows:
        try:
            out.shipments.append(_shipment(row))
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            reason = f"unreadable row ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            out.unreadable.append(Unreadable(int(row["id"]), str(row["store"]), reason))
    return out


def _shipment_row(shipment: Shipment, now: datetime) -> dict[str, Any]:
    values = shipment.model_dump(exclude={"id", "active", "polls", "revision"})
    for key in _SHIPMENT_TIMES:
        values[key] = ts(values[key])
    values["next_poll_at"] = values["next_poll_at"] or ts(now)
    values["created_at"] = ts(now)
    return values


async def _insert_shipments(
    db: aiosqlite.Connection, shipments: Sequence[Shipment], now: datetime,
    source: str | None = None,
) -> list[tuple[int, bool]]:  # fmt: skip
    out: list[tuple[int, bool]] = []
    for shipment in shipments:
        values = _shipment_row(shipment, now) | {"source": source}
        columns = ", ".join(values)
        marks = ", ".join(f":{key}" for key in values)
        cur = await db.execute(
            f"INSERT INTO shipments ({columns}) VALUES ({marks}) ON CONFLICT "
            "(store, carrier, tracking_number) DO NOTHING RETURNING id", values,
        )  # fmt: skip
        row = await cur.fetchone()
        if row is None:
            cur = await db.execute(
                "SELECT id FROM shipments WHERE store=? AND carrier=? AND tracking_number=?",
                (shipment.store, shipment.carrier, shipment.tracking_number),
            )
            row = await cur.fetchone()
            out.append((int(row[0]) if row else 0, False))
        else:
            out.append((int(row[0]), True))
    return out


def _audiences(values: Iterable[Audience]) -> str:
    return ",".join(a.value for a in values)


def _alert(row: aiosqlite.Row) -> Alert:
    return _alert_data(dict(row))


def _alert_data(data: dict[str, Any]) -> Alert:
    data["explanation"] = json.loads(data["explanation"])
    data["audiences"] = tuple(Audience(a) for a in data["audiences"].split(",") if a)
    for key in ("opened_at", "escalated_at", "resolved_at"):
        data[key] = parse_ts(data[key])
    return Alert.model_validate(data)


# Notices with what the outbox needs to know of their alert and shipment (a digest has
# neither: NULLs).
_NOTICES_READ = (
    "SELECT n.*, a.severity AS severity, s.destination_country AS destination_country,"
    " s.destination_postal_code AS destination_postal_code FROM notices n"
    " LEFT JOIN alerts a ON a.id = n.alert_id LEFT JOIN shipments s ON s.id = n.shipment_id"
    " WHERE {where} ORDER BY n.id"
)


def _notice(row: aiosqlite.Row) -> Notice:
    data = dict(row)
    for key in ("next_attempt_at", "sent_at"):
        data[key] = parse_ts(data[key])
    return Notice.model_validate(data)


# Columns on the right of SET read the row as it was before the update, so `stopped` below
# is the old value: a shipment already stopped stays unpolled until restarted by hand. A
# judgement made on older data (the revision moved on: a poll or a report landed meanwhile)
# leaves the poll time alone: the row is dirty again and the next judgement plans from what
# is new (pulling the poll earlier here polled a just-polled parcel twice). A shipment whose
# last answers were unusable (`misses`) keeps its back-off: a judgement may not bring that
# poll forward.
_RESCHEDULE = (
    "UPDATE shipments SET dirty=CASE WHEN revision=:rev THEN 0 ELSE dirty END,"
    " check_at=:check, deadline_at=:deadline,"
    " next_poll_at=CASE WHEN stopped IS NOT NULL THEN NULL"
    "  WHEN revision=:rev AND :stop IS NOT NULL THEN NULL"
    "  WHEN revision!=:rev THEN next_poll_at"
    "  WHEN misses>0 AND next_poll_at>:poll THEN next_poll_at"
    "  ELSE :poll END,"
    " stopped_at=CASE WHEN stopped IS NULL AND revision=:rev AND :stop IS NOT NULL THEN :now"
    "  ELSE stopped_at END,"
    " stopped=CASE WHEN stopped IS NULL AND revision=:rev THEN :stop ELSE stopped END"
    " WHERE id=:id AND set_aside IS NULL AND active=1"
)

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


def _schedule_row(schedule: Reschedule, now: datetime) -> dict[str, Any]:
    return {
        "check": ts(schedule.check_at),
        "poll": ts(schedule.poll_by),
        "deadline": ts(schedule.deadline_at),
        "stop": schedule.stop,
        "now": ts(now),
        "id": schedule.shipment_id,
        "rev": schedule.revision,
    }


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
        await db.execute(f"UPDATE shipments SET source=? WHERE store=? AND tracking_number IN"
                         f" {_EACH}", (update.source, update.store, numbers))  # fmt: skip
    cur = await db.execute(
        _RESTART + " WHERE store=:store AND active=0 AND stopped_by=:by"
        " AND tracking_number IN (SELECT value FROM json_each(:numbers)) RETURNING id",
        {"now": ts(now), "store": update.store, "by": update.by, "numbers": numbers},
    )  # fmt: skip
    return sorted(int(row[0]) for row in await cur.fetchall())


class SqliteStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        # Part of every notice's idempotency key (and so of every email's Message-ID): alert
        # ids repeat across databases (staging and production, two shops, a restored
        # backup), and a receiver that deduplicates would drop a real notice.
        self.instance = ""

    @classmethod
    async def open(cls, path: Path | str) -> SqliteStore:
        db = await aiosqlite.connect(str(path), isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db)
        await store._migrate()  # before foreign keys: a migration may rebuild a table
        await db.execute("PRAGMA foreign_keys=ON")
        store.instance = (await store.secret("instance"))[:4].hex()
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own; the version bump rides in the same script.
            await self._db.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def secret(self, name: str) -> bytes:
        """A random secret kept in the database, made on first use (signs customer links
        when the configuration names none)."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (f"secret:{name}", secrets.token_hex(32)),
            )
            cur = await db.execute("SELECT value FROM meta WHERE key=?", (f"secret:{name}",))
            row = await cur.fetchone()
        return bytes.fromhex(str(row[0])) if row else b""

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock, self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # --- shipments -------------------------------------------------------------------------

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
        return _readout(await self._all(
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
        found = _readout(rows)
        if found.unreadable:
            raise UnreadableShipment(found.unreadable[0])
        return found.shipments[0] if found.shipments else None

    async def list_shipments(self, store: str | None = None, limit: int = 1000) -> Readout:
        sql = "SELECT * FROM shipments"
        params: list[Any] = []
        if store is not None:
            sql += " WHERE store=?"
            params.append(store)
        return _readout(await self._all(sql + " ORDER BY id LIMIT ?", [*params, limit]))

    async def due_shipments(self, now: datetime, limit: int) -> Readout:
        """Shipments due a poll, the nearest deadline first (those without one last)."""
        rows = await self._all(
            "SELECT * FROM shipments WHERE active=1 AND next_poll_at<=? AND set_aside IS NULL "
            "ORDER BY deadline_at IS NULL, deadline_at, next_poll_at LIMIT ?",
            (ts(now), limit),
        )
        return _readout(rows)

    async def deadlines_ahead(self, carrier: str, now: datetime, until: datetime) -> int:
        """How many of a carrier's shipments not yet due a poll have a deadline to verify
        in (now, until]: the calls a quota must keep for them."""
        rows = await self._all(
            "SELECT COUNT(*) FROM shipments WHERE carrier=? AND active=1 AND stopped IS NULL"
            " AND deadline_at>? AND deadline_at<=? AND next_poll_at>?",
            (carrier, ts(now), ts(until), ts(now)),
        )
        return int(rows[0][0]) if rows else 0

    async def destination_countries(self) -> list[str]:
        """The countries watched parcels are bound for (their holiday calendars are warmed
        at start)."""
        rows = await self._all("SELECT DISTINCT destination_country FROM shipments"
                               " WHERE next_poll_at IS NOT NULL OR check_at IS NOT NULL")  # fmt: skip
        return sorted(str(row[0]) for row in rows)

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

    # --- the carrier call ledger (quota.CallLedger) ---------------------------------------

    async def judge_all_again(self) -> int:
        """Every watched shipment to be judged at the next pass (a reloaded policy may move
        its deadlines); returns how many."""
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE shipments SET dirty=1, revision=revision+1 WHERE active=1"
            )
            return int(cur.rowcount)

    async def record_call(self, carrier: str, at: datetime) -> None:
        async with self._tx() as db:
            await db.execute("INSERT INTO carrier_calls (carrier, at) VALUES (?, ?)",
                             (carrier, ts(at)))  # fmt: skip

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        """The calls made since `since`; older rows (past every window) are dropped."""
        async with self._tx() as db:
            await db.execute("DELETE FROM carrier_calls WHERE at<?",
                             (ts(since - timedelta(days=2)),))  # fmt: skip
            cur = await db.execute(
                "SELECT at FROM carrier_calls WHERE carrier=? AND at>=? ORDER BY at",
                (carrier, ts(since)),
            )
            rows = await cur.fetchall()
        return [t for t in (parse_ts(row[0]) for row in rows) if t is not None]

    async def next_poll_at(self) -> datetime | None:
        rows = await self._all("SELECT MIN(next_poll_at) FROM shipments WHERE active=1")
        return parse_ts(rows[0][0]) if rows else None

    async def shipments_to_check(self, now: datetime, limit: int) -> Readout:
        rows = await self._all(
            "SELECT * FROM shipments WHERE active=1 AND (dirty=1 OR check_at<=?)"
            " AND set_aside IS NULL ORDER BY id LIMIT ?",
            (ts(now), limit),
        )
        return _readout(rows)

    async def set_aside(
        self, rows: Sequence[tuple[Unreadable, StoreAlertOpen]], now: datetime
    ) -> list[Unreadable]:
        """Stop polling and judging these rows (until `restart`), keeping why, and open each
        one's staff alert in the same transaction (a crash between the two would leave a row
        nobody hears of again); returns the rows not set aside before."""
        done: list[Unreadable] = []
        async with self._tx() as db:
            for row, alarm in rows:
                cur = await db.execute(
                    "UPDATE shipments SET set_aside=COALESCE(set_aside, ?),"
                    " set_aside_at=COALESCE(set_aside_at, ?), next_poll_at=NULL, check_at=NULL,"
                    " dirty=0 WHERE id=? RETURNING set_aside_at",
                    (row.reason, ts(now), row.shipment_id),
                )  # fmt: skip
                found = await cur.fetchone()
                if found is not None and found[0] == ts(now):
                    await self._open_store_alert(db, alarm, now)
                    done.append(row)
        return done

    async def next_check_at(self) -> datetime | None:
        rows = await self._all("SELECT MIN(check_at) FROM shipments WHERE active=1")
        return parse_ts(rows[0][0]) if rows else None

    async def apply_polls(self, updates: Iterable[PollUpdate]) -> None:
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
        async with self._tx() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO events (shipment_id, occurred_at, code, place, data) "
                "VALUES (?, ?, ?, ?, ?)",
                event_rows,
            )
            await db.executemany(
                "UPDATE shipments SET polls=polls+1, last_polled_at=:polled,"
                " next_poll_at=CASE WHEN active=1 THEN :next END, dirty=active,"
                " revision=revision+1, misses=0, carrier_note=:note,"
                " status=COALESCE(:status, status), eta=COALESCE(:eta, eta),"
                " last_event_at=CASE WHEN :last IS NOT NULL AND"
                " (last_event_at IS NULL OR :last > last_event_at) THEN :last"
                " ELSE last_event_at END WHERE id=:id AND set_aside IS NULL",
                shipment_rows,
            )

    async def poll_failed(self, failures: Sequence[PollFailure], note: str) -> None:
        """Polls that brought nothing usable: each shipment counts one more miss, keeps the
        reason, and is asked again at its `retry_at` (its data stays as it was, so no rule
        takes the failed poll for fresh news)."""
        async with self._tx() as db:
            await db.executemany(
                "UPDATE shipments SET misses=misses+1, carrier_note=?, next_poll_at=?"
                " WHERE id=? AND next_poll_at IS NOT NULL",
                [(note, ts(f.retry_at), f.shipment_id) for f in failures],
            )

    async def reschedule_polls(self, shipment_ids: Sequence[int], next_poll_at: datetime) -> None:
        async with self._tx() as db:
            await db.executemany(
                "UPDATE shipments SET next_poll_at=? WHERE id=? AND next_poll_at IS NOT NULL",
                [(ts(next_poll_at), sid) for sid in shipment_ids],
            )

    async def _by_shipment(
        self, sql: str, shipment_ids: Sequence[int]
    ) -> dict[int, list[aiosqlite.Row]]:
        """Rows of `sql` (which selects shipment_id and filters `IN ({ids})`) per shipment."""
        found: dict[int, list[aiosqlite.Row]] = {sid: [] for sid in shipment_ids}
        if shipment_ids:
            marks = ",".join("?" * len(shipment_ids))
            for row in await self._all(sql.format(ids=marks), list(shipment_ids)):
                found[int(row["shipment_id"])].append(row)
        return found

    async def events_for(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]:
        rows = await self._by_shipment(
            "SELECT shipment_id, data FROM events WHERE shipment_id IN ({ids}) "
            "ORDER BY occurred_at, id",
            shipment_ids,
        )
        return {
            sid: [TrackingEvent.model_validate_json(r["data"]) for r in found]
            for sid, found in rows.items()
        }

    # --- alerts and notices ----------------------------------------------------------------

    async def open_alerts(self, shipment_ids: Sequence[int]) -> dict[int, list[Alert]]:
        rows = await self._by_shipment(
            "SELECT * FROM alerts WHERE state='open' AND shipment_id IN ({ids})", shipment_ids
        )
        return {sid: [_alert(r) for r in found] for sid, found in rows.items()}

    async def alerts_for(self, shipment_id: int) -> list[Alert]:
        rows = await self._all(
            "SELECT * FROM alerts WHERE shipment_id=? ORDER BY id", (shipment_id,)
        )
        return [_alert(row) for row in rows]

    async def all_alerts(self) -> list[Alert]:
        return [_alert(row) for row in await self._all("SELECT * FROM alerts ORDER BY id")]

    async def apply_evaluation(self, evaluation: Evaluation, now: datetime) -> Applied:
        """Open, escalate and resolve alerts with their notices, and reschedule, atomically;
        returns what really changed.

        An alert that already exists for its episode is not opened again, an escalation
        only lands on an alert still open, and an alert that is no longer open is not
        resolved again: none of them enqueues a second notice.
        """
        applied = Applied()
        async with self._tx() as db:
            for opening in evaluation.opens:
                alert_id = await self._open_alert(db, opening.shipment_id, opening.finding, now)
                if alert_id is not None:
                    await self._enqueue(db, alert_id, opening.notices, now)
                    applied.opened.append(opening)
            for step in evaluation.escalations:
                if await self._escalate(db, step, now):
                    applied.escalated.append(step)
            for resolving in evaluation.resolves:
                cur = await db.execute(
                    "UPDATE alerts SET state=?, resolved_at=?, resolved_by=?, resolution=? "
                    "WHERE id=? AND state=?",
                    (AlertState.RESOLVED.value, ts(now), resolving.resolved_by,
                     resolving.reason, resolving.alert_id, AlertState.OPEN.value),
                )  # fmt: skip
                if cur.rowcount == 1:
                    await self._enqueue(db, resolving.alert_id, resolving.notices, now)
                    applied.resolved.append(resolving)
            await db.executemany(_RESCHEDULE, [_schedule_row(s, now) for s in evaluation.schedules])
        return applied

    @staticmethod
    async def _open_alert(
        db: aiosqlite.Connection, shipment_id: int, f: Finding, now: datetime
    ) -> int | None:
        """The new alert's id; None when one exists for this episode already, or the
        shipment is no longer watched."""
        # Nothing opens on a shipment no longer watched (stopped since it was judged).
        cur = await db.execute(
            "INSERT INTO alerts (shipment_id, store, rule, episode, state, severity, summary,"
            " action, explanation, audiences, opened_at, escalated_at)"
            " SELECT id, store, ?,?,?,?,?,?,?,?,?,? FROM shipments WHERE id=? AND active=1"
            " ON CONFLICT (shipment_id, rule, episode) DO NOTHING RETURNING id",
            (f.rule, f.episode, AlertState.OPEN.value, f.severity.value, f.summary, f.action,
             json.dumps(f.explanation), _audiences(f.audiences), ts(now),
             ts(now) if f.escalated else None, shipment_id),
        )  # fmt: skip
        row = await cur.fetchone()
        return int(row[0]) if row else None

    async def _escalate(self, db: aiosqlite.Connection, step: AlertEscalate, now: datetime) -> bool:
        f = step.finding
        cur = await db.execute(
            "UPDATE alerts SET severity=?, summary=?, action=?, explanation=?, audiences=?,"
            " escalated_at=CASE WHEN ? THEN COALESCE(escalated_at, ?) ELSE escalated_at END"
            " WHERE id=? AND state=?",
            (f.severity.value, f.summary, f.action, json.dumps(f.explanation),
             _audiences(step.audiences), step.escalated, ts(now), step.alert_id,
             AlertState.OPEN.value),
        )  # fmt: skip
        if cur.rowcount != 1:
            return False
        await self._enqueue(db, step.alert_id, step.notices, now)
        return True

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

    def _key(self, key: str) -> str:
        return f"tw-{self.instance}-{key}"

    async def _enqueue(
        self,
        db: aiosqlite.Connection,
        alert_id: int,
        drafts: Sequence[NoticeDraft],
        now: datetime,
    ) -> None:
        await db.executemany(
            "INSERT OR IGNORE INTO notices (alert_id, shipment_id, event, audience, channel,"
            " store, title, body, recipient, next_attempt_at, idempotency_key, created_at)"
            " VALUES (?,(SELECT shipment_id FROM alerts WHERE id=?),?,?,?,?,?,?,?,?,?,?)",
            [
                (alert_id, alert_id, d.event, d.audience.value, d.channel, d.store, d.title,
                 d.body, d.recipient, ts(max(now, d.not_before or now)),
                 self._key(d.key or f"{alert_id}-{d.event}-{d.audience.value}-{d.channel}"),
                 ts(now))
                for d in drafts
            ],
        )  # fmt: skip

    # --- alerts about a store: a failing channel ---------------------------------------------

    async def _open_store_alert(
        self, db: aiosqlite.Connection, alarm: StoreAlertOpen, now: datetime
    ) -> int | None:
        f = alarm.finding
        cur = await db.execute(
            "INSERT OR IGNORE INTO alerts (shipment_id, store, subject, rule, episode, state,"
            " severity, summary, action, explanation, audiences, opened_at)"
            " VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)",
            (alarm.store, alarm.subject, f.rule, f.episode, AlertState.OPEN.value,
             f.severity.value, f.summary, f.action, json.dumps(f.explanation),
             _audiences(f.audiences), ts(now)),
        )  # fmt: skip
        if cur.rowcount != 1:
            return None  # one is already open for this subject
        alert_id = int(cur.lastrowid or 0)
        await self._enqueue(db, alert_id, alarm.notices, now)
        return alert_id

    async def open_store_alert(self, alarm: StoreAlertOpen, now: datetime) -> int | None:
        """Open `alarm` with its notices; None when one is already open for its subject."""
        async with self._tx() as db:
            return await self._open_store_alert(db, alarm, now)

    async def open_store_alerts(self, rule: str) -> dict[tuple[str, str], int]:
        """The open alerts of `rule` about stores' subjects: (store, subject) -> alert id."""
        rows = await self._all(
            "SELECT id, store, subject FROM alerts WHERE shipment_id IS NULL AND rule=?"
            " AND state='open'",
            (rule,),
        )
        return {(str(r["store"]), str(r["subject"])): int(r["id"]) for r in rows}

    async def resolve_store_alert(
        self, alert_id: int, reason: str, drafts: Sequence[NoticeDraft], now: datetime
    ) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE alerts SET state=?, resolved_at=?, resolved_by='auto', resolution=?"
                " WHERE id=? AND state=?",
                (AlertState.RESOLVED.value, ts(now), reason, alert_id, AlertState.OPEN.value),
            )
            if cur.rowcount != 1:
                return False
            await self._enqueue(db, alert_id, drafts, now)
        return True

    async def open_alerts_of_store(self, store: str | None) -> list[tuple[Alert, str | None]]:
        """A store's open alerts (every store's for None), oldest first, each with its order
        number (None for an alert about the store itself)."""
        return await self.alerts_of_store(store, AlertState.OPEN)

    async def alerts_of_store(
        self, store: str | None, state: AlertState | None, limit: int = 10_000
    ) -> list[tuple[Alert, str | None]]:
        """Alerts in `state` (any, for None): open ones oldest first, others newest first."""
        order = "a.opened_at, a.id" if state is AlertState.OPEN else "a.opened_at DESC, a.id DESC"
        state_value = None if state is None else state.value
        rows = await self._all(
            "SELECT a.*, s.order_id FROM alerts a LEFT JOIN shipments s ON s.id = a.shipment_id"
            " WHERE (a.store=? OR ? IS NULL) AND (a.state=? OR ? IS NULL)"
            f" ORDER BY {order} LIMIT ?",
            (store, store, state_value, state_value, limit),
        )
        found = []
        for row in rows:
            data = dict(row)
            order_id = data.pop("order_id")
            found.append((_alert_data(data), None if order_id is None else str(order_id)))
        return found

    async def enqueue(self, drafts: Sequence[NoticeDraft], now: datetime) -> None:
        """Notices that belong to no alert (a digest); each draft carries its own key."""
        if any(d.key is None for d in drafts):
            raise ValueError("a notice without an alert needs its own idempotency key")
        async with self._tx() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO notices (alert_id, shipment_id, event, audience, channel,"
                " store, title, body, recipient, next_attempt_at, idempotency_key, created_at)"
                " VALUES (NULL,NULL,?,?,?,?,?,?,?,?,?,?)",
                [(d.event, d.audience.value, d.channel, d.store, d.title, d.body, d.recipient,
                  ts(max(now, d.not_before or now)), self._key(d.key or ""), ts(now))
                 for d in drafts],
            )  # fmt: skip

    async def last_customer_notices(self, shipment_ids: Sequence[int]) -> dict[int, datetime]:
        """When each shipment's latest customer notice went (or is due to go) out."""
        rows = await self._by_shipment(
            "SELECT shipment_id, MAX(next_attempt_at) AS last FROM notices WHERE"
            " audience='customer' AND state NOT IN ('dead', 'cancelled')"
            " AND shipment_id IN ({ids})"
            " GROUP BY shipment_id",
            shipment_ids,
        )
        return {sid: last for sid, found in rows.items() for r in found
                if (last := parse_ts(r["last"])) is not None}  # fmt: skip

    async def claim_notices(self, now: datetime, lease_until: datetime, limit: int) -> list[Notice]:
        """Take due notices (and ones whose sender's lease ran out) for this sender, each with
        its alert's severity and its shipment's destination."""
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE notices SET state='sending', lease_until=?, attempts=attempts+1 "
                "WHERE id IN (SELECT id FROM notices WHERE (state='pending' AND"
                " next_attempt_at<=?) OR (state='sending' AND lease_until<=?)"
                " ORDER BY next_attempt_at, id LIMIT ?) RETURNING id",
                (ts(lease_until), ts(now), ts(now), limit),
            )
            ids = [int(row[0]) for row in await cur.fetchall()]
            cur = await db.execute(
                _NOTICES_READ.format(where=f"n.id IN ({','.join('?' * len(ids))})"), ids
            )
            rows = await cur.fetchall()
        return [_notice(row) for row in rows]

    async def mark_sent(self, notice_ids: Sequence[int], now: datetime) -> None:
        async with self._tx() as db:
            await db.executemany(
                "UPDATE notices SET state='sent', sent_at=?, lease_until=NULL, last_error=NULL "
                "WHERE id=? AND state='sending'",
                [(ts(now), nid) for nid in notice_ids],
            )

    async def mark_deferred(self, notice_id: int, until: datetime) -> None:
        """Put a claimed notice back, due at `until`, as if it had not been claimed: the
        claim's attempt is not counted (it was never tried)."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE notices SET state='pending', next_attempt_at=?, lease_until=NULL,"
                " attempts=MAX(0, attempts-1) WHERE id=? AND state='sending'",
                (ts(until), notice_id),
            )

    async def mark_failed(
        self,
        notice_id: int,
        error: str,
        now: datetime,
        retry_at: datetime,
        alarm: StoreAlertOpen | None = None,
    ) -> None:
        """Retry at `retry_at`, or (given an `alarm`) dead-letter: the alarm opens in the same
        transaction, staff told, unless one is already open for its subject."""
        dead = alarm is not None
        state = NoticeState.DEAD if dead else NoticeState.PENDING
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE notices SET state=?, last_error=?, next_attempt_at=?, lease_until=NULL "
                "WHERE id=? AND state='sending'",
                (state.value, error, ts(retry_at), notice_id),
            )
            if alarm is not None and cur.rowcount == 1:
                await self._open_store_alert(db, alarm, now)

    async def next_notice_at(self) -> datetime | None:
        rows = await self._all(
            "SELECT MIN(CASE WHEN state='pending' THEN next_attempt_at ELSE lease_until END) "
            "FROM notices WHERE state IN ('pending', 'sending')"
        )
        return parse_ts(rows[0][0]) if rows else None

    async def first_notice_sent(self) -> dict[int, datetime]:
        """alert id -> when its first notice went out (alerts with one sent)."""
        rows = await self._all(
            "SELECT alert_id, MIN(sent_at) FROM notices WHERE state='sent'"
            " AND alert_id IS NOT NULL GROUP BY alert_id"
        )
        return {int(row[0]): when for row in rows if (when := parse_ts(row[1])) is not None}

    async def figures(self, now: datetime) -> Figures:
        alerts = await self._all(
            "SELECT rule, COUNT(*) FROM alerts WHERE state='open' GROUP BY rule"
        )
        notices = await self._all("SELECT state, COUNT(*) FROM notices GROUP BY state")
        oldest = await self._all(
            "SELECT MIN(created_at) FROM notices WHERE state IN ('pending', 'sending')"
        )
        polled = await self._all("SELECT COUNT(*) FROM shipments WHERE next_poll_at IS NOT NULL")
        since = parse_ts(oldest[0][0]) if oldest else None
        return Figures(
            open_alerts={str(r[0]): int(r[1]) for r in alerts},
            notices={s.value: 0 for s in NoticeState} | {str(r[0]): int(r[1]) for r in notices},
            oldest_pending_seconds=max(0.0, (now - since).total_seconds()) if since else 0.0,
            polled=int(polled[0][0]),
        )

    async def check_writable(self, now: datetime) -> None:
        """A real write, for /healthz: raises when the database cannot take one."""
        async with self._tx() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES ('healthz', ?) ON CONFLICT"
                             " (key) DO UPDATE SET value=excluded.value", (ts(now),))  # fmt: skip

    async def notices(self, state: NoticeState | None = None) -> list[Notice]:
        if state is None:
            rows = await self._all(_NOTICES_READ.format(where="1"))
        else:
            rows = await self._all(_NOTICES_READ.format(where="n.state=?"), (state.value,))
        return [_notice(row) for row in rows]
