"""What /metrics, /healthz and the status line read."""

from __future__ import annotations

from datetime import datetime

from trackwatch.model import NoticeState
from trackwatch.store.records import (
    Figures,
    parse_ts,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase


class SqliteOps(SqliteBase):
    async def figures(self, now: datetime) -> Figures:
        alerts = await self._all(
            "SELECT rule, store, COUNT(*) FROM alerts WHERE state='open' GROUP BY rule, store"
        )
        notices = await self._all(
            "SELECT state, store, COUNT(*) FROM notices GROUP BY state, store"
        )
        oldest = await self._all(
            "SELECT MIN(created_at) FROM notices WHERE state IN ('pending', 'sending')"
        )
        polled = await self._all("SELECT COUNT(*) FROM shipments WHERE next_poll_at IS NOT NULL")
        since = parse_ts(oldest[0][0]) if oldest else None
        return Figures.of(alerts, notices,
                          max(0.0, (now - since).total_seconds()) if since else 0.0,
                          int(polled[0][0]), (s.value for s in NoticeState))  # fmt: skip

    async def check_writable(self, now: datetime) -> None:
        """A real write, for /healthz: raises when the database cannot take one."""
        async with self._tx() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES ('healthz', ?) ON CONFLICT"
                             " (key) DO UPDATE SET value=excluded.value", (ts(now),))  # fmt: skip
