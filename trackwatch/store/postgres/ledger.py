"""The carrier call ledger: every call taken (counted and written) before it leaves, so no
restart and no second daemon ever overspends a quota."""

from __future__ import annotations

from datetime import datetime, timedelta

from trackwatch.store.postgres.base import PostgresBase

# The count and the insert run under a transaction-scoped advisory lock per carrier, so that
# every daemon's calls are counted: the take_call function (migration 2), one round trip,
# where a transaction of its own took four and held the lock across them.
LEDGER_LOCK = 0x7477_6C64  # "twld": the lock's class, written out in take_call


class PostgresLedger(PostgresBase):
    async def take(self, carrier: str, at: datetime, limit: int, since: datetime) -> bool:
        """Record a call at `at` unless `limit` calls were made since `since`, for every
        daemon on the database at once. True when taken."""
        return bool(await self._pool.fetchval("SELECT take_call($1, $2, $3, $4)",
                                              carrier, at, limit, since))  # fmt: skip

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        """The calls made since `since`; older rows (past every window) are dropped."""
        async with self._tx() as c:
            await c.execute("DELETE FROM carrier_calls WHERE at<$1", since - timedelta(days=2))
            rows = await c.fetch(
                "SELECT at FROM carrier_calls WHERE carrier=$1 AND at>=$2 ORDER BY at",
                carrier, since,
            )  # fmt: skip
        return [row[0] for row in rows]
