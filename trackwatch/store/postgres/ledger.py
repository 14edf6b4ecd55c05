"""The carrier call ledger: every call taken (counted and written) before it leaves, so no
restart and no second daemon ever overspends a quota."""

from __future__ import annotations

from datetime import datetime

from trackwatch.store.postgres.base import PostgresBase

# The count and the insert run under a transaction-scoped advisory lock per carrier, so that
# every daemon's calls are counted: the take_call function (migration 2), one round trip,
# where a transaction of its own took four and held the lock across them.
LEDGER_LOCK = 0x7477_6C64  # "twld": the lock's class, written out in take_call


# A call counted against a fixed day, unless the day's count reached the limit ($4), and
# recorded: one statement. The day's row is locked by the first to count on it; the next
# waits, then re-reads the count (READ COMMITTED re-checks the WHERE on the row it waited
# for), so no two daemons take the last call.
_TAKE_DAY = (
    "WITH counted AS (INSERT INTO carrier_days (carrier, day, calls) VALUES ($1, $3, 1)"
    " ON CONFLICT (carrier, day) DO UPDATE SET calls=carrier_days.calls+1"
    " WHERE carrier_days.calls < $4 RETURNING 1)"
    " INSERT INTO carrier_calls (carrier, at) SELECT $1, $2 FROM counted RETURNING 1"
)


class PostgresLedger(PostgresBase):
    async def take(
        self, carrier: str, at: datetime, limit: int, since: datetime, daily: bool = False
    ) -> bool:
        """Record a call at `at` unless `limit` calls were made since `since`, for every
        daemon on the database at once. True when taken."""
        if daily:
            return await self._pool.fetchval(_TAKE_DAY, carrier, at, since, limit) is not None
        return bool(await self._pool.fetchval("SELECT take_call($1, $2, $3, $4)",
                                              carrier, at, limit, since))  # fmt: skip

    async def take_day(
        self, carrier: str, at: datetime, calls: int, limit: int, day: datetime
    ) -> int:
        """Up to `calls` calls of the day starting at `day` recorded at `at`, never past
        `limit`: the day's row is locked (FOR UPDATE) before it is read, as _TAKE_DAY's
        update locks it, so no two daemons count the same calls as left."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO carrier_days (carrier, day, calls) VALUES ($1, $2, 0)"
                               " ON CONFLICT (carrier, day) DO NOTHING", carrier, day)  # fmt: skip
            spent = await conn.fetchval("SELECT calls FROM carrier_days WHERE carrier=$1"
                                        " AND day=$2 FOR UPDATE", carrier, day)  # fmt: skip
            taken = max(0, min(calls, limit - int(spent or 0)))
            if taken:
                await conn.execute("UPDATE carrier_days SET calls=calls+$3 WHERE carrier=$1"
                                   " AND day=$2", carrier, day, taken)  # fmt: skip
                await conn.execute("INSERT INTO carrier_calls (carrier, at) SELECT $1, $2"
                                   " FROM generate_series(1, $3)", carrier, at, taken)  # fmt: skip
            return taken

    async def give_back(self, carrier: str, at: datetime, calls: int, day: datetime) -> None:
        if calls <= 0:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("UPDATE carrier_days SET calls=GREATEST(0, calls-$3)"
                               " WHERE carrier=$1 AND day=$2", carrier, day, calls)  # fmt: skip
            await conn.execute("DELETE FROM carrier_calls WHERE ctid IN (SELECT ctid FROM"
                               " carrier_calls WHERE carrier=$1 AND at=$2 LIMIT $3)",
                               carrier, at, calls)  # fmt: skip

    async def calls_on(self, carrier: str, day: datetime) -> int:
        """The calls taken on the day starting at `day` (the retention pass drops old days)."""
        calls = await self._pool.fetchval(
            "SELECT calls FROM carrier_days WHERE carrier=$1 AND day=$2", carrier, day
        )
        return int(calls or 0)

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        """The calls made since `since` (the retention pass drops rows past every window:
        a poll pass reads here, and must not write)."""
        rows = await self._pool.fetch(
            "SELECT at FROM carrier_calls WHERE carrier=$1 AND at>=$2 ORDER BY at", carrier, since
        )
        return [row[0] for row in rows]
