"""Rows as models, and models as rows: what every SQLite repository reads and writes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import aiosqlite

from trackwatch.model import (
    Alert,
    Audience,
    Notice,
    Shipment,
)
from trackwatch.store.records import (
    Readout,
    Unreadable,
    parse_ts,
    ts,
)

SHIPMENT_TIMES = (
    "shipped_at",
    "last_event_at",
    "eta",
    "last_polled_at",
    "next_poll_at",
    "check_at",
    "ordered_at",
    "promised_by",
    "missing_reported_at",
    "deadline_at",
    "stopped_at",
    "restarted_at",
    "set_aside_at",
    "follow_up_after",
)


class UnreadableShipment(Exception):
    def __init__(self, row: Unreadable) -> None:
        super().__init__(f"shipment {row.shipment_id} cannot be read: {row.reason}")
        self.row = row


class DuplicateShipment(Exception):
    def __init__(self, existing_id: int) -> None:
        super().__init__(f"already watched as shipment {existing_id}")
        self.existing_id = existing_id


def shipment_of_row(row: aiosqlite.Row) -> Shipment:
    data = dict(row)
    for key in SHIPMENT_TIMES:
        data[key] = parse_ts(data[key])
    data["active"] = bool(data["active"])
    return Shipment.model_validate(data)


def readout(rows: Iterable[aiosqlite.Row]) -> Readout:
    """The rows as Shipments; a row that cannot be read is reported, not raised, so that
    one bad row never stops a loop."""
    out = Readout([])
    for row in rows:
        try:
            out.shipments.append(shipment_of_row(row))
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            reason = f"unreadable row ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            out.unreadable.append(Unreadable(int(row["id"]), str(row["store"]), reason))
    return out


def row_of_shipment(shipment: Shipment, now: datetime) -> dict[str, Any]:
    values = shipment.model_dump(exclude={"id", "active", "polls", "revision"})
    for key in SHIPMENT_TIMES:
        values[key] = ts(values[key])
    values["next_poll_at"] = values["next_poll_at"] or ts(now)
    values["created_at"] = ts(now)
    return values


def audiences_text(values: Iterable[Audience]) -> str:
    return ",".join(a.value for a in values)


def alert_of_row(row: aiosqlite.Row) -> Alert:
    return alert_of_data(dict(row))


def alert_of_data(data: dict[str, Any]) -> Alert:
    data["explanation"] = json.loads(data["explanation"])
    data["audiences"] = tuple(Audience(a) for a in data["audiences"].split(",") if a)
    for key in ("opened_at", "escalated_at", "resolved_at"):
        data[key] = parse_ts(data[key])
    return Alert.model_validate(data)


# Notices with what the outbox needs to know of their alert and shipment (a digest has
# neither: NULLs).
NOTICES_READ = (
    "SELECT n.*, a.severity AS severity, s.destination_country AS destination_country,"
    " s.destination_postal_code AS destination_postal_code FROM notices n"
    " LEFT JOIN alerts a ON a.id = n.alert_id LEFT JOIN shipments s ON s.id = n.shipment_id"
    " WHERE {where} ORDER BY n.id"
)


def notice_of_row(row: aiosqlite.Row) -> Notice:
    data = dict(row)
    for key in ("next_attempt_at", "sent_at"):
        data[key] = parse_ts(data[key])
    return Notice.model_validate(data)
