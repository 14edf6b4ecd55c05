"""The carrier call ledger: every call taken (counted and written) before it leaves, so no
restart and no second daemon ever overspends a quota."""

from __future__ import annotations

from datetime import datetime, timedelta

from trackwatch.store.postgres.base import PostgresBase

# A transaction-scoped advisory lock per carrier (this class, hashtext(carrier)) serialises
# the count and the insert among every daemon: under READ COMMITTED each statement after the
# lock sees the calls the previous holder committed.
LEDGER_LOCK = 0x7477_6C64  # "twld"
_TAKE = (
    "INSERT INTO carrier_calls (carrier, at) SELECT $1, $2 WHERE (SELECT COUNT(*)"
    " FROM carrier_calls WHERE carrier=$1 AND at>=$3) < $4 RETURNING 1"
)


class PostgresLedger(PostgresBase):
    async def take(self, carrier: str, at: datetime, limit: int, since: datetime) -> bool:
        """Record a call at `at` unless `limit` calls were made since `since`, for every
        daemon on the database at once. True when taken."""
        async with self._tx() as c:
            await c.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LEDGER_LOCK,
                            carrier)  # fmt: skip
            return await c.fetchval(_TAKE, carrier, at, since, limit) is not None

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        """The calls made since `since`; older rows (past every window) are dropped."""
        async with self._tx() as c:
            await c.execute("DELETE FROM carrier_calls WHERE at<$1", since - timedelta(days=2))
            rows = await c.fetch(
                "SELECT at FROM carrier_calls WHERE carrier=$1 AND at>=$2 ORDER BY at",
                carrier, since,
            )  # fmt: skip
        return [row[0] for row in rows]
