"""Migration 20 on SQLite: the rows read and the plan written, a batch of shipments at a
time, on the migration's connection inside its transaction."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime
from typing import Any

from trackwatch.store.records import parse_ts, ts
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
    " last_event_at, follow_up_after FROM shipments WHERE id>? ORDER BY id LIMIT ?"
)
_EVENTS = (
    "SELECT id, shipment_id, occurred_at, code, place, data FROM events"
    " WHERE shipment_id BETWEEN ? AND ? AND data LIKE ? ORDER BY id"
)
_ALERTS = "SELECT id, shipment_id, rule, episode FROM alerts WHERE shipment_id BETWEEN ? AND ?"
_INSERT = (
    "INSERT INTO events (id, shipment_id, occurred_at, code, place, data) VALUES (?,?,?,?,?,?)"
    # A re-dated scan already stored at its new instant (read again meanwhile): kept once.
    " ON CONFLICT (shipment_id, code, occurred_at, place) DO NOTHING"
)
# Made dirty as a poll makes it (revision bumped): judged again with the new calendar.
_REJUDGE = "UPDATE shipments SET dirty=active, revision=revision+1 WHERE id=?"
_TIMES = "UPDATE shipments SET eta=?, first_eta=?, last_event_at=?, follow_up_after=? WHERE id=?"


def redate(db: sqlite3.Connection) -> None:
    after = 0
    while rows := db.execute(_SHIPMENTS, (after, BATCH)).fetchall():
        after = int(rows[-1][0])
        # A row whose times cannot be read is left as it is (the daemon sets it aside).
        shipments = [s for row in rows if (s := _shipment(row)) is not None]
        if not shipments:
            continue
        low, high = shipments[0].id, shipments[-1].id
        events = _events(db, low, high)
        alerts: dict[int, list[StoredAlert]] = defaultdict(list)
        for aid, sid, rule, episode in db.execute(_ALERTS, (low, high)):
            alerts[sid].append(StoredAlert(aid, rule, episode))
        plans = [plan_shipment(s, events[s.id], alerts[s.id]) for s in shipments]
        _write(db, [p for p in plans if not p.empty], events)


class _Unreadable(Exception):
    pass


def _at(text: Any) -> datetime:
    """A stored time, or _Unreadable (text a hand or a bug put there, naive or not a time)."""
    try:
        value = parse_ts(str(text))
    except ValueError:
        raise _Unreadable from None
    if value is None or value.tzinfo is None:
        raise _Unreadable
    return value


def _maybe(text: Any) -> datetime | None:
    return None if text is None else _at(text)


def _shipment(row: Any) -> StoredShipment | None:
    sid, carrier, country, postal, eta, first_eta, last, follow = row
    try:
        times = [_maybe(t) for t in (eta, first_eta, last, follow)]
    except _Unreadable:
        return None
    return StoredShipment(int(sid), str(carrier), Spot(country or None, None, postal or None),
                          *times)  # fmt: skip


def _events(db: sqlite3.Connection, low: int, high: int) -> dict[int, list[StoredEvent]]:
    events: dict[int, list[StoredEvent]] = defaultdict(list)
    for eid, sid, at, code, place, data in db.execute(_EVENTS, (low, high, EVENT_FILTER)):
        try:
            events[sid].append(StoredEvent(eid, _at(at), code, place, data))
        except _Unreadable:
            continue  # left as it is: the tracking page and the rules report it
    return events


def _write(db: sqlite3.Connection, plans: list[Plan],
           events: dict[int, list[StoredEvent]]) -> None:  # fmt: skip
    rows = {e.id: e for plan in plans for e in events[plan.shipment_id]}
    moved = [(plan.shipment_id, eid, at, data) for plan in plans for eid, at, data in plan.events]
    # Every moved row out first, then back at its new instant: a row moved onto another's
    # old key must not meet it there.
    db.executemany("DELETE FROM events WHERE id=?", [(eid,) for _, eid, _, _ in moved])
    db.executemany(_INSERT, [(eid, sid, ts(at), rows[eid].code, rows[eid].place, data)
                             for sid, eid, at, data in moved])  # fmt: skip
    db.executemany(_TIMES, [(ts(p.times["eta"]), ts(p.times["first_eta"]),
                             ts(p.times["last_event_at"]), ts(p.times["follow_up_after"]),
                             p.shipment_id) for p in plans if p.times])  # fmt: skip
    db.executemany(_REJUDGE, [(p.shipment_id,) for p in plans if p.rejudge])
    db.executemany("UPDATE alerts SET episode=? WHERE id=?",
                   [(episode, aid) for p in plans for aid, episode in p.episodes])  # fmt: skip
