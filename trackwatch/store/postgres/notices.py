"""The notice outbox: claimed with a lease, marked sent, failed, deferred or dead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trackwatch.model import Notice, NoticeState
from trackwatch.store.postgres.base import PostgresBase, affected
from trackwatch.store.postgres.rows import NOTICES_READ, notice_of_row
from trackwatch.store.records import NoticeDraft, StoreAlertOpen

# SKIP LOCKED: a notice another sender is claiming right now is not claimed twice (the
# subquery's rows are not re-checked once the first claim commits).
_CLAIM = (
    "WITH picked AS MATERIALIZED (SELECT id FROM notices WHERE (state='pending' AND"
    " next_attempt_at<=$2) OR (state='sending' AND lease_until<=$2)"
    " ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
    " UPDATE notices n SET state='sending', lease_until=$1, attempts=n.attempts+1"
    " FROM picked WHERE n.id=picked.id RETURNING n.id"
)

NEXT_NOTICE = (
    "SELECT MIN(CASE WHEN state='pending' THEN next_attempt_at ELSE lease_until END)"
    " FROM notices WHERE state IN ('pending', 'sending')"
)


class PostgresNotices(PostgresBase):
    async def enqueue(self, drafts: Sequence[NoticeDraft], now: datetime) -> None:
        """Notices that belong to no alert (a digest); each draft carries its own key."""
        if any(not d.key for d in drafts):
            raise ValueError("a notice without an alert needs its own idempotency key")
        async with self._tx() as c:
            await self._enqueue(c, None, drafts, now)

    async def claim_notices(self, now: datetime, lease_until: datetime, limit: int) -> list[Notice]:
        """Take due notices (and ones whose sender's lease ran out) for this sender, each with
        its alert's severity and its shipment's destination."""
        async with self._tx() as c:
            ids = [int(row[0]) for row in await c.fetch(_CLAIM, lease_until, now, limit)]
            rows = await c.fetch(NOTICES_READ.format(where="n.id = ANY($1::bigint[])"), ids)
        return [notice_of_row(row) for row in rows]

    async def mark_sent(self, notice_ids: Sequence[int], now: datetime) -> None:
        await self._pool.execute(
            "UPDATE notices SET state='sent', sent_at=$1, lease_until=NULL, last_error=NULL"
            " WHERE id = ANY($2::bigint[]) AND state='sending'",
            now, list(notice_ids),
        )  # fmt: skip

    async def mark_deferred(self, notice_id: int, until: datetime) -> None:
        """Put a claimed notice back, due at `until`, as if it had not been claimed: the
        claim's attempt is not counted (it was never tried)."""
        await self._pool.execute(
            "UPDATE notices SET state='pending', next_attempt_at=$1, lease_until=NULL,"
            " attempts=GREATEST(0, attempts-1) WHERE id=$2 AND state='sending'",
            until, notice_id,
        )  # fmt: skip

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
        state = NoticeState.PENDING if alarm is None else NoticeState.DEAD
        async with self._tx() as c:
            status = await c.execute(
                "UPDATE notices SET state=$1, last_error=$2, next_attempt_at=$3,"
                " lease_until=NULL WHERE id=$4 AND state='sending'",
                state.value, error, retry_at, notice_id,
            )  # fmt: skip
            if alarm is not None and affected(status) == 1:
                await self._open_store_alert(c, alarm, now)

    async def next_notice_at(self) -> datetime | None:
        found: datetime | None = await self._pool.fetchval(NEXT_NOTICE)
        return found

    async def first_notice_sent(self) -> dict[int, datetime]:
        """alert id -> when its first notice went out (alerts with one sent)."""
        rows = await self._all(
            "SELECT alert_id, MIN(sent_at) FROM notices WHERE state='sent'"
            " AND alert_id IS NOT NULL GROUP BY alert_id"
        )
        return {int(row[0]): row[1] for row in rows if row[1] is not None}

    async def notices(self, state: NoticeState | None = None) -> list[Notice]:
        if state is None:
            rows = await self._all(NOTICES_READ.format(where="true"))
        else:
            rows = await self._all(NOTICES_READ.format(where="n.state=$1"), state.value)
        return [notice_of_row(row) for row in rows]
