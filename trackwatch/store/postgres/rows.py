"""PostgreSQL's side of trackwatch.store.rows: asyncpg reads and writes times, flags and
numbers as Python values already, so a record is read as it comes."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from trackwatch.model import Alert, Notice
from trackwatch.store.records import Readout
from trackwatch.store.rows import alert_and_order, alert_of_data, notice_of_data
from trackwatch.store.rows import readout as _readout


def readout(rows: Iterable[asyncpg.Record]) -> Readout:
    return _readout(rows, dict)


def alert_of_row(row: asyncpg.Record) -> Alert:
    return alert_of_data(dict(row))


def alert_with_order(row: asyncpg.Record) -> tuple[Alert, str | None]:
    return alert_and_order(dict(row))


# Notices with what the outbox needs to know of their alert and shipment (a digest has
# neither: NULLs).
NOTICES_READ = (
    "SELECT n.*, a.severity AS severity, s.destination_country AS destination_country,"
    " s.destination_postal_code AS destination_postal_code FROM notices n"
    " LEFT JOIN alerts a ON a.id = n.alert_id LEFT JOIN shipments s ON s.id = n.shipment_id"
    " WHERE {where} ORDER BY n.id"
)


def notice_of_row(row: asyncpg.Record) -> Notice:
    return notice_of_data(dict(row))
