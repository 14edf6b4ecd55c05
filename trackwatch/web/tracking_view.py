"""What the tracking page says about each parcel, from its scans and the store's policy: the
status in plain words, the due date the customer may be told of (rules.promise: the carrier's
estimate, the order's date, or the store's delivery times when all of them are its promise),
and what happens next in the store's own words only (its `[promises]` and `[remedies]`).
Pure: no I/O, `now` given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from carriers.assemble import label_cutoff
from carriers.names import label
from rules.base import ShipmentView
from rules.exceptions import current
from rules.promise import eta_for
from trackwatch.calendar import calendar_for
from trackwatch.config import StoreSettings
from trackwatch.model import Direction, Shipment, Status, TrackingEvent
from trackwatch.notify.links import tracking_url
from trackwatch.notify.render import long_day

# {carrier} is the carrier's name as people write it.
STATUS_WORDS = {
    Status.LABEL_CREATED: "The label is ready; {carrier} has not scanned the parcel yet.",
    Status.IN_TRANSIT: "On its way with {carrier}.",
    Status.OUT_FOR_DELIVERY: "Out for delivery.",
    Status.AVAILABLE_FOR_PICKUP: "Waiting for you to collect it from {carrier}.",
    Status.DELIVERY_ATTEMPTED: "{carrier} tried to deliver it, but could not.",
    Status.EXCEPTION: "{carrier} reports a problem with this parcel.",
    Status.DELIVERED: "Delivered.",
    Status.UNKNOWN: "{carrier} has no tracking information for it yet.",
}
# A problem the carrier reports, by its kind (rules.exceptions.KINDS' keys).
PROBLEM_WORDS = {
    "address_issue": "{carrier} cannot deliver it to the address as given.",
    "returned_to_sender": "{carrier} is returning it to {store}.",
    "customs_hold": "Held at customs.",
    "damaged": "{carrier} reports that it was damaged.",
    "undeliverable": "{carrier} cannot deliver it as things stand.",
}
# The store's promises that say what happens next, per stage of the journey.
PICKUP_KEYS = ("pickup.business_days",)
DELIVERED_KEYS = ("delivered.wait_hours", "delivered.claim_window_days")
LATE_KEYS = ("late.grace_business_days", "late.escalate_after_hours")


@dataclass(frozen=True)
class ParcelView:
    """One parcel as the customer sees it; `next_steps` are the store's own sentences."""

    carrier: str
    tracking_number: str
    carrier_url: str
    returning: bool
    status: str
    last_update: str
    due: str
    next_steps: list[str] = field(default_factory=list)


def _view(
    shipment: Shipment, events: Sequence[TrackingEvent], store: StoreSettings
) -> ShipmentView:
    calendar = calendar_for(
        shipment.carrier, shipment.destination_country, shipment.destination_postal_code
    )
    cutoff = label_cutoff(shipment.shipped_at.date())  # scans of an earlier parcel, as judged
    ours = [e for e in events if e.occurred_at >= cutoff]
    return ShipmentView(shipment, ours, store.policy, store.name, calendar)


def _last_update(view: ShipmentView) -> str:
    event = view.last_event
    if event is None:
        return ""
    local = event.occurred_at.astimezone(view.calendar.zone)
    where = event.place.city or ""
    at = f" in {where.title()}" if where else ""
    return f"{event.description}{at}, {long_day(local)} at {local:%H:%M}"


def _due(view: ShipmentView) -> str:
    """The due date the customer may be told of, or "" (delivered, none, or not citable)."""
    if view.delivered:
        return ""
    eta = eta_for(view)
    if eta is None or not eta.citable:
        return ""
    day = long_day(view.calendar.due_date(eta.at))
    if eta.kind == "carrier":
        return f"{view.carrier} expects to deliver it by {day}."
    if eta.kind == "order":
        return f"Due by {day}, the date given for your order."
    words = view.policy.promised("promise.transit") or ""
    peak = f"; “{eta.peak}”" if eta.peak else ""
    return f"Due by {day}, by {view.policy_name}'s delivery times (“{words}”{peak})."


def _quotes(view: ShipmentView, keys: Sequence[str]) -> list[str]:
    return [words for key in keys if (words := view.policy.promised(key))]


def _stall_key(view: ShipmentView) -> str:
    if view.in_customs_phase:
        return "stall.customs_business_days"
    if view.international:
        return "stall.international_business_days"
    return "stall.domestic_business_days"


def next_steps(view: ShipmentView, now: datetime) -> list[str]:
    """The store's own sentences about what happens next at this stage, none it did not
    write: a problem's terms (remedies), a delivered parcel's wait and claim window, a late
    one's grace, a quiet one's stall threshold, a label not yet scanned."""
    if view.shipment.direction is Direction.RETURN:
        return []
    found = current(view)
    if found is not None and found[0].remedy:
        words = view.remedy(found[0].key)
        return [words] if words else []
    if view.delivered:
        return [*_quotes(view, DELIVERED_KEYS), *filter(None, [view.remedy(
            "delivered_not_received")])]  # fmt: skip
    if not view.has_real_scan:
        return _quotes(view, PICKUP_KEYS)
    eta = eta_for(view)
    if eta is not None and eta.citable and now >= eta.at:
        return _quotes(view, LATE_KEYS)
    return _quotes(view, (_stall_key(view),))


def parcel_view(
    shipment: Shipment, events: Sequence[TrackingEvent], store: StoreSettings, now: datetime
) -> ParcelView:
    view = _view(shipment, events, store)
    carrier = label(shipment.carrier)
    return ParcelView(
        carrier=carrier,
        tracking_number=shipment.tracking_number,
        carrier_url=tracking_url(shipment.carrier, shipment.tracking_number),
        returning=shipment.direction is Direction.RETURN,
        status=status_words(view, store.name),
        last_update=_last_update(view),
        due=_due(view),
        next_steps=next_steps(view, now),
    )


def status_words(view: ShipmentView, store_name: str) -> str:
    """The parcel's status as a sentence: a problem by its kind, a return by where it goes."""
    shipment, carrier = view.shipment, view.carrier
    if shipment.direction is Direction.RETURN and shipment.status is Status.DELIVERED:
        return f"Delivered back to {store_name}."
    found = current(view) if not view.delivered else None
    if found is not None and found[0].key in PROBLEM_WORDS:
        return PROBLEM_WORDS[found[0].key].format(carrier=carrier, store=store_name)
    return STATUS_WORDS[shipment.status].format(carrier=carrier)
