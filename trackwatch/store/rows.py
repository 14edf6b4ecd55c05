"""Rows as models and models as rows, for every backend. A backend hands these functions a
row's values as Python values (times as aware datetimes, flags as booleans, JSON as text)
and writes what they return, converting only what its engine keeps differently (SQLite keeps
times as text: see its rows module)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from trackwatch.model import Alert, Audience, Notice, Shipment, TrackingEvent
from trackwatch.store.records import NoticeDraft, Readout, Unreadable

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
    "push_until",
)
ALERT_TIMES = ("opened_at", "escalated_at", "resolved_at")
# How long a claimed poll or judgement stays this daemon's: a pass of a few thousand
# shipments fits well within, and a daemon that died frees its rows once it runs out.
LEASE = timedelta(minutes=5)
NOTICE_TIMES = ("next_attempt_at", "sent_at")


class Row(Protocol):
    """A row as either driver returns it (sqlite3.Row, asyncpg.Record): columns by name."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, key: str, /) -> Any: ...


class UnreadableShipment(Exception):
    def __init__(self, row: Unreadable) -> None:
        super().__init__(f"shipment {row.shipment_id} cannot be read: {row.reason}")
        self.row = row


class DuplicateShipment(Exception):
    def __init__(self, existing_id: int) -> None:
        super().__init__(f"already watched as shipment {existing_id}")
        self.existing_id = existing_id


def nearest_deadline_first(shipment: Shipment) -> tuple[bool, datetime, datetime]:
    """The poll order: the nearest deadline first, those without one last."""
    never = datetime.max.replace(tzinfo=UTC)
    return (shipment.deadline_at is None, shipment.deadline_at or never,
            shipment.next_poll_at or never)  # fmt: skip


def shipment_of_data(data: dict[str, Any]) -> Shipment:
    data["active"] = bool(data["active"])
    return Shipment.model_validate(data)


def readout(rows: Iterable[Row], decode: Callable[[Row], dict[str, Any]]) -> Readout:
    """The rows as Shipments (`decode` makes a row's values Python values); a row that cannot
    be read is reported, not raised, so that one bad row never stops a loop."""
    out = Readout([])
    for row in rows:
        try:
            out.shipments.append(shipment_of_data(decode(row)))
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            reason = f"unreadable row ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            out.unreadable.append(Unreadable(int(row["id"]), str(row["store"]), reason))
    return out


# TrackingEvent.model_validate_json without the classmethod around it (the same validator,
# called with the same defaults): a judgement reads back every event of its shipment.
_EVENT_JSON = TrackingEvent.__pydantic_validator__.validate_json


def events_of_data(datas: Iterable[str | bytes]) -> list[TrackingEvent]:
    """Stored events (each its `data` column, as TrackingEvent.model_dump_json wrote it),
    decoded exactly as TrackingEvent.model_validate_json does; a bad one raises the same."""
    return [_EVENT_JSON(data) for data in datas]


def values_of_shipment(shipment: Shipment, now: datetime) -> dict[str, Any]:
    """A new shipment's columns (times as datetimes): due a first poll now unless it says
    otherwise."""
    values = shipment.model_dump(exclude={"id", "active", "polls", "revision"})
    values["next_poll_at"] = values["next_poll_at"] or now
    values["created_at"] = now
    return values


def audiences_text(values: Iterable[Audience]) -> str:
    return ",".join(a.value for a in values)


def explanation_text(explanation: Mapping[str, str]) -> str:
    return json.dumps(explanation)


def alert_of_data(data: dict[str, Any]) -> Alert:
    data["explanation"] = json.loads(data["explanation"])
    data["audiences"] = tuple(Audience(a) for a in data["audiences"].split(",") if a)
    return Alert.model_validate(data)


def alert_and_order(data: dict[str, Any]) -> tuple[Alert, str | None]:
    """An alert read with its shipment's order number (None for an alert about a store)."""
    order_id = data.pop("order_id")
    return alert_of_data(data), None if order_id is None else str(order_id)


def notice_of_data(data: dict[str, Any]) -> Notice:
    return Notice.model_validate(data)


def notice_key(alert_id: int | None, draft: NoticeDraft) -> str:
    """A notice's idempotency key (before the database's instance prefix): one per alert,
    change, audience and channel, or the draft's own (a notice of no alert must bring one)."""
    if draft.key:
        return draft.key
    if alert_id is None:
        raise ValueError("a notice without an alert needs its own idempotency key")
    return f"{alert_id}-{draft.event}-{draft.audience.value}-{draft.channel}"
