"""Migration 20 on PostgreSQL: the rows read and the plan written, a batch of shipments at
a time, on the migration's connection inside its transaction."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from trackwatch.store.zonefix.choice import Spot
from trackwatch.store.zonefix.plan import (
    EVENT_FILTER,
    Plan,
    StoredAlert,
    StoredEvent,
    StoredShipment,
    plan_shipment,
)

BATCH = 1000
_SHIPMENTS = (
    "SELECT id, carrier, destination_country, destination_postal_code, eta, first_eta,"
    " last_event_at, follow_up_after FROM shipments WHERE id>$1 ORDER BY id LIMIT $2"
)
_EVENTS = (
    "SELECT id, shipment_id, occurred_at, code, place, data FROM events"
    " WHERE shipment_id BETWEEN $1 AND $2 AND data LIKE $3 ORDER BY id"
)
_ALERTS = "SELECT id, shipment_id, rule, episode FROM alerts WHERE shipment_id BETWEEN $1 AND $2"
_INSERT = (
    "INSERT INTO events (id, shipment_id, occurred_at, code, place, data)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
    # A re-dated scan already stored at its new instant (read again meanwhile): kept once.
    " ON CONFLICT (shipment_id, code, occurred_at, place) DO NOTHING"
)
# Made dirty as a poll makes it (revision bumped): judged again with the new calendar.
_REJUDGE = "UPDATE shipments SET dirty=active, revision=revision+1 WHERE id = ANY($1::bigint[])"
_TIMES = (
    "UPDATE shipments SET eta=$1, first_eta=$2, last_event_at=$3, follow_up_after=$4 WHERE id=$5"
)


async def redate(conn: Any) -> None:
    after = 0
    while rows := await conn.fetch(_SHIPMENTS, after, BATCH):
        after = int(rows[-1]["id"])
        shipments = [_shipment(row) for row in rows]
        low, high = shipments[0].id, shipments[-1].id
        events: dict[int, list[StoredEvent]] = defaultdict(list)
        for r in await conn.fetch(_EVENTS, low, high, EVENT_FILTER):
            events[int(r["shipment_id"])].append(
                StoredEvent(int(r["id"]), r["occurred_at"], r["code"], r["place"], r["data"]))  # fmt: skip
        alerts: dict[int, list[StoredAlert]] = defaultdict(list)
        for r in await conn.fetch(_ALERTS, low, high):
            alerts[int(r["shipment_id"])].append(StoredAlert(int(r["id"]), r["rule"], r["episode"]))
        plans = [plan_shipment(s, events[s.id], alerts[s.id]) for s in shipments]
        await _write(conn, [p for p in plans if not p.empty], events)


def _shipment(row: Any) -> StoredShipment:
    return StoredShipment(int(row["id"]), str(row["carrier"]),
                          Spot(row["destination_country"] or None, None,
                               row["destination_postal_code"] or None),
                          row["eta"], row["first_eta"], row["last_event_at"],
                          row["follow_up_after"])  # fmt: skip


async def _write(conn: Any, plans: list[Plan], events: dict[int, list[StoredEvent]]) -> None:
    rows = {e.id: e for plan in plans for e in events[plan.shipment_id]}
    moved = [(plan.shipment_id, eid, at, data) for plan in plans for eid, at, data in plan.events]
    # Every moved row out first, then back at its new instant: a row moved onto another's
    # old key must not meet it there.
    if moved:
        await conn.execute("DELETE FROM events WHERE id = ANY($1::bigint[])",
                           [eid for _, eid, _, _ in moved])  # fmt: skip
        await conn.executemany(_INSERT, [(eid, sid, at, rows[eid].code, rows[eid].place, data)
                                         for sid, eid, at, data in moved])  # fmt: skip
    times = [(p.times["eta"], p.times["first_eta"], p.times["last_event_at"],
              p.times["follow_up_after"], p.shipment_id) for p in plans if p.times]  # fmt: skip
    if times:
        await conn.executemany(_TIMES, times)
    rejudged = [p.shipment_id for p in plans if p.rejudge]
    if rejudged:
        await conn.execute(_REJUDGE, rejudged)
    episodes = [(episode, aid) for p in plans for aid, episode in p.episodes]
    if episodes:
        await conn.executemany("UPDATE alerts SET episode=$1 WHERE id=$2", episodes)
