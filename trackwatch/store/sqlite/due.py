"""The loops' next due times in one reading: a stepped daemon (trackwatch.sim.stepping) asks
for all three after every pass, and each statement is a hop to the connection's thread and
back (on a simulated month, tens of thousands of them)."""

from __future__ import annotations

from trackwatch.store.records import DueTimes, parse_ts
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.judging import NEXT_CHECK
from trackwatch.store.sqlite.notices import NEXT_NOTICE
from trackwatch.store.sqlite.polls import NEXT_POLL

_NEXT_DUE = f"SELECT ({NEXT_POLL}), ({NEXT_CHECK}), ({NEXT_NOTICE})"


class SqliteDue(SqliteBase):
    async def next_due_times(self) -> DueTimes:
        rows = await self._all(_NEXT_DUE)
        poll, check, notice = rows[0] if rows else (None, None, None)
        return DueTimes(parse_ts(poll), parse_ts(check), parse_ts(notice))
