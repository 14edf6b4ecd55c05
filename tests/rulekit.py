"""Builders for rule tests: events, shipments and views without a database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules import RULES, Rule, ShipmentView
from trackwatch.calendar import calendar_for
from trackwatch.model import (
    DeliveryLocation,
    ExceptionKind,
    Finding,
    Place,
    Shipment,
    Status,
    TrackingEvent,
)
from trackwatch.policy import StorePolicy

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
HONOLULU = ZoneInfo("Pacific/Honolulu")
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")
BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}


def at(month: int, day: int, hour: int = 0, minute: int = 0, tz: ZoneInfo = NY,
       year: int = 2026) -> datetime:  # fmt: skip
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def ev(
    when: datetime,
    status: Status = Status.IN_TRANSIT,
    description: str = "Arrived at facility",
    place: Place = NYC,
    exception: ExceptionKind | None = None,
    location: DeliveryLocation | None = None,
    code: str = "X",
) -> TrackingEvent:
    return TrackingEvent(occurred_at=when, status=status, code=code, description=description,
                         place=place, exception=exception, delivery_location=location)  # fmt: skip


def policy(**sections: dict[str, Any] | str) -> StorePolicy:
    return StorePolicy.model_validate(sections)


def view(
    events: Iterable[TrackingEvent] = (),
    pol: StorePolicy | None = None,
    **fields: Any,
) -> ShipmentView:
    ordered = sorted(events, key=lambda e: e.occurred_at)
    data: dict[str, Any] = {
        "store": "shop", "carrier": "ups", "tracking_number": "1Z5R89390357567127",
        "order_id": "A1", "customer_email": "c@example.com", "destination_postal_code": "10001",
        "shipped_at": at(11, 23, 9),
        "status": ordered[-1].status if ordered else Status.UNKNOWN,
    }  # fmt: skip
    data.update(fields)
    shipment = Shipment.model_validate(data)
    calendar = calendar_for(shipment.carrier, shipment.destination_country,
                            shipment.destination_postal_code)  # fmt: skip
    return ShipmentView(shipment, ordered, pol or StorePolicy(), "test policy", calendar)


def fires(rule: str, v: ShipmentView, now: datetime) -> Finding | None:
    return BY_NAME[rule].evaluate(v, now)


def first_fires(rule: str, v: ShipmentView) -> datetime | None:
    """The rule's deadline, after checking it does not fire a minute before it and does at it."""
    due = BY_NAME[rule].deadline(v)
    if due is not None:
        assert fires(rule, v, due - timedelta(minutes=1)) is None
        assert fires(rule, v, due) is not None
    return due
