"""The loops' next due times in one reading (one round trip where three were), as on
SQLite (trackwatch/store/sqlite/due.py)."""

from __future__ import annotations

from trackwatch.store.postgres.base import PostgresBase
from trackwatch.store.postgres.judging import NEXT_CHECK
from trackwatch.store.postgres.notices import NEXT_NOTICE
from trackwatch.store.postgres.polls import NEXT_POLL
from trackwatch.store.records import DueTimes

_NEXT_DUE = f"SELECT ({NEXT_POLL}), ({NEXT_CHECK}), ({NEXT_NOTICE})"


class PostgresDue(PostgresBase):
    async def next_due_times(self) -> DueTimes:
        row = await self._pool.fetchrow(_NEXT_DUE)
        if row is None:
            return DueTimes(None, None, None)
        return DueTimes(row[0], row[1], row[2])
