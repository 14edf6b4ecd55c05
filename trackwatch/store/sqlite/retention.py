"""Retention and erasure: what is past its use deleted (or its notice bodies blanked), and
one customer's data erased on request, in short transactions.

SQLite gives a new row the greatest id + 1, so deleting the newest shipment or alert would
hand its id out again: a customer's old report link would open someone else's parcel, and a
new alert's notices would repeat an old idempotency key. The retention pass skips those
rows; an erasure empties them of personal data instead (`kept_empty`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import aiosqlite

from trackwatch.store.records import Purged, ts
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.shipments import RECEIPTS_KEPT

CALLS_KEPT = timedelta(days=2)  # past every quota window (a daily quota's days too)
_DONE = "('sent', 'dead', 'cancelled')"
_IDS = "(SELECT value FROM json_each(:ids))"
# Alerts of the shipments: their own, and the store's about them (a row set aside).
_ALERTS = (
    f"SELECT id FROM alerts WHERE shipment_id IN {_IDS} OR (shipment_id IS NULL"
    f" AND subject IN (SELECT 'shipment ' || value FROM json_each(:ids)))"
)
_BLANK = (
    "UPDATE notices SET body='' WHERE id IN (SELECT id FROM notices WHERE body!=''"
    f" AND created_at<? AND state IN {_DONE} ORDER BY created_at LIMIT ?)"
)
# Past retention and held by nothing: polling ended before :before, no judgement due or
# claimed, no poll claimed, no open alert, no notice still to go; not the newest row.
_FINISHED = (
    "SELECT id FROM shipments s WHERE stopped IS NOT NULL AND stopped_at<:before"
    " AND set_aside IS NULL AND (active=0 OR dirty=0) AND (check_at IS NULL OR check_at<=:now)"
    " AND (poll_lease IS NULL OR poll_lease<=:now) AND (judge_lease IS NULL OR judge_lease<=:now)"
    " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.shipment_id=s.id AND a.state='open')"
    " AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.shipment_id=s.id"
    "  AND n.state IN ('pending', 'sending'))"
    " AND s.id<(SELECT MAX(id) FROM shipments)"
    " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id=(SELECT MAX(id) FROM alerts)"
    "  AND (a.shipment_id=s.id OR a.subject='shipment ' || s.id))"
    " ORDER BY stopped_at LIMIT :limit"
)
_STORE_ALERTS = (
    "SELECT id FROM alerts a WHERE shipment_id IS NULL AND state='resolved'"
    " AND resolved_at<? AND id<(SELECT MAX(id) FROM alerts) AND NOT EXISTS (SELECT 1"
    " FROM notices n WHERE n.alert_id=a.id AND n.state IN ('pending', 'sending')) LIMIT ?"
)
_DIGESTS = (
    "DELETE FROM notices WHERE id IN (SELECT id FROM notices WHERE alert_id IS NULL"
    f" AND shipment_id IS NULL AND state IN {_DONE} AND created_at<? LIMIT ?)"
)
_CUSTOMER = (
    "SELECT id, active=1 AND stopped IS NULL AS watched, MAX(COALESCE(poll_lease, ''),"
    " COALESCE(judge_lease, ''))>:now AS held FROM shipments WHERE store=COALESCE(:store, store)"
    " AND lower(customer_email)=lower(:email) ORDER BY id"
)
_STOP = (
    "UPDATE shipments SET active=0, stopped=COALESCE(stopped, 'by forget: erasure requested'),"
    " stopped_by=COALESCE(stopped_by, 'forget'), stopped_at=COALESCE(stopped_at, :now),"
    f" next_poll_at=NULL, check_at=NULL, deadline_at=NULL, dirty=0 WHERE id IN {_IDS}"
)
# A row kept for its id alone: nothing of the customer, the order or the parcel left.
_EMPTY = (
    "UPDATE shipments SET customer_email='', customer_name='', customer_phone='',"
    " order_id='', tracking_number='erased-' || id, destination_postal_code='',"
    " destination_city='', carrier_note=NULL, source=NULL, missing_reported_by=NULL,"
    " follow_up_alert=NULL, follow_up_after=NULL, poll_lease=NULL, judge_lease=NULL"
    f" WHERE id IN {_IDS}"
)
_EMPTY_ALERT = (
    "UPDATE alerts SET summary='', action='', explanation='{}', state='resolved',"
    " resolved_at=COALESCE(resolved_at, :now), resolved_by=COALESCE(resolved_by, 'forget')"
    f" WHERE id=(SELECT MAX(id) FROM alerts) AND id IN ({_ALERTS})"
)


async def _count(db: aiosqlite.Connection, sql: str, params: object) -> int:
    cur = await db.execute(sql, params)
    return max(0, cur.rowcount)


async def _ids(db: aiosqlite.Connection, sql: str, params: object) -> list[int]:
    cur = await db.execute(sql, params)
    return [int(row[0]) for row in await cur.fetchall()]


async def _erase(db: aiosqlite.Connection, ids: list[int], now: datetime) -> Purged:
    """Delete the shipments with their events, alerts and notices; the newest shipment or
    alert among them is emptied and kept (see the module's docstring)."""
    p = {"ids": json.dumps(ids), "now": ts(now)}
    newest = await _ids(db, "SELECT MAX(id) FROM shipments UNION ALL SELECT shipment_id FROM"
                        " alerts WHERE id=(SELECT MAX(id) FROM alerts)", ())  # fmt: skip
    kept = sorted(set(ids) & set(newest))
    gone = [sid for sid in ids if sid not in kept]
    notices = await _count(db, f"DELETE FROM notices WHERE shipment_id IN {_IDS}"
                           f" OR alert_id IN ({_ALERTS})", p)  # fmt: skip
    events = await _count(db, f"DELETE FROM events WHERE shipment_id IN {_IDS}", p)
    if kept:
        await db.execute(_EMPTY_ALERT, {"ids": json.dumps(kept), "now": ts(now)})
    alerts = await _count(db, f"DELETE FROM alerts WHERE id IN ({_ALERTS})"
                          " AND id<(SELECT MAX(id) FROM alerts)", p)  # fmt: skip
    await db.execute(_EMPTY, {"ids": json.dumps(kept)})
    shipments = await _count(db, f"DELETE FROM shipments WHERE id IN {_IDS}",
                             {"ids": json.dumps(gone)})  # fmt: skip
    return Purged(shipments=shipments, events=events, alerts=alerts, notices=notices,
                  kept_empty=len(kept))  # fmt: skip


class _DryRun(Exception):
    """Raised inside an erasure's transaction to roll it back after counting."""

    def __init__(self, purged: Purged) -> None:
        super().__init__("dry run")
        self.purged = purged


class SqliteRetention(SqliteBase):
    async def blank_notice_bodies(self, before: datetime, limit: int) -> int:
        async with self._tx() as db:
            return await _count(db, _BLANK, (ts(before), limit))

    async def purge_finished(self, before: datetime, now: datetime, limit: int) -> Purged:
        async with self._tx() as db:
            ids = await _ids(db, _FINISHED, {"before": ts(before), "now": ts(now), "limit": limit})
            return await _erase(db, ids, now) if ids else Purged()

    async def purge_store_alerts(self, before: datetime, limit: int) -> Purged:
        async with self._tx() as db:
            ids = json.dumps(await _ids(db, _STORE_ALERTS, (ts(before), limit)))
            notices = await _count(db, f"DELETE FROM notices WHERE alert_id IN {_IDS}",
                                   {"ids": ids})  # fmt: skip
            alerts = await _count(db, f"DELETE FROM alerts WHERE id IN {_IDS}", {"ids": ids})
            notices += await _count(db, _DIGESTS, (ts(before), limit))
        return Purged(alerts=alerts, notices=notices)

    async def purge_bookkeeping(self, now: datetime, limit: int) -> Purged:
        received = ts(now - RECEIPTS_KEPT)
        async with self._tx() as db:
            receipts = await _count(db, "DELETE FROM webhook_receipts WHERE rowid IN (SELECT"
                                    " rowid FROM webhook_receipts WHERE received_at<? LIMIT ?)",
                                    (received, limit))  # fmt: skip
            receipts += await _count(db, "DELETE FROM fulfillments WHERE rowid IN (SELECT"
                                     " rowid FROM fulfillments WHERE received_at<? LIMIT ?)",
                                     (received, limit))  # fmt: skip
            receipts += await _count(db, "DELETE FROM push_inbox WHERE id IN (SELECT id FROM"
                                     " push_inbox WHERE state='failed' AND worked_at<? LIMIT ?)",
                                     (received, limit))  # fmt: skip
            calls = await _count(db, "DELETE FROM carrier_calls WHERE rowid IN (SELECT rowid"
                                 " FROM carrier_calls WHERE at<? LIMIT ?)",
                                 (ts(now - CALLS_KEPT), limit))  # fmt: skip
            await db.execute("DELETE FROM carrier_days WHERE day<?", (ts(now - CALLS_KEPT),))
        return Purged(receipts=receipts, calls=calls)

    async def forget_customer(
        self, email: str, store: str | None, now: datetime, dry_run: bool = False
    ) -> Purged:
        try:
            async with self._tx() as db:
                cur = await db.execute(_CUSTOMER, {"email": email.strip(), "store": store,
                                                   "now": ts(now)})  # fmt: skip
                rows = [(int(r[0]), bool(r[1]), bool(r[2])) for r in await cur.fetchall()]
                held = [sid for sid, _, busy in rows if busy]
                await db.execute(_STOP, {"ids": json.dumps([r[0] for r in rows]), "now": ts(now)})
                erased = await _erase(db, [sid for sid, _, busy in rows if not busy], now)
                purged = erased + Purged(watched=sum(1 for r in rows if r[1]), held=len(held))
                if dry_run:
                    raise _DryRun(purged)
        except _DryRun as run:
            return run.purged
        return purged
