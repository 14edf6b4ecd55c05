"""delivered and risky_delivery: what happens once the carrier says "delivered".

`delivered` is the customer's check-in: it carries the "didn't receive it?" link and stays
open while `delivered.claim_window_days` runs; it states that window only when the store
promised it (seed 004: 'Email us within 30 days of delivery'; seed 001: 'within 3 business
days of receipt'): a store without one is not given seed 004's. Likewise the day to wait
before reporting it missing (`delivered.wait_hours`; seed 000: 'after a day', 004: 'Wait 24
hours'). `risky_delivery` flags to staff a delivery that often goes missing
(seed 004: porches, mailrooms, neighbours; also lockers) or one scanned somewhere other than
the destination (postal codes decide; the city only without them, and a city spelled another
way is the same city: rules/places.py). Neither applies to a parcel returned to its sender.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from rules.places import elsewhere
from trackwatch.model import (
    Audience,
    DeliveryLocation,
    ExceptionKind,
    Finding,
    Severity,
    TrackingEvent,
)

# Where the carrier left it, as a customer reads it; "other" says nothing, so it is not said.
LEFT_AT = {
    DeliveryLocation.FRONT_DOOR: "left at the front door",
    DeliveryLocation.MAILBOX: "left in the mailbox",
    DeliveryLocation.MAILROOM: "left in the mailroom",
    DeliveryLocation.RECEPTION: "left at reception",
    DeliveryLocation.PARCEL_LOCKER: "left in a parcel locker",
    DeliveryLocation.NEIGHBOUR: "left with a neighbour",
    DeliveryLocation.PICKUP_POINT: "left at a pickup point",
    DeliveryLocation.WITH_INDIVIDUAL: "handed to someone at the address",
}


def _delivery(view: ShipmentView) -> TrackingEvent | None:
    return view.once(_delivery_of)


def _delivery_of(view: ShipmentView) -> TrackingEvent | None:
    if view.exception_events(ExceptionKind.RETURNED_TO_SENDER):
        return None
    return view.delivered_event


def claim_window_end(view: ShipmentView, delivered_at: datetime) -> datetime:
    """The end of the claim window: the store's own business days when it counts in them
    (seed 001: 'within 3 business days of receipt' are its days, not the carrier's), else
    calendar days at the customer's."""
    policy = view.policy.delivered
    if policy.claim_window_unit == "business":
        return view.store_calendar.add_business_days(delivered_at, policy.claim_window_days)
    day = view.calendar.local_date(delivered_at) + timedelta(days=policy.claim_window_days)
    return view.calendar.end_of(day)


def _window_text(view: ShipmentView, delivered_at: datetime) -> str:
    policy = view.policy.delivered
    return (f"{policy.claim_window_days} {policy.claim_window_unit} days, until the "
            f"{view.day_end(claim_window_end(view, delivered_at))} (delivered.claim_window_days; "
            f"{view.source('delivered.claim_window_days')})")  # fmt: skip


def window_words(view: ShipmentView) -> str:
    """The claim window as a customer reads it: "30 days", "3 business days"."""
    policy = view.policy.delivered
    unit = "business days" if policy.claim_window_unit == "business" else "days"
    return f"{policy.claim_window_days} {unit}"


def wait_words(hours: float) -> str:
    """delivered.wait_hours as a customer reads it: "a day", "2 days", "12 hours", "an
    hour"; "" for no wait at all (then nothing is asked of the customer)."""
    if hours <= 0:
        return ""
    if hours == 24:
        return "a day"
    if hours % 24 == 0:
        return f"{hours / 24:g} days"
    return "an hour" if hours == 1 else f"{hours:g} hours"


def _facts(view: ShipmentView, delivery: TrackingEvent) -> dict[str, str]:
    """What the customer may read: where it was left (if the carrier said), and how long to
    give it and the claim window only when the store promised them (seed 000: 'after a
    day'; 004: 'Wait 24 hours'): an operator's wait still delays the case
    (rules.missing), unsaid. `claim_until` is for the report link, which lives as long as
    the check-in, promised or not."""
    location = delivery.delivery_location
    until = claim_window_end(view, delivery.occurred_at)
    promised = view.promised("delivered.claim_window_days")
    return {
        "left_at": LEFT_AT.get(location, "") if location else "",
        "wait": wait_words(view.policy.delivered.wait_hours)
        if view.promised("delivered.wait_hours")
        else "",
        "claim_window": window_words(view) if promised else "",
        "claim_by": view.calendar.due_date(until).isoformat() if promised else "",
        "claim_until": until.isoformat(),
    }


class _AfterDelivery(BaseRule):
    def deadline(self, view: ShipmentView) -> datetime | None:
        delivery = _delivery(view)
        return delivery.occurred_at if delivery else None

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]:
        delivery = _delivery(view)
        if delivery is None:
            return ()
        return delivery.occurred_at, view.once(_window_end)

    def _window(self, view: ShipmentView, now: datetime) -> TrackingEvent | None:
        """The delivery scan while its claim window is open at `now`."""
        delivery = _delivery(view)
        if delivery is None or now < delivery.occurred_at:
            return None
        return delivery if now < view.once(_window_end) else None


def _window_end(view: ShipmentView) -> datetime:
    """claim_window_end of the view's delivery (there is one)."""
    delivery = _delivery(view)
    assert delivery is not None
    return claim_window_end(view, delivery.occurred_at)


class Delivered(_AfterDelivery):
    name: ClassVar[str] = "delivered"

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        delivery = self._window(view, now)
        if delivery is None:
            return None
        location = delivery.delivery_location
        return Finding(
            rule=self.name,
            episode=delivery.occurred_at.isoformat(),
            severity=Severity.INFO,
            audiences=(Audience.CUSTOMER,),
            summary=f"{view.parcel()} was delivered",
            action="The customer is asked to tell us if it has not arrived.",
            explanation={
                "carrier says": view.scan_text(delivery),
                "left at": location.value.replace("_", " ") if location else "not stated",
                "claim window": _window_text(view, delivery.occurred_at),
                "policy": view.policy_name,
            },
            facts=_facts(view, delivery),
            due=delivery.occurred_at,
        )


def risks(view: ShipmentView, delivery: TrackingEvent) -> list[str]:
    policy = view.policy.delivered
    shipment = view.shipment
    found = []
    if delivery.delivery_location in policy.risky_locations:
        found.append(f"left at {delivery.delivery_location.value.replace('_', ' ')}")
    if not policy.flag_other_place:
        return found
    where = elsewhere(delivery.place, shipment.destination_city,
                      shipment.destination_postal_code, shipment.destination_country)  # fmt: skip
    return [*found, where] if where else found


def _risks(view: ShipmentView) -> list[str]:
    """risks of the view's delivery (there is one)."""
    delivery = _delivery(view)
    assert delivery is not None
    return risks(view, delivery)


# A risky delivery is a heads-up for staff, not a case: it ends two days after the scan (by
# then a missing parcel has been reported, which opens delivered_not_received), instead of
# staying open, and counted, for the whole claim window.
RISKY_FLAG = timedelta(hours=48)


class RiskyDelivery(_AfterDelivery):
    name: ClassVar[str] = "risky_delivery"

    def deadline(self, view: ShipmentView) -> datetime | None:
        delivery = _delivery(view)
        return delivery.occurred_at if delivery and view.once(_risks) else None

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]:
        delivery = _delivery(view)
        if delivery is None or not view.once(_risks):
            return ()
        return delivery.occurred_at, delivery.occurred_at + RISKY_FLAG

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        delivery = _delivery(view)
        if delivery is None or not delivery.occurred_at <= now < delivery.occurred_at + RISKY_FLAG:
            return None
        found = view.once(_risks)
        if not found:
            return None
        return Finding(
            rule=self.name,
            episode=delivery.occurred_at.isoformat(),
            severity=Severity.INFO,
            audiences=(Audience.STAFF,),
            summary=f"{view.parcel()} was delivered where parcels go missing: {'; '.join(found)}",
            action="Be ready for a 'not received' report; the carrier's proof of delivery helps.",
            explanation={
                "carrier says": view.scan_text(delivery),
                "risks": "; ".join(found),
                "risky locations": ", ".join(x.value for x in view.policy.delivered.risky_locations)
                + " (delivered.risky_locations)",
                "destination": f"{view.shipment.destination_city} "
                f"{view.shipment.destination_postal_code} {view.shipment.destination_country}".strip(),
                "claim window": _window_text(view, delivery.occurred_at),
                "policy": view.policy_name,
            },
            due=delivery.occurred_at,
        )
