"""The ETA a late parcel is measured against: the carrier's, else the order's promised date,
else the store's promise (processing + transit window for the destination + peak season).

Processing is counted in business days at the store's origin (no shipping at weekends);
transit in the window's own unit at the destination. With an order date the promise runs
from it; without one it runs from the day the parcel shipped (processing is then behind it).

A customer may be told of the date only when every number that made it is the store's own
promise: the transit window, and, where they count, the processing days, shipping the next
day and a peak season's extra days (whose sentence the customer is then quoted: seed 002's
'During sale peak seasons there may be a delay up to 5 days').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rules.base import ShipmentView
from trackwatch.calendar import calendar_for


@dataclass(frozen=True)
class Eta:
    """A due date and where it comes from: `kind` is "carrier" (its estimate, which the
    customer sees on the tracking page too), "order" (the date given for this order) or
    "promise" (the store's delivery times); `citable` says whether a customer may be told
    of it: a store's delivery times only when they are its own promise."""

    at: datetime
    source: str
    lines: dict[str, str] = field(default_factory=dict)
    kind: str = "carrier"
    citable: bool = True
    peak: str = ""  # the store's words for a peak season's delay, when one lengthened it


def eta_for(view: ShipmentView) -> Eta | None:
    shipment = view.shipment
    if shipment.eta is not None:
        return Eta(shipment.eta, f"{view.carrier}'s estimated delivery")
    if shipment.promised_by is not None:
        return Eta(shipment.promised_by, "the date promised for this order", kind="order")
    return store_promise(view)


def _inputs(view: ShipmentView, peak: bool) -> list[str]:
    """The policy keys whose numbers make this parcel's due date."""
    keys = ["promise.transit"]
    if view.shipment.ordered_at is not None:
        keys.append("promise.processing_business_days")
        if view.policy.promise.ships_next_day:
            keys.append("promise.ships_next_day")
    return [*keys, "promise.peak_seasons"] if peak else keys


def _set_by(view: ShipmentView, keys: list[str]) -> str:
    """Whose numbers the date rests on: those the store did not promise, if any; else the
    store's delivery times, quoted, and the other promises by name."""
    missing = [key for key in keys if not view.promised(key)]
    if len(missing) > 1:
        return f"settings an operator chose ({', '.join(missing)}), not the store's promise"
    if missing:
        return view.source(missing[0])
    also = f"; also promised: {', '.join(keys[1:])}" if keys[1:] else ""
    return view.source(keys[0]) + also


def _ship_day(view: ShipmentView) -> tuple[date, str]:
    shipment = view.shipment
    promise = view.policy.promise
    if shipment.ordered_at is None:
        return view.calendar.local_date(shipment.shipped_at), "shipped"
    origin = calendar_for(shipment.carrier, view.policy.origin_country)
    days = promise.processing_business_days + (1 if promise.ships_next_day else 0)
    ordered = origin.local_date(shipment.ordered_at)
    return origin.nth_business_day(ordered, days), (
        f"ordered {ordered.isoformat()} + {days} business days of processing "
        f"(promise.processing_business_days{', ships_next_day' if promise.ships_next_day else ''})"
    )


def store_promise(view: ShipmentView) -> Eta | None:
    shipment = view.shipment
    promise = view.policy.promise
    domestic = shipment.destination_country == view.policy.origin_country
    window = promise.window_for(shipment.destination_country, domestic)
    if window is None:
        return None
    ship_day, how = _ship_day(view)
    if window.unit == "business":
        arrival = view.calendar.nth_business_day(ship_day, window.max_days)
    else:
        arrival = ship_day + timedelta(days=window.max_days)
    lines = {
        "ship day": f"{ship_day.isoformat()} ({how})",
        "transit window": f"{window.min_days}-{window.max_days} {window.unit} days to "
        f"{shipment.destination_country} (promise.transit: {', '.join(window.regions)})",
    }
    peak = promise.peak_for(ship_day)
    if peak is not None:
        arrival += timedelta(days=peak.extra_days)
        lines["peak season"] = f"+{peak.extra_days} days ({peak.start} to {peak.end})"
    keys = _inputs(view, peak is not None)
    lines["set by"] = _set_by(view, keys)
    citable = all(view.promised(key) for key in keys)
    words = view.policy.promised("promise.peak_seasons") if peak is not None else None
    return Eta(view.calendar.end_of(arrival), "the store's delivery promise", lines,
               kind="promise", citable=citable, peak=words or "")  # fmt: skip
