"""DHL Shipment Tracking (Unified) answers → TrackingResult. Pure: no I/O, no clock.

DHL's times are local to the event's place when they carry no offset (its spec says so), and
its offsets may be written `+2:00`. A number can resolve in several DHL services; every
shipment is returned and the client picks ours by ship date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from carriers import shape
from carriers.assemble import event as built_event
from carriers.assemble import in_order, overall_status, report_unmapped
from carriers.dhl.codes import STATUS_CODES, TEXT_RULES
from carriers.mapping import Mapping3
from carriers.memo import by_raw_fields
from carriers.text import clean, delivery_location
from carriers.timeparse import TimeFormatError, parse_iso, parse_ymd, promise_end
from trackwatch.errors import MalformedResponse
from trackwatch.model import ExceptionKind, Outcome, Place, Status, TrackingEvent, TrackingResult
from trackwatch.zones import STATE_ZONES, iso_country, zone_for

CARRIER = "dhl"
_S = Status


@lru_cache(maxsize=4096)
def classify(status_code: str, text: str) -> Mapping3:
    """The mapping of a code and its words. Cached: DHL repeats the same few phrases in
    every answer, and each one is checked against every rule of TEXT_RULES."""
    lowered = text.lower()
    for codes, says, rule in TEXT_RULES:
        if (codes is None or status_code in codes) and says(lowered):
            return rule
    mapped = STATUS_CODES.get(status_code)
    if mapped is None:
        report_unmapped(CARRIER, status_code[:40] or "-")
        return (_S.UNKNOWN, None, False)
    return mapped


def _place(location: Mapping[str, Any]) -> Place:
    address = shape.obj(CARRIER, location.get("address"), "location.address")
    fields = (address.get("countryCode"), address.get("addressLocality"), address.get("postalCode"))
    return _known_place(*fields)


def _place_of(country_code: object, locality: object, postal: object) -> Place:
    """`addressLocality` is free text such as "Whittier, CA, US", "HEATHROW, GB" or, with the
    street first, "Oderweg 2, AMSTERDAM": after any state and country, the last part left is
    the city."""
    country = iso_country(clean(country_code)) or None
    parts = [p.strip() for p in clean(locality).split(",") if p.strip()]
    if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
        country = country or parts[-1].upper()
        parts = parts[:-1]
    state = parts[-1].upper() if len(parts) > 1 and parts[-1].upper() in STATE_ZONES else None
    if state:
        parts = parts[:-1]
    return Place(city=parts[-1] if parts else None, state=state,
                 postal_code=clean(postal) or None, country=country)  # fmt: skip


_known_place = by_raw_fields(_place_of)  # the same few places recur in every answer


# Where a postal code names a zone (trackwatch.zones: US ZIPs, Canadian and Australian
# codes); DHL's answers name no province or state outside the US, so a Vancouver or Perth
# scan is placed by its postal code (without it, Toronto's and Sydney's time).
POSTAL_ZONES = frozenset({None, "US", "CA", "AU"})


def _zone(place: Place, fallback: tzinfo) -> tzinfo:
    if not (place.country or place.state):
        return fallback
    postal = place.postal_code if place.country in POSTAL_ZONES else None
    return zone_for(place.country, postal, place.state)


def _text(event: Mapping[str, Any]) -> str:
    """The event's words, each said once, joined."""
    status = clean(event.get("status"))
    more = (event.get("statusDetailed"), event.get("description"))
    if more == (None, None):  # as most events come: no copy, no join
        return status
    parts = (status, clean(more[0]), clean(more[1]))
    return " / ".join(dict.fromkeys(p for p in parts if p))


def _event(event: Mapping[str, Any], fallback: tzinfo) -> TrackingEvent:
    place = _place(shape.obj(CARRIER, event.get("location"), "event.location"))
    try:
        stamp = parse_iso(clean(event.get("timestamp")), _zone(place, fallback))
    except TimeFormatError as exc:
        raise MalformedResponse(CARRIER, f"event timestamp: {exc}") from None
    status_code = clean(event.get("statusCode")).lower()
    text = _text(event)
    status, kind, delayed = classify(status_code, text)
    # Built, not validated: every field is a typed value this parser made (cleaned text, a
    # Place, an aware instant); validating them again was a tenth of DHL's parse time.
    return built_event(
        stamp.at, status, status_code or "-", text, place, exception=kind, delayed=delayed,
        delivery_location=delivery_location(text.partition("-")[2] or text) if status is _S.DELIVERED else None,
        zone_inferred=stamp.zone_inferred, date_only=stamp.date_only,
    )  # fmt: skip


def _eta(shipment: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    frame = shape.obj(
        CARRIER, shipment.get("estimatedDeliveryTimeFrame"), "estimatedDeliveryTimeFrame"
    )
    for text in (
        clean(frame.get("estimatedThrough")),
        clean(shipment.get("estimatedTimeOfDelivery")),
    ):
        if not text:
            continue
        try:
            return promise_end(text, zone)
        except TimeFormatError:
            continue
    return None


def _with_proof(events: list[TrackingEvent], details: Mapping[str, Any]) -> list[TrackingEvent]:
    proof = shape.obj(CARRIER, details.get("proofOfDelivery"), "proofOfDelivery")
    signed = shape.obj(CARRIER, proof.get("signed"), "proofOfDelivery.signed")
    delivered = [i for i, e in enumerate(events) if e.status is _S.DELIVERED]
    name = clean(signed.get("name") or signed.get("familyName"))
    if not delivered or not name:
        return events
    index = delivered[-1]
    return [
        *events[:index],
        events[index].model_copy(update={"signed_by": name}),
        *events[index + 1 :],
    ]


def _end_zone(shipment: Mapping[str, Any], end: str, fallback: tzinfo) -> tzinfo:
    """The zone of the shipment's origin or destination, when DHL names it."""
    place = _place(shape.obj(CARRIER, shipment.get(end), end))
    return _zone(place, fallback) if place.country else fallback


def parse_shipment(shipment: Mapping[str, Any], fallback: tzinfo = UTC) -> TrackingResult:
    number = clean(shipment.get("id"))
    zone = _end_zone(shipment, "destination", fallback)
    # An event without a place (label created, awaiting shipment) happened at the origin.
    origin = _end_zone(shipment, "origin", zone)
    raw = shape.objects(CARRIER, shipment.get("events"), "shipment.events")
    details = shape.obj(CARRIER, shipment.get("details"), "shipment.details")
    events = _with_proof(in_order([_event(e, origin) for e in raw]), details)
    if shipment.get("returnFlag") is True and events and events[-1].exception is None:
        events[-1] = events[-1].model_copy(
            update={"status": _S.EXCEPTION, "exception": ExceptionKind.RETURNED_TO_SENDER}
        )
    status = overall_status(events)
    if not events:
        latest = shape.obj(CARRIER, shipment.get("status"), "shipment.status")
        status = classify(clean(latest.get("statusCode")).lower(), _text(latest))[0]
    pickup = clean(shipment.get("pickUpDate"))
    delivered = [e.occurred_at for e in events if e.status is _S.DELIVERED]
    service = clean(shipment.get("service"))
    return TrackingResult(
        tracking_number=number, outcome=Outcome.FOUND, events=events, status=status,
        eta=_eta(shipment, zone), delivered_at=delivered[-1] if delivered else None,
        photo_available=False, unique_id=f"{service}:{number}" if service else number or None,
        ship_date=_date(pickup),
    )  # fmt: skip


def _date(text: str) -> date | None:
    try:
        return parse_ymd(text[:10]) if text else None
    except TimeFormatError:
        return None


def parse(payload: Any, requested: str = "", zone: tzinfo = UTC) -> list[TrackingResult]:
    """Every shipment in a 200 answer, named by the number asked for when DHL's id differs
    (DHL may answer with a piece or a customer-confirmation number)."""
    body = shape.obj(CARRIER, payload, "body")
    if "shipments" not in body:
        raise MalformedResponse(CARRIER, "shipments is missing")
    results = [
        parse_shipment(s, zone) for s in shape.objects(CARRIER, body["shipments"], "shipments")
    ]
    return [
        r if r.tracking_number == (requested or r.tracking_number)
        else r.model_copy(update={"tracking_number": requested})
        for r in results
    ]  # fmt: skip
