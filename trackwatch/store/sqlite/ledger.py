"""The carrier call ledger: every call taken (counted and written) before it leaves, so no
restart and no second daemon ever overspends a quota."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from trackwatch.store.records import (
    parse_ts,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase

# A call counted against a fixed day, unless the day's count reached the limit (?3).
_COUNT_DAY = (
    "INSERT INTO carrier_days (carrier, day, calls) VALUES (?1, ?2, 1) ON CONFLICT"
    " (carrier, day) DO UPDATE SET calls=calls+1 WHERE calls < ?3 RETURNING calls"
)
# A call in a sliding window, unless the window's calls reached the limit (?3): the window
# of an hourly quota holds few calls, so they are counted (up to the limit, no further).
_COUNT_WINDOW = (
    "SELECT 1 WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM carrier_calls WHERE carrier=?1"
    " AND at>=?2 LIMIT ?3)) < ?3"
)

_ADD_DAY = (
    "INSERT INTO carrier_days (carrier, day, calls) VALUES (?1, ?2, ?3) ON CONFLICT"
    " (carrier, day) DO UPDATE SET calls=calls+?3"
)


class SqliteLedger(SqliteBase):
    async def take(
        self, carrier: str, at: datetime, limit: int, since: datetime, daily: bool = False
    ) -> bool:
        """Record a call at `at` unless `limit` calls were made since `since`: one
        transaction (BEGIN IMMEDIATE), so two processes on this file cannot both take the
        last call. True when taken."""
        count = _COUNT_DAY if daily else _COUNT_WINDOW

        def take(db: sqlite3.Connection) -> bool:
            if not db.execute(count, (carrier, ts(since), limit)).fetchall():
                return False
            db.execute("INSERT INTO carrier_calls (carrier, at) VALUES (?, ?)", (carrier, ts(at)))
            return True

        return await self._in_tx(take)

    async def take_day(
        self, carrier: str, at: datetime, calls: int, limit: int, day: datetime
    ) -> int:
        """Up to `calls` calls of the day starting at `day` recorded at `at`, never past
        `limit`: one transaction (BEGIN IMMEDIATE: no other process counts meanwhile)."""

        def take(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT calls FROM carrier_days WHERE carrier=? AND day=?",
                             (carrier, ts(day))).fetchone()  # fmt: skip
            taken = max(0, min(calls, limit - (int(row[0]) if row else 0)))
            if taken:
                db.execute(_ADD_DAY, (carrier, ts(day), taken))
                db.executemany("INSERT INTO carrier_calls (carrier, at) VALUES (?, ?)",
                               [(carrier, ts(at))] * taken)  # fmt: skip
            return taken

        return await self._in_tx(take)

    async def give_back(self, carrier: str, at: datetime, calls: int, day: datetime) -> None:
        def give(db: sqlite3.Connection) -> None:
            db.execute("UPDATE carrier_days SET calls=MAX(0, calls-?) WHERE carrier=? AND day=?",
                       (calls, carrier, ts(day)))  # fmt: skip
            db.execute("DELETE FROM carrier_calls WHERE rowid IN (SELECT rowid FROM"
                       " carrier_calls WHERE carrier=? AND at=? LIMIT ?)",
                       (carrier, ts(at), calls))  # fmt: skip

        if calls > 0:
            await self._in_tx(give)

    async def calls_on(self, carrier: str, day: datetime) -> int:
        """The calls taken on the day starting at `day` (the retention pass drops old days)."""
        rows = await self._all("SELECT calls FROM carrier_days WHERE carrier=? AND day=?",
                               (carrier, ts(day)))  # fmt: skip
        return int(rows[0][0]) if rows else 0

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        """The calls made since `since` (the retention pass drops rows past every window:
        a poll pass reads here, and must not write)."""
        rows = await self._all(
            "SELECT at FROM carrier_calls WHERE carrier=? AND at>=? ORDER BY at",
            (carrier, ts(since)),
        )
        return [t for t in (parse_ts(row[0]) for row in rows) if t is not None]
