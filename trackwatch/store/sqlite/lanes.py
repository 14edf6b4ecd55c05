"""The carriers' report card's reads (trackwatch.store.lanes), counted by SQLite. Times are
fixed-format UTC text, so they compare as strings and julianday() reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from trackwatch.store.lanes import (
    EXCEPTION_RULE,
    LOSS_RULE,
    STALL_RULE,
    LaneCounts,
    Period,
    Spread,
    Unpromised,
)
from trackwatch.store.records import parse_ts, ts
from trackwatch.store.sqlite.base import SqliteBase

_DELIVERED = "(s.status='delivered' AND s.last_event_at IS NOT NULL)"
# Each parcel once, whatever number of episodes its alerts had.
_FLAGS = (
    "SELECT shipment_id, MAX(rule=:stall) AS stalled, MAX(rule=:exception) AS exceptions,"
    " MAX(rule=:loss) AS lost FROM alerts WHERE shipment_id IS NOT NULL"
    " AND rule IN (:stall, :exception, :loss) GROUP BY shipment_id"
)
_COUNTS = (
    "SELECT s.store, s.carrier, s.destination_country, COUNT(*),"
    f" SUM({_DELIVERED}),"
    f" SUM({_DELIVERED} AND s.first_eta IS NOT NULL),"
    f" SUM({_DELIVERED} AND s.first_eta IS NOT NULL AND s.last_event_at<=s.first_eta),"
    f" SUM({_DELIVERED} AND s.promised_by IS NOT NULL),"
    f" SUM({_DELIVERED} AND s.promised_by IS NOT NULL AND s.last_event_at<=s.promised_by),"
    " SUM(COALESCE(f.stalled, 0)), SUM(COALESCE(f.exceptions, 0)), SUM(COALESCE(f.lost, 0))"
    f" FROM shipments s LEFT JOIN ({_FLAGS}) f ON f.shipment_id=s.id"
    " WHERE {where} GROUP BY 1, 2, 3"
)
_TRANSIT = (
    "SELECT s.store, s.carrier, s.destination_country,"
    " CAST(ROUND((julianday(s.last_event_at) - julianday(s.shipped_at)) * 10) AS INTEGER),"
    f" COUNT(*) FROM shipments s WHERE {_DELIVERED} AND {{where}} GROUP BY 1, 2, 3, 4"
)
_TOLD = (
    "SELECT s.store, s.carrier, s.destination_country,"
    " CAST(ROUND((julianday(n.first) - julianday(a.opened_at)) * 1440) AS INTEGER), COUNT(*)"
    " FROM alerts a JOIN shipments s ON s.id=a.shipment_id JOIN (SELECT alert_id,"
    " MIN(sent_at) AS first FROM notices WHERE state='sent' AND audience='customer'"
    " AND alert_id IS NOT NULL GROUP BY alert_id) n ON n.alert_id=a.id"
    " WHERE {where} GROUP BY 1, 2, 3, 4"
)
_UNPROMISED = (
    "SELECT s.store, s.carrier, s.destination_country, s.shipped_at, s.ordered_at,"
    f" s.last_event_at FROM shipments s WHERE {_DELIVERED} AND s.promised_by IS NULL"
    " AND {where}"
)


def _where(period: Period) -> tuple[str, dict[str, Any]]:
    """The period's filter over `s` (shipments) and its named parameters."""
    params: dict[str, Any] = {"since": ts(period.since), "until": ts(period.until)}
    where = "s.direction='outbound' AND s.shipped_at>=:since AND s.shipped_at<:until"
    if period.stores is not None:
        names = sorted(period.stores)
        params.update({f"store{i}": name for i, name in enumerate(names)})
        marks = ", ".join(f":store{i}" for i in range(len(names)))
        where += f" AND s.store IN ({marks})" if names else " AND 0"
    return where, params


class SqliteLanes(SqliteBase):
    async def _named(self, sql: str, params: dict[str, Any]) -> list[aiosqlite.Row]:
        async with self._lock, self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def lane_counts(self, period: Period) -> list[LaneCounts]:
        where, params = _where(period)
        params.update(stall=STALL_RULE, exception=EXCEPTION_RULE, loss=LOSS_RULE)
        rows = await self._named(_COUNTS.format(where=where), params)
        return [LaneCounts(row[0], row[1], row[2], *(int(v or 0) for v in row[3:])) for row in rows]

    async def lane_spreads(self, period: Period) -> list[Spread]:
        where, params = _where(period)
        spreads = []
        for measure, sql in (("transit", _TRANSIT), ("told", _TOLD)):
            rows = await self._named(sql.format(where=where), params)
            spreads += [Spread(r[0], r[1], r[2], measure, int(r[3]), int(r[4])) for r in rows]
        return spreads

    async def unpromised_deliveries(self, period: Period) -> list[Unpromised]:
        where, params = _where(period)
        rows = await self._named(_UNPROMISED.format(where=where), params)
        return [Unpromised(r[0], r[1], r[2], _at(r[3]), parse_ts(r[4]), _at(r[5])) for r in rows]


def _at(text: str) -> datetime:
    when = parse_ts(text)
    assert when is not None  # selected NOT NULL
    return when
