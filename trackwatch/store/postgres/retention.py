"""Retention and erasure, as on SQLite (trackwatch/store/sqlite/retention.py), in short
transactions. PostgreSQL never hands an identity value out twice, so every row may go.
The shipments a batch deletes are locked first, in id order as every writer locks them, and
one another daemon's pass holds is skipped (SKIP LOCKED): daemons sharing the database run
their passes side by side.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from trackwatch.store.postgres.base import Conn, PostgresBase, affected
from trackwatch.store.postgres.shipments import RECEIPTS_KEPT
from trackwatch.store.records import Purged

CALLS_KEPT = timedelta(days=2)  # past every quota window (a daily quota's days too)
_DONE = "('sent', 'dead', 'cancelled')"
# Alerts of the shipments $1: their own, and the store's about them (a row set aside).
_ALERTS = (
    "SELECT id FROM alerts WHERE shipment_id = ANY($1::bigint[]) OR (shipment_id IS NULL"
    " AND subject = ANY(SELECT 'shipment ' || x FROM unnest($1::bigint[]) AS x))"
)
_BLANK = (
    "UPDATE notices SET body='' WHERE id IN (SELECT id FROM notices WHERE body!=''"
    f" AND created_at<$1 AND state IN {_DONE} ORDER BY created_at LIMIT $2"
    " FOR UPDATE SKIP LOCKED)"
)
# $1 before, $2 now, $3 limit: see SQLite's _FINISHED.
_FINISHED = (
    "SELECT id FROM shipments s WHERE stopped IS NOT NULL AND stopped_at<$1"
    " AND set_aside IS NULL AND (NOT active OR NOT dirty) AND (check_at IS NULL OR check_at<=$2)"
    " AND (poll_lease IS NULL OR poll_lease<=$2) AND (judge_lease IS NULL OR judge_lease<=$2)"
    " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.shipment_id=s.id AND a.state='open')"
    " AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.shipment_id=s.id"
    "  AND n.state IN ('pending', 'sending'))"
    " ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED"
)
_STORE_ALERTS = (
    "SELECT id FROM alerts a WHERE shipment_id IS NULL AND state='resolved'"
    " AND resolved_at<$1 AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.alert_id=a.id"
    " AND n.state IN ('pending', 'sending')) LIMIT $2 FOR UPDATE SKIP LOCKED"
)
_DIGESTS = (
    "DELETE FROM notices WHERE id IN (SELECT id FROM notices WHERE alert_id IS NULL"
    f" AND shipment_id IS NULL AND state IN {_DONE} AND created_at<$1 LIMIT $2)"
)
# $1 email, $2 store or NULL, $3 now.
_CUSTOMER = (
    "SELECT id, active AND stopped IS NULL AS watched, GREATEST(poll_lease, judge_lease)>$3"
    " AS held FROM shipments WHERE store=COALESCE($2, store) AND lower(customer_email)=lower($1)"
    " ORDER BY id FOR UPDATE"
)
_STOP = (
    "UPDATE shipments SET active=false, stopped=COALESCE(stopped, 'by forget: erasure"
    " requested'), stopped_by=COALESCE(stopped_by, 'forget'), stopped_at=COALESCE(stopped_at,"
    " $2), next_poll_at=NULL, check_at=NULL, deadline_at=NULL, dirty=false"
    " WHERE id = ANY($1::bigint[])"
)


async def _erase(c: Conn, ids: list[int]) -> Purged:
    """Delete the shipments with their events, alerts and notices."""
    notices = affected(await c.execute("DELETE FROM notices WHERE shipment_id = ANY($1::bigint[])"
                                       f" OR alert_id IN ({_ALERTS})", ids))  # fmt: skip
    events = affected(await c.execute("DELETE FROM events WHERE shipment_id = ANY($1::bigint[])",
                                      ids))  # fmt: skip
    alerts = affected(await c.execute(f"DELETE FROM alerts WHERE id IN ({_ALERTS})", ids))
    shipments = affected(await c.execute("DELETE FROM shipments WHERE id = ANY($1::bigint[])",
                                         ids))  # fmt: skip
    return Purged(shipments=shipments, events=events, alerts=alerts, notices=notices)


class _DryRun(Exception):
    """Raised inside an erasure's transaction to roll it back after counting."""

    def __init__(self, purged: Purged) -> None:
        super().__init__("dry run")
        self.purged = purged


class PostgresRetention(PostgresBase):
    async def blank_notice_bodies(self, before: datetime, limit: int) -> int:
        async with self._tx() as c:
            return affected(await c.execute(_BLANK, before, limit))

    async def purge_finished(self, before: datetime, now: datetime, limit: int) -> Purged:
        async with self._tx() as c:
            ids = [int(r[0]) for r in await c.fetch(_FINISHED, before, now, limit)]
            return await _erase(c, ids) if ids else Purged()

    async def purge_store_alerts(self, before: datetime, limit: int) -> Purged:
        async with self._tx() as c:
            ids = [int(r[0]) for r in await c.fetch(_STORE_ALERTS, before, limit)]
            notices = affected(await c.execute(
                "DELETE FROM notices WHERE alert_id = ANY($1::bigint[])", ids))  # fmt: skip
            alerts = affected(await c.execute("DELETE FROM alerts WHERE id = ANY($1::bigint[])",
                                              ids))  # fmt: skip
            notices += affected(await c.execute(_DIGESTS, before, limit))
        return Purged(alerts=alerts, notices=notices)

    async def purge_bookkeeping(self, now: datetime, limit: int) -> Purged:
        received = now - RECEIPTS_KEPT
        async with self._tx() as c:
            receipts = affected(await c.execute(
                "DELETE FROM webhook_receipts WHERE ctid = ANY(ARRAY(SELECT ctid FROM"
                " webhook_receipts WHERE received_at<$1 LIMIT $2))", received, limit))  # fmt: skip
            receipts += affected(await c.execute(
                "DELETE FROM fulfillments WHERE ctid = ANY(ARRAY(SELECT ctid FROM"
                " fulfillments WHERE received_at<$1 LIMIT $2))", received, limit))  # fmt: skip
            receipts += affected(await c.execute(
                "DELETE FROM push_inbox WHERE id = ANY(ARRAY(SELECT id FROM push_inbox"
                " WHERE state='failed' AND worked_at<$1 LIMIT $2))", received, limit))  # fmt: skip
            calls = affected(await c.execute(
                "DELETE FROM carrier_calls WHERE ctid = ANY(ARRAY(SELECT ctid FROM"
                " carrier_calls WHERE at<$1 LIMIT $2))", now - CALLS_KEPT, limit))  # fmt: skip
            await c.execute("DELETE FROM carrier_days WHERE day<$1", now - CALLS_KEPT)
        return Purged(receipts=receipts, calls=calls)

    async def forget_customer(
        self, email: str, store: str | None, now: datetime, dry_run: bool = False
    ) -> Purged:
        try:
            async with self._tx() as c:
                rows = [(int(r[0]), bool(r[1]), bool(r[2]))
                        for r in await c.fetch(_CUSTOMER, email.strip(), store, now)]  # fmt: skip
                await c.execute(_STOP, [r[0] for r in rows], now)
                erased = await _erase(c, [sid for sid, _, busy in rows if not busy])
                purged = erased + Purged(watched=sum(1 for r in rows if r[1]),
                                         held=sum(1 for r in rows if r[2]))  # fmt: skip
                if dry_run:
                    raise _DryRun(purged)
        except _DryRun as run:
            return run.purged
        return purged
