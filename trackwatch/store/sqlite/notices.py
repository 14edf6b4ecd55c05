"""The notice outbox: claimed with a lease, marked sent, failed, deferred or dead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trackwatch.model import (
    Notice,
    NoticeState,
)
from trackwatch.store.records import (
    NoticeDraft,
    StoreAlertOpen,
    parse_ts,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import (
    NOTICES_READ,
    notice_of_row,
)

NEXT_NOTICE = (
    "SELECT MIN(CASE WHEN state='pending' THEN next_attempt_at ELSE lease_until END) "
    "FROM notices WHERE state IN ('pending', 'sending')"
)


class SqliteNotices(SqliteBase):
    async def enqueue(self, drafts: Sequence[NoticeDraft], now: datetime) -> None:
        """Notices that belong to no alert (a digest); each draft carries its own key."""
        if any(d.key is None for d in drafts):
            raise ValueError("a notice without an alert needs its own idempotency key")
        async with self._tx() as db:
            await self._enqueue(db, None, drafts, now)

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
                NOTICES_READ.format(where=f"n.id IN ({','.join('?' * len(ids))})"), ids
            )
            rows = await cur.fetchall()
        return [notice_of_row(row) for row in rows]

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
        rows = await self._all(NEXT_NOTICE)
        return parse_ts(rows[0][0]) if rows else None

    async def first_notice_sent(self) -> dict[int, datetime]:
        """alert id -> when its first notice went out (alerts with one sent)."""
        rows = await self._all(
            "SELECT alert_id, MIN(sent_at) FROM notices WHERE state='sent'"
            " AND alert_id IS NOT NULL GROUP BY alert_id"
        )
        return {int(row[0]): when for row in rows if (when := parse_ts(row[1])) is not None}

    async def notices(self, state: NoticeState | None = None) -> list[Notice]:
        if state is None:
            rows = await self._all(NOTICES_READ.format(where="1"))
        else:
            rows = await self._all(NOTICES_READ.format(where="n.state=?"), (state.value,))
        return [notice_of_row(row) for row in rows]
