"""PostgreSQL's side of trackwatch.store.rows: asyncpg reads and writes times, flags and
numbers as Python values already, so a record is read as it comes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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


def _storable(value: Any) -> Any:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def as_columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column, for a statement over `unnest($1::…[], $2::…[], …)`: one
    execution for a whole batch, where executemany runs the statement once per row. Text
    in an array passes by the pool's text codec (base._connected), so a NUL is replaced
    here as it would be there."""
    return [[_storable(row[i]) for row in rows] for i in range(width)]


def lock_in_id_order(table: str = "shipments") -> str:
    """Lock rows (ids in $1) in id order, as every write of several rows does first: two
    transactions locking the same rows in the same order wait instead of deadlocking."""
    return f"SELECT 1 FROM {table} WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE"
