"""The carriers' report card's reads (trackwatch.store.lanes), counted by PostgreSQL."""

from __future__ import annotations

from typing import Any

from trackwatch.store.lanes import (
    EXCEPTION_RULE,
    LOSS_RULE,
    STALL_RULE,
    LaneCounts,
    Period,
    Spread,
    Unpromised,
)
from trackwatch.store.postgres.base import PostgresBase

_DELIVERED = "(s.status='delivered' AND s.last_event_at IS NOT NULL)"
# $1 since, $2 until, $3 the stores (NULL: every store's).
_WHERE = (
    "s.direction='outbound' AND s.shipped_at>=$1 AND s.shipped_at<$2"
    " AND ($3::text[] IS NULL OR s.store=ANY($3::text[]))"
)
# Each parcel once, whatever number of episodes its alerts had.
_FLAGS = (
    "SELECT shipment_id, bool_or(rule=$4) AS stalled, bool_or(rule=$5) AS exceptions,"
    " bool_or(rule=$6) AS lost FROM alerts WHERE shipment_id IS NOT NULL"
    " AND rule IN ($4, $5, $6) GROUP BY shipment_id"
)
_COUNTS = (
    "SELECT s.store, s.carrier, s.destination_country, COUNT(*),"
    f" COUNT(*) FILTER (WHERE {_DELIVERED}),"
    f" COUNT(*) FILTER (WHERE {_DELIVERED} AND s.first_eta IS NOT NULL),"
    f" COUNT(*) FILTER (WHERE {_DELIVERED} AND s.last_event_at<=s.first_eta),"
    f" COUNT(*) FILTER (WHERE {_DELIVERED} AND s.promised_by IS NOT NULL),"
    f" COUNT(*) FILTER (WHERE {_DELIVERED} AND s.last_event_at<=s.promised_by),"
    " COUNT(*) FILTER (WHERE f.stalled), COUNT(*) FILTER (WHERE f.exceptions),"
    " COUNT(*) FILTER (WHERE f.lost)"
    f" FROM shipments s LEFT JOIN ({_FLAGS}) f ON f.shipment_id=s.id"
    f" WHERE {_WHERE} GROUP BY 1, 2, 3"
)
_TRANSIT = (
    "SELECT s.store, s.carrier, s.destination_country,"
    " ROUND(EXTRACT(EPOCH FROM s.last_event_at - s.shipped_at) / 8640)::bigint AS value,"
    f" COUNT(*) FROM shipments s WHERE {_DELIVERED} AND {_WHERE} GROUP BY 1, 2, 3, 4"
)
_TOLD = (
    "SELECT s.store, s.carrier, s.destination_country,"
    " ROUND(EXTRACT(EPOCH FROM n.first - a.opened_at) / 60)::bigint AS value, COUNT(*)"
    " FROM alerts a JOIN shipments s ON s.id=a.shipment_id JOIN (SELECT alert_id,"
    " MIN(sent_at) AS first FROM notices WHERE state='sent' AND audience='customer'"
    " AND alert_id IS NOT NULL GROUP BY alert_id) n ON n.alert_id=a.id"
    f" WHERE {_WHERE} GROUP BY 1, 2, 3, 4"
)
_UNPROMISED = (
    "SELECT s.store, s.carrier, s.destination_country, s.shipped_at, s.ordered_at,"
    f" s.last_event_at FROM shipments s WHERE {_DELIVERED} AND s.promised_by IS NULL"
    f" AND {_WHERE}"
)


def _args(period: Period) -> tuple[Any, ...]:
    stores = None if period.stores is None else sorted(period.stores)
    return period.since, period.until, stores


class PostgresLanes(PostgresBase):
    async def lane_counts(self, period: Period) -> list[LaneCounts]:
        rows = await self._all(_COUNTS, *_args(period), STALL_RULE, EXCEPTION_RULE, LOSS_RULE)
        return [LaneCounts(row[0], row[1], row[2], *(int(v) for v in row[3:])) for row in rows]

    async def lane_spreads(self, period: Period) -> list[Spread]:
        spreads = []
        for measure, sql in (("transit", _TRANSIT), ("told", _TOLD)):
            rows = await self._all(sql, *_args(period))
            spreads += [Spread(r[0], r[1], r[2], measure, int(r[3]), int(r[4])) for r in rows]
        return spreads

    async def unpromised_deliveries(self, period: Period) -> list[Unpromised]:
        rows = await self._all(_UNPROMISED, *_args(period))
        return [Unpromised(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
