"""The carrier call ledger: every call taken (counted and written) before it leaves, so no
restart and no second daemon ever overspends a quota."""

from __future__ import annotations

from datetime import datetime, timedelta

from trackwatch.store.records import (
    parse_ts,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase


class SqliteLedger(SqliteBase):
    async def take(self, carrier: str, at: datetime, limit: int, since: datetime) -> bool:
        """Record a call at `at` unless `limit` calls were made since `since`: one
        transaction (BEGIN IMMEDIATE), so two processes on this file cannot both take the
        last call. True when taken."""
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO carrier_calls (carrier, at) SELECT ?, ? WHERE (SELECT COUNT(*)"
                " FROM carrier_calls WHERE carrier=? AND at>=?) < ? RETURNING 1",
                (carrier, ts(at), carrier, ts(since), limit),
            )
            return await cur.fetchone() is not None

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
