"""The carrier call ledger: every call written before it leaves, so a restart never overspends
a quota."""

from __future__ import annotations

from datetime import datetime, timedelta

from trackwatch.store.records import (
    parse_ts,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase


class SqliteLedger(SqliteBase):
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
