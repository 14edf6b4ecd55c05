"""The judge queue: shipments to judge, their history, and a judgement applied in one
transaction (alerts, notices, the next poll)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from trackwatch.model import Alert, AlertState, Finding, TrackingEvent
from trackwatch.store.postgres.base import Conn, PostgresBase, affected
from trackwatch.store.postgres.rows import alert_of_row, as_columns, readout
from trackwatch.store.records import (
    AlertEscalate,
    AlertResolve,
    Applied,
    Evaluation,
    FollowUp,
    Readout,
    Reschedule,
    StoreAlertOpen,
    Unreadable,
)
from trackwatch.store.rows import LEASE, audiences_text, events_of_data, explanation_text

# As SQLite's (see its judging module for why each case), for a batch at once: u.rev the
# revision the judgement saw, u.stop why polling stops (or NULL), u.poll_by the next poll,
# $7 now. SET reads the row as it was before this statement, as SQLite's does.
_RESCHEDULE = (
    "UPDATE shipments s SET dirty=CASE WHEN s.revision=u.rev THEN false ELSE s.dirty END,"
    " check_at=u.check_at, deadline_at=u.deadline_at,"
    " next_poll_at=CASE WHEN s.stopped IS NOT NULL THEN NULL"
    "  WHEN s.revision=u.rev AND u.stop IS NOT NULL THEN NULL"
    "  WHEN s.revision<>u.rev THEN s.next_poll_at"
    "  WHEN s.misses>0 AND s.next_poll_at>u.poll_by THEN s.next_poll_at"
    "  ELSE u.poll_by END,"
    " stopped_at=CASE WHEN s.stopped IS NULL AND s.revision=u.rev AND u.stop IS NOT NULL"
    "  THEN $7::timestamptz ELSE s.stopped_at END,"
    " stopped=CASE WHEN s.stopped IS NULL AND s.revision=u.rev THEN u.stop ELSE s.stopped END,"
    " judge_lease=NULL FROM unnest($1::bigint[], $2::int[], $3::timestamptz[],"
    " $4::timestamptz[], $5::text[], $6::timestamptz[])"
    " AS u(id, rev, check_at, deadline_at, stop, poll_by)"
    " WHERE s.id=u.id AND s.set_aside IS NULL AND s.active"
)
# The rows to judge: dirty ones and those at a deadline, each found by its own index (an OR
# of the two could use neither and walked every active row), the first `limit` by id. Each
# kind is locked as it is found, skipping rows another daemon is claiming (a UNION cannot
# be locked); rows locked and not taken are free again when this statement ends.
_UNCLAIMED = "set_aside IS NULL AND (judge_lease IS NULL OR judge_lease<=$2)"
_TO_CHECK = (
    "WITH dirty AS MATERIALIZED (SELECT id FROM shipments WHERE dirty AND active"
    f" AND {_UNCLAIMED} ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),"
    " due AS MATERIALIZED (SELECT id FROM shipments WHERE active AND check_at<=$2"
    f" AND {_UNCLAIMED} ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),"
    " picked AS (SELECT id FROM dirty UNION SELECT id FROM due ORDER BY id LIMIT $3)"
    " UPDATE shipments s SET judge_lease=$1 FROM picked WHERE s.id=picked.id RETURNING s.*"
)
# The next check: the earliest of the rows nobody holds (the first one in check_at's index),
# and of the few rows held, each when its hold ends if that is later.
NEXT_CHECK = (
    "SELECT MIN(at) FROM ((SELECT check_at AS at FROM shipments WHERE active"
    " AND check_at IS NOT NULL AND judge_lease IS NULL ORDER BY check_at LIMIT 1)"
    " UNION ALL (SELECT CASE WHEN judge_lease>check_at THEN judge_lease ELSE check_at END"
    " FROM shipments WHERE judge_lease IS NOT NULL AND active)) AS due"
)
_CANCEL_STALE = (
    "UPDATE notices SET state='cancelled', lease_until=NULL,"
    " last_error='not sent: its alert ended first'"
    " WHERE alert_id=$1 AND audience='customer' AND state='pending'"
)
# A customer notice of the alert went out (or is going out): the customer was told.
_CUSTOMER_TOLD = (
    "SELECT 1 FROM notices WHERE alert_id=$1 AND audience='customer'"
    " AND state IN ('sent', 'sending') LIMIT 1"
)


def _schedule_rows(schedules: Sequence[Reschedule]) -> list[tuple[Any, ...]]:
    """One row per shipment (its last plan, were there two), in id order."""
    last = {s.shipment_id: s for s in schedules}
    return [(s.shipment_id, s.revision, s.check_at, s.deadline_at, s.stop, s.poll_by)
            for _, s in sorted(last.items())]  # fmt: skip


class PostgresJudging(PostgresBase):
    async def shipments_to_check(
        self, now: datetime, limit: int, lease: timedelta = LEASE
    ) -> Readout:
        """Claim the shipments to judge (changed, or at a deadline) for `lease`: rows another
        daemon is claiming are skipped, and none is judged elsewhere until this judgement is
        written (or the lease runs out)."""
        rows = await self._pool.fetch(_TO_CHECK, now + lease, now, limit)
        found = readout(rows)
        found.shipments.sort(key=lambda shipment: shipment.id or 0)
        return found

    async def next_check_at(self) -> datetime | None:
        """The next deadline to judge at; one another daemon holds, when its claim ends."""
        found: datetime | None = await self._pool.fetchval(NEXT_CHECK)
        return found

    async def judge_all_again(self, policies: str) -> int:
        """Every watched shipment to be judged at the next pass (a reloaded policy may move
        its deadlines), once per change of `policies` (a fingerprint of the stores' settings):
        several daemons reloading the same files judge everything once, not once each.
        Returns how many were marked."""
        async with self._tx() as c:
            changed = await c.fetchval(
                "INSERT INTO meta (key, value) VALUES ('judged_under', $1) ON CONFLICT (key)"
                " DO UPDATE SET value=excluded.value WHERE meta.value <> excluded.value"
                " RETURNING 1",
                policies,
            )
            if changed is None:
                return 0
            status = await c.execute(
                "UPDATE shipments SET dirty=true, revision=revision+1 WHERE id IN"
                " (SELECT id FROM shipments WHERE active ORDER BY id FOR NO KEY UPDATE)"
            )  # locked in id order (see polls)
        return affected(status)

    async def set_aside(
        self, rows: Sequence[tuple[Unreadable, StoreAlertOpen]], now: datetime
    ) -> list[Unreadable]:
        """Stop polling and judging these rows (until `restart`), keeping why, and open each
        one's staff alert in the same transaction (a crash between the two would leave a row
        nobody hears of again); returns the rows not set aside before."""
        done: list[Unreadable] = []
        async with self._tx() as c:
            for row, alarm in sorted(rows, key=lambda r: r[0].shipment_id):  # see polls
                since = await c.fetchrow(
                    "UPDATE shipments SET set_aside=COALESCE(set_aside, $1),"
                    " set_aside_at=COALESCE(set_aside_at, $2), next_poll_at=NULL,"
                    " check_at=NULL, dirty=false WHERE id=$3 RETURNING set_aside_at",
                    row.reason, now, row.shipment_id,
                )  # fmt: skip
                if since is not None and since[0] == now:
                    await self._open_store_alert(c, alarm, now)
                    done.append(row)
        return done

    async def events_for(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]:
        rows = await self._by_shipment(
            "SELECT shipment_id, data FROM events WHERE shipment_id = ANY($1::bigint[])"
            " ORDER BY occurred_at, id",
            shipment_ids,
        )
        return {sid: events_of_data(r["data"] for r in found) for sid, found in rows.items()}

    async def open_alerts(self, shipment_ids: Sequence[int]) -> dict[int, list[Alert]]:
        rows = await self._by_shipment(
            "SELECT * FROM alerts WHERE state='open' AND shipment_id = ANY($1::bigint[])"
            " ORDER BY id",
            shipment_ids,
        )
        return {sid: [alert_of_row(r) for r in found] for sid, found in rows.items()}

    async def last_customer_notices(self, shipment_ids: Sequence[int]) -> dict[int, datetime]:
        """When each shipment's latest customer notice went (or is due to go) out."""
        rows = await self._by_shipment(
            "SELECT shipment_id, MAX(next_attempt_at) AS last FROM notices WHERE"
            " audience='customer' AND state NOT IN ('dead', 'cancelled')"
            " AND shipment_id = ANY($1::bigint[]) GROUP BY shipment_id",
            shipment_ids,
        )
        return {sid: r["last"] for sid, found in rows.items() for r in found
                if r["last"] is not None}  # fmt: skip

    async def apply_evaluation(self, evaluation: Evaluation, now: datetime) -> Applied:
        """Open, escalate and resolve alerts with their notices, and reschedule, atomically;
        returns what really changed (as on SQLite: see its judging module)."""
        applied = Applied()
        async with self._tx() as c:
            await self._lock_shipments(c, evaluation)
            for opening in evaluation.opens:
                alert_id = await self._open_alert(c, opening.shipment_id, opening.finding, now)
                if alert_id is not None:
                    await self._enqueue(c, alert_id, opening.notices, now)
                    applied.opened.append(opening)
            for step in evaluation.escalations:
                if await self._escalate(c, step, now):
                    applied.escalated.append(step)
            for resolving in evaluation.resolves:
                if await self._resolve(c, resolving, now):
                    applied.resolved.append(resolving)
            for follow_up in evaluation.follow_ups:
                await self._follow_up(c, follow_up, now)
            if rows := _schedule_rows(evaluation.schedules):
                await c.execute(_RESCHEDULE, *as_columns(rows, 6), now)
        return applied

    @staticmethod
    async def _lock_shipments(c: Conn, evaluation: Evaluation) -> None:
        """Lock the judged shipments first, in id order, as every write of a shipment and
        its alerts does (a stop: shipment, then alerts). Locking an alert first (resolving
        it), then its shipment (rescheduling), deadlocked with a stop at the same moment."""
        ids = {s.shipment_id for s in evaluation.schedules}
        ids |= {o.shipment_id for o in evaluation.opens}
        ids |= {f.shipment_id for f in evaluation.follow_ups}
        alert_ids = [a.alert_id for a in evaluation.escalations]
        alert_ids += [a.alert_id for a in evaluation.resolves]
        await c.execute(
            "SELECT 1 FROM shipments WHERE id = ANY($1::bigint[]) OR id IN (SELECT shipment_id"
            " FROM alerts WHERE id = ANY($2::bigint[])) ORDER BY id FOR NO KEY UPDATE",
            sorted(ids), alert_ids,
        )  # fmt: skip

    @staticmethod
    async def _open_alert(c: Conn, shipment_id: int, f: Finding, now: datetime) -> int | None:
        """The new alert's id; None when one exists for this episode already, or the
        shipment is no longer watched (stopped since it was judged)."""
        found = await c.fetchval(
            "INSERT INTO alerts (shipment_id, store, rule, episode, state, severity, summary,"
            " action, explanation, audiences, opened_at, escalated_at)"
            " SELECT id, store, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM shipments"
            " WHERE id=$11 AND active"
            " ON CONFLICT (shipment_id, rule, episode) DO NOTHING RETURNING id",
            f.rule, f.episode, AlertState.OPEN.value, f.severity.value, f.summary, f.action,
            explanation_text(f.explanation), audiences_text(f.audiences), now,
            now if f.escalated else None, shipment_id,
        )  # fmt: skip
        return None if found is None else int(found)

    async def _escalate(self, c: Conn, step: AlertEscalate, now: datetime) -> bool:
        f = step.finding
        status = await c.execute(
            "UPDATE alerts SET severity=$1, summary=$2, action=$3, explanation=$4, audiences=$5,"
            " escalated_at=CASE WHEN $6 THEN COALESCE(escalated_at, $7) ELSE escalated_at END"
            " WHERE id=$8 AND state=$9",
            f.severity.value, f.summary, f.action, explanation_text(f.explanation),
            audiences_text(step.audiences), step.escalated, now, step.alert_id,
            AlertState.OPEN.value,
        )  # fmt: skip
        if affected(status) != 1:
            return False
        await self._enqueue(c, step.alert_id, step.notices, now)
        return True

    async def _resolve(self, c: Conn, resolving: AlertResolve, now: datetime) -> bool:
        status = await c.execute(
            "UPDATE alerts SET state=$1, resolved_at=$2, resolved_by=$3, resolution=$4"
            " WHERE id=$5 AND state=$6",
            AlertState.RESOLVED.value, now, resolving.resolved_by, resolving.reason,
            resolving.alert_id, AlertState.OPEN.value,
        )  # fmt: skip
        if affected(status) != 1:
            return False
        # A customer notice not yet sent is stale news once its alert ended.
        await c.execute(_CANCEL_STALE, resolving.alert_id)
        await self._enqueue(c, resolving.alert_id, resolving.notices, now)
        return True

    async def _follow_up(self, c: Conn, owed: FollowUp, now: datetime) -> None:
        """Pay a customer's follow-up, keep it owed, or drop it: a customer whose notice of
        the alert never went out is owed nothing."""
        told = await c.fetchval(_CUSTOMER_TOLD, owed.alert_id) is not None
        if told and not owed.discharged and not owed.drafts:
            await c.execute(
                "UPDATE shipments SET follow_up_alert=$1, follow_up_after=$2 WHERE id=$3",
                owed.alert_id, owed.after, owed.shipment_id,
            )  # fmt: skip
            return
        if told and owed.drafts:
            await self._enqueue(c, owed.alert_id, owed.drafts, now)
        await c.execute(
            "UPDATE shipments SET follow_up_alert=NULL, follow_up_after=NULL WHERE id=$1"
            " AND follow_up_alert=$2",
            owed.shipment_id, owed.alert_id,
        )  # fmt: skip
