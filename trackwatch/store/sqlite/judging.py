"""The judge queue: shipments to judge, their history, and a judgement applied in one
transaction (alerts, notices, the next poll)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from trackwatch.model import (
    Alert,
    AlertState,
    Finding,
    TrackingEvent,
)
from trackwatch.store.records import (
    AlertEscalate,
    Applied,
    Evaluation,
    FollowUp,
    Readout,
    Reschedule,
    StoreAlertOpen,
    Unreadable,
    parse_ts,
    ts,
)
from trackwatch.store.rows import LEASE, events_of_data
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import (
    alert_of_row,
    audiences_text,
    explanation_text,
    readout,
)

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
    ", judge_lease=NULL WHERE id=:id AND set_aside IS NULL AND active=1"
)


# The rows to judge: dirty ones and those at a deadline, each found by its own index (an OR
# of the two could use neither and walked every active row), the first `limit` by id.
_UNCLAIMED = "set_aside IS NULL AND (judge_lease IS NULL OR judge_lease<=:now)"
_TO_CHECK = (
    "UPDATE shipments SET judge_lease=:lease WHERE id IN (SELECT id FROM ("
    "SELECT id FROM shipments INDEXED BY shipments_dirty WHERE dirty=1 AND active=1"
    f" AND {_UNCLAIMED} ORDER BY id LIMIT :limit) UNION SELECT id FROM ("
    "SELECT id FROM shipments INDEXED BY shipments_check_at WHERE active=1 AND check_at<=:now"
    f" AND {_UNCLAIMED}"
    " ORDER BY id LIMIT :limit) ORDER BY id LIMIT :limit) RETURNING *"
)
# The next check: the earliest of the rows nobody holds (the first one in check_at's index),
# and of the few rows held, each when its hold ends if that is later.
NEXT_CHECK = (
    "SELECT MIN(at) FROM (SELECT at FROM (SELECT check_at AS at FROM shipments"
    " INDEXED BY shipments_check_at WHERE active=1 AND check_at IS NOT NULL"
    " AND judge_lease IS NULL ORDER BY check_at LIMIT 1)"
    " UNION ALL SELECT MAX(check_at, judge_lease) FROM shipments"
    " INDEXED BY shipments_judge_leased WHERE judge_lease IS NOT NULL AND active=1)"
)
_CANCEL_STALE = (
    "UPDATE notices SET state='cancelled', lease_until=NULL,"
    " last_error='not sent: its alert ended first'"
    " WHERE alert_id=? AND audience='customer' AND state='pending'"
)
# A customer notice of the alert went out (or is going out): the customer was told.
_CUSTOMER_TOLD = (
    "SELECT 1 FROM notices WHERE alert_id=? AND audience='customer'"
    " AND state IN ('sent', 'sending') LIMIT 1"
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


class SqliteJudging(SqliteBase):
    async def shipments_to_check(
        self, now: datetime, limit: int, lease: timedelta = LEASE
    ) -> Readout:
        """Claim the shipments to judge (changed, or at a deadline) for `lease`: no other
        daemon judges them until this judgement is written (or the lease runs out)."""
        params = {"lease": ts(now + lease), "now": ts(now), "limit": limit}
        found = readout(await self._in_tx(lambda db: db.execute(_TO_CHECK, params).fetchall()))
        found.shipments.sort(key=lambda shipment: shipment.id or 0)
        return found

    async def next_check_at(self) -> datetime | None:
        """The next deadline to judge at; one another daemon holds, when its claim ends."""
        rows = await self._all(NEXT_CHECK)
        return parse_ts(rows[0][0]) if rows else None

    async def judge_all_again(self, policies: str) -> int:
        """Every watched shipment to be judged at the next pass (a reloaded policy may move
        its deadlines), once per change of `policies` (a fingerprint of the stores' settings):
        several daemons reloading the same files judge everything once, not once each.
        Returns how many were marked."""
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO meta (key, value) VALUES ('judged_under', ?) ON CONFLICT (key)"
                " DO UPDATE SET value=excluded.value WHERE meta.value != excluded.value"
                " RETURNING 1",
                (policies,),
            )
            if await cur.fetchone() is None:
                return 0
            cur = await db.execute(
                "UPDATE shipments SET dirty=1, revision=revision+1 WHERE active=1"
            )
            return int(cur.rowcount)

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

    async def events_for(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]:
        rows = await self._by_shipment(
            "SELECT shipment_id, data FROM events WHERE shipment_id IN ({ids}) "
            "ORDER BY occurred_at, id",
            shipment_ids,
        )
        return {sid: events_of_data(r["data"] for r in found) for sid, found in rows.items()}

    async def open_alerts(self, shipment_ids: Sequence[int]) -> dict[int, list[Alert]]:
        rows = await self._by_shipment(
            "SELECT * FROM alerts WHERE state='open' AND shipment_id IN ({ids})", shipment_ids
        )
        return {sid: [alert_of_row(r) for r in found] for sid, found in rows.items()}

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

    async def apply_evaluation(self, evaluation: Evaluation, now: datetime) -> Applied:
        """Open, escalate and resolve alerts with their notices, and reschedule, atomically;
        returns what really changed.

        An alert that already exists for its episode is not opened again, an escalation
        only lands on an alert still open, and an alert that is no longer open is not
        resolved again: none of them enqueues a second notice.
        """
        applied = Applied()
        await self._in_tx(lambda db: self._apply(db, evaluation, now, applied))
        return applied

    def _apply(
        self, db: sqlite3.Connection, evaluation: Evaluation, now: datetime, applied: Applied
    ) -> None:
        """apply_evaluation's transaction, on the connection's thread (`_in_tx`)."""
        for opening in evaluation.opens:
            alert_id = _open_alert(db, opening.shipment_id, opening.finding, now)
            if alert_id is not None:
                self._enqueue_now(db, alert_id, opening.notices, now)
                applied.opened.append(opening)
        for step in evaluation.escalations:
            if self._escalate(db, step, now):
                applied.escalated.append(step)
        for resolving in evaluation.resolves:
            cur = db.execute(
                "UPDATE alerts SET state=?, resolved_at=?, resolved_by=?, resolution=? "
                "WHERE id=? AND state=?",
                (AlertState.RESOLVED.value, ts(now), resolving.resolved_by,
                 resolving.reason, resolving.alert_id, AlertState.OPEN.value),
            )  # fmt: skip
            if cur.rowcount == 1:
                # A customer notice not yet sent is stale news once its alert ended.
                db.execute(_CANCEL_STALE, (resolving.alert_id,))
                self._enqueue_now(db, resolving.alert_id, resolving.notices, now)
                applied.resolved.append(resolving)
        for follow_up in evaluation.follow_ups:
            self._follow_up(db, follow_up, now)
        db.executemany(_RESCHEDULE, [_schedule_row(s, now) for s in evaluation.schedules])

    def _follow_up(self, db: sqlite3.Connection, owed: FollowUp, now: datetime) -> None:
        """Pay a customer's follow-up, keep it owed, or drop it: a customer whose notice of
        the alert never went out is owed nothing."""
        told = db.execute(_CUSTOMER_TOLD, (owed.alert_id,)).fetchone() is not None
        if told and not owed.discharged and not owed.drafts:
            db.execute(
                "UPDATE shipments SET follow_up_alert=?, follow_up_after=? WHERE id=?",
                (owed.alert_id, ts(owed.after), owed.shipment_id),
            )
            return
        if told and owed.drafts:
            self._enqueue_now(db, owed.alert_id, owed.drafts, now)
        db.execute(
            "UPDATE shipments SET follow_up_alert=NULL, follow_up_after=NULL WHERE id=?"
            " AND follow_up_alert=?",
            (owed.shipment_id, owed.alert_id),
        )

    def _escalate(self, db: sqlite3.Connection, step: AlertEscalate, now: datetime) -> bool:
        f = step.finding
        cur = db.execute(
            "UPDATE alerts SET severity=?, summary=?, action=?, explanation=?, audiences=?,"
            " escalated_at=CASE WHEN ? THEN COALESCE(escalated_at, ?) ELSE escalated_at END"
            " WHERE id=? AND state=?",
            (f.severity.value, f.summary, f.action, explanation_text(f.explanation),
             audiences_text(step.audiences), step.escalated, ts(now), step.alert_id,
             AlertState.OPEN.value),
        )  # fmt: skip
        if cur.rowcount != 1:
            return False
        self._enqueue_now(db, step.alert_id, step.notices, now)
        return True


def _open_alert(db: sqlite3.Connection, shipment_id: int, f: Finding, now: datetime) -> int | None:
    """The new alert's id; None when one exists for this episode already, or the
    shipment is no longer watched."""
    # Nothing opens on a shipment no longer watched (stopped since it was judged).
    row = db.execute(
        "INSERT INTO alerts (shipment_id, store, rule, episode, state, severity, summary,"
        " action, explanation, audiences, opened_at, escalated_at)"
        " SELECT id, store, ?,?,?,?,?,?,?,?,?,? FROM shipments WHERE id=? AND active=1"
        " ON CONFLICT (shipment_id, rule, episode) DO NOTHING RETURNING id",
        (f.rule, f.episode, AlertState.OPEN.value, f.severity.value, f.summary, f.action,
         explanation_text(f.explanation), audiences_text(f.audiences), ts(now),
         ts(now) if f.escalated else None, shipment_id),
    ).fetchall()  # fmt: skip
    return int(row[0][0]) if row else None
