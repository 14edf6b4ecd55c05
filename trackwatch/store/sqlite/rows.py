"""SQLite's side of trackwatch.store.rows: it keeps times as sortable UTC text (see
records.ts), so a row's times are parsed on the way out and written as text on the way in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from trackwatch.model import Alert, Notice, Shipment
from trackwatch.store.records import Readout, parse_ts, ts
from trackwatch.store.rows import (
    ALERT_TIMES,
    NOTICE_TIMES,
    SHIPMENT_TIMES,
    DuplicateShipment,
    Row,
    UnreadableShipment,
    alert_and_order,
    alert_of_data,
    audiences_text,
    explanation_text,
    notice_of_data,
    values_of_shipment,
)
from trackwatch.store.rows import readout as _readout


def _parsed(row: Row, keys: Sequence[str]) -> dict[str, Any]:
    # By position: sqlite3.Row finds a column by name with a case-insensitive search through
    # every column, and dict(row) asks once per column (40 µs a shipment row).
    data = dict(zip(row.keys(), row, strict=True))  # type: ignore[call-overload]
    for key in keys:
        data[key] = parse_ts(data[key])
    return data


def readout(rows: Iterable[aiosqlite.Row]) -> Readout:
    return _readout(rows, lambda row: _parsed(row, SHIPMENT_TIMES))


def row_of_shipment(shipment: Shipment, now: datetime) -> dict[str, Any]:
    values = values_of_shipment(shipment, now)
    for key in (*SHIPMENT_TIMES, "created_at"):
        values[key] = ts(values[key])
    return values


def alert_of_row(row: aiosqlite.Row) -> Alert:
    return alert_of_data(_parsed(row, ALERT_TIMES))


def alert_with_order(row: aiosqlite.Row) -> tuple[Alert, str | None]:
    return alert_and_order(_parsed(row, ALERT_TIMES))


# Notices with what the outbox needs to know of their alert and shipment (a digest has
# neither: NULLs).
NOTICES_READ = (
    "SELECT n.*, a.severity AS severity, s.destination_country AS destination_country,"
    " s.destination_postal_code AS destination_postal_code FROM notices n"
    " LEFT JOIN alerts a ON a.id = n.alert_id LEFT JOIN shipments s ON s.id = n.shipment_id"
    " WHERE {where} ORDER BY n.id"
)


def notice_of_row(row: aiosqlite.Row) -> Notice:
    return notice_of_data(_parsed(row, NOTICE_TIMES))


__all__ = [
    "NOTICES_READ",
    "DuplicateShipment",
    "UnreadableShipment",
    "alert_of_row",
    "alert_with_order",
    "audiences_text",
    "explanation_text",
    "notice_of_row",
    "readout",
    "row_of_shipment",
]
