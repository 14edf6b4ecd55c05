"""What /metrics, /healthz and the status line read."""

from __future__ import annotations

from datetime import datetime

from trackwatch.model import NoticeState
from trackwatch.store.postgres.base import PostgresBase
from trackwatch.store.records import Figures, ts


class PostgresOps(PostgresBase):
    async def figures(self, now: datetime) -> Figures:
        alerts = await self._all(
            "SELECT rule, store, COUNT(*) FROM alerts WHERE state='open' GROUP BY rule, store"
        )
        notices = await self._all(
            "SELECT state, store, COUNT(*) FROM notices GROUP BY state, store"
        )
        since: datetime | None = await self._pool.fetchval(
            "SELECT MIN(created_at) FROM notices WHERE state IN ('pending', 'sending')"
        )
        polled = await self._pool.fetchval(
            "SELECT COUNT(*) FROM shipments WHERE next_poll_at IS NOT NULL"
        )
        return Figures.of(alerts, notices,
                          max(0.0, (now - since).total_seconds()) if since else 0.0,
                          int(polled or 0), (s.value for s in NoticeState))  # fmt: skip

    async def check_writable(self, now: datetime) -> None:
        """A real write, for /healthz: raises when the database cannot take one."""
        await self._pool.execute(
            "INSERT INTO meta (key, value) VALUES ('healthz', $1) ON CONFLICT (key)"
            " DO UPDATE SET value=excluded.value",
            ts(now),
        )
