"""The carrier call ledger: every call written before it leaves, so a restart never overspends
a quota."""

from __future__ import annotations

from datetime import datetime, timedelta

from trackwatch.store.postgres.base import PostgresBase


class PostgresLedger(PostgresBase):
    async def record_call(self, carrier: str, at: datetime) -> None:
        await self._pool.execute(
            "INSERT INTO carrier_calls (carrier, at) VALUES ($1, $2)", carrier, at
        )

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        """The calls made since `since`; older rows (past every window) are dropped."""
        async with self._tx() as c:
            await c.execute("DELETE FROM carrier_calls WHERE at<$1", since - timedelta(days=2))
            rows = await c.fetch(
                "SELECT at FROM carrier_calls WHERE carrier=$1 AND at>=$2 ORDER BY at",
                carrier, since,
            )  # fmt: skip
        return [row[0] for row in rows]
