"""USPS Tracking 3.2 ("v3r2") answers → TrackingResult. Pure: no I/O, no clock.

Also reads a legacy v3 DETAIL object (one number, `eventZIP`/`name`), because the only USPS
payloads published with values are v3 ones. Times come from GMTTimestamp when USPS sends it;
else from eventTimestamp with GMTOffset; else eventTimestamp is local to the event's place
(USPS prints a `Z` on local times in its own examples, so a `Z` there is not trusted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from carriers import shape
from carriers.assemble import event as built_event
from carriers.assemble import in_order, overall_status, report_unmapped
from carriers.base import zone_of
from carriers.mapping import Mapping3
from carriers.memo import by_raw_fields
from carriers.text import clean, delivery_location, handed_over, states_delivery
from carriers.timeparse import (
    Stamp,
    TimeFormatError,
    end_of_day,
    parse_hms,
    parse_iso,
    parse_offset_value,
    parse_ymd,
)
from carriers.usps.codes import CATEGORIES, EVENT_CODES, NOT_FOUND
from trackwatch.errors import MalformedResponse
from trackwatch.model import ExceptionKind, Outcome, Place, Status, TrackingEvent, TrackingResult
from trackwatch.zones import zone_for

CARRIER = "usps"
_S, _E = Status, ExceptionKind

# Words in eventType when the code is unknown (or to refine customs and damage, which have
# no stable code), after a stated delivery or a handover (see _by_text). Order matters: the
# first match wins.
_TEXT: tuple[tuple[tuple[str, ...], Mapping3], ...] = (
    (("out for delivery",), (_S.OUT_FOR_DELIVERY, None, False)),
    (("available for pickup", "held at post office"), (_S.AVAILABLE_FOR_PICKUP, None, False)),
    (("notice left", "delivery attempt"), (_S.DELIVERY_ATTEMPTED, None, False)),
    (("return to sender", "returned to sender"), (_S.EXCEPTION, _E.RETURNED_TO_SENDER, False)),
    (("missing mail", "lost"), (_S.EXCEPTION, _E.LOST, False)),
    (("damage",), (_S.EXCEPTION, _E.DAMAGED, False)),
    (("label created", "pre-shipment", "awaiting item"), (_S.LABEL_CREATED, None, False)),
    (("in transit", "arrived", "departed", "processed", "accepted", "in possession",
      "picked up", "customs"), (_S.IN_TRANSIT, None, False)),
)  # fmt: skip
_HOLD_WORDS = ("held", "delay", "awaiting")


def _refine(mapped: Mapping3, text: str) -> Mapping3:
    """Customs holds and damage have no USPS code of their own: the words decide."""
    lowered = text.lower()
    if "customs" in lowered and any(word in lowered for word in _HOLD_WORDS):
        return (_S.EXCEPTION, _E.CUSTOMS_HOLD, mapped[2])
    if "damage" in lowered:
        return (_S.EXCEPTION, _E.DAMAGED, mapped[2])
    return mapped


def _by_text(text: str) -> Mapping3 | None:
    """ "Delivered" only where the words state a delivery ("will be delivered tomorrow" does
    not; "delivered to ... for final delivery" is a handover, still in transit)."""
    if handed_over(text):
        return (_S.IN_TRANSIT, None, False)
    if states_delivery(text):
        return (_S.DELIVERED, None, False)
    lowered = text.lower()
    for words, mapped in _TEXT:
        if any(lowered.startswith(w) or f" {w}" in lowered for w in words):
            return mapped
    return None


def _by_category(category: str) -> Mapping3 | None:
    lowered = category.lower()
    return next((m for prefix, m in CATEGORIES if lowered.startswith(prefix)), None)


def classify(code: str, text: str, category: str = "") -> Mapping3:
    """Code first; then the event's words; then the shipment's category (newest event only)."""
    mapped = EVENT_CODES.get(code) or _by_text(text) or _by_category(category)
    if mapped is None:
        report_unmapped(CARRIER, code[:40] or "-")
        return (_S.UNKNOWN, None, False)
    return _refine(mapped, text)


def _place(event: Mapping[str, Any]) -> Place:
    fields = (event.get("eventCity"), event.get("eventState"), event.get("eventZIPCode"),
              event.get("eventZIP"), event.get("eventCountry"))  # fmt: skip
    return _known_place(*fields)


def _place_of(
    city: object, state: object, zip_code: object, zip_v3: object, country: object
) -> Place:
    """A v3r2 event's place (`eventZIPCode`), or a legacy v3 one's (`eventZIP`); a state
    without a country is in the US."""
    state_text = clean(state) or None
    return Place(city=clean(city) or None, state=state_text,
                 postal_code=clean(zip_code) or clean(zip_v3) or None,
                 country=clean(country) or ("US" if state_text else None))  # fmt: skip


_known_place = by_raw_fields(_place_of)  # the same few places recur in every answer


def _stamp(event: Mapping[str, Any], place: Place, fallback: tzinfo) -> Stamp:
    gmt = clean(event.get("GMTTimestamp"))
    if gmt:
        return parse_iso(gmt, UTC)
    local = clean(event.get("eventTimestamp"))
    if not local:
        raise TimeFormatError("event has neither GMTTimestamp nor eventTimestamp")
    offset = event.get("GMTOffset")
    stamp = parse_iso(local, zone_of(place, fallback), trust_z=False)
    if offset in (None, "") or not stamp.zone_inferred or stamp.date_only:
        return stamp
    wall = parse_iso(local, UTC, trust_z=False).at  # the local wall time, read as if UTC
    return Stamp(wall - parse_offset_value(offset))


def _event(event: Mapping[str, Any], category: str, fallback: tzinfo) -> TrackingEvent:
    place = _place(event)
    try:
        stamp = _stamp(event, place, fallback)
    except TimeFormatError as exc:
        raise MalformedResponse(CARRIER, f"trackingEvents timestamp: {exc}") from None
    text = clean(event.get("eventType"))
    code = clean(event.get("eventCode"))
    status, kind, delayed = classify(code, text, category)
    delivered = status is _S.DELIVERED
    signer = clean(event.get("recipientName") or event.get("name"))
    return built_event(
        stamp.at, status, code or "-", text, place, exception=kind, delayed=delayed,
        delivery_location=delivery_location(text.partition(",")[2]) if delivered else None,
        signed_by=signer or None if delivered else None,
        zone_inferred=stamp.zone_inferred, date_only=stamp.date_only,
    )  # fmt: skip


def _day_end(text: str, window_end: str, zone: tzinfo) -> datetime | None:
    """A promised date (or date-time) as the instant it runs out."""
    try:
        if "T" in text or " " in text.strip():
            return parse_iso(text, zone).at
        day = parse_ymd(text)
    except TimeFormatError:
        return None  # "3 Business Days" and other text promises
    try:
        if window_end:
            return datetime.combine(day, parse_hms(window_end), tzinfo=zone).astimezone(UTC)
    except TimeFormatError:
        pass
    return end_of_day(day, zone)


def _eta(detail: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    """Predicted window's end, else predicted or expected date, else the guarantee."""
    expect = shape.obj(CARRIER, detail.get("deliveryDateExpectation"), "deliveryDateExpectation")
    merged = {**detail, **expect}
    window_end = clean(merged.get("predictedDeliveryWindowEndTime"))
    for key in ("predictedDeliveryTimeStamp", "predictedDeliveryDate", "expectedDeliveryTimeStamp",
                "expectedDeliveryDate", "guaranteedDeliveryTimeStamp", "guaranteedDeliveryDate"):  # fmt: skip
        value = clean(merged.get(key))
        if value and (eta := _day_end(value, window_end if "predicted" in key else "", zone)):
            return eta
    return None


def _destination_zone(detail: Mapping[str, Any], fallback: tzinfo) -> tzinfo:
    state = clean(detail.get("destinationState"))
    postal = clean(detail.get("destinationZIPCode") or detail.get("destinationZIP"))
    if state or postal:
        return zone_for(
            clean(detail.get("destinationCountry")) or "US", postal or None, state or None
        )
    return fallback


def parse_detail(detail: Mapping[str, Any], fallback: tzinfo = UTC) -> TrackingResult:
    number = clean(detail.get("trackingNumber"))
    category = clean(detail.get("statusCategory"))
    zone = _destination_zone(detail, fallback)
    raw = shape.objects(CARRIER, detail.get("trackingEvents"), "trackingEvents")
    # statusCategory describes the newest event, which USPS lists first.
    listed = [_event(e, category if i == 0 else "", zone) for i, e in enumerate(raw)]
    events = in_order(listed)
    status = overall_status(events)
    if not events:
        status = (_by_category(category) or (_S.UNKNOWN, None, False))[0]
    delivered = [e.occurred_at for e in events if e.status is _S.DELIVERED]
    intake = clean(detail.get("mailingDate") or detail.get("mailPieceIntakeDate"))
    try:
        ship_date = parse_ymd(intake[:10]) if intake else None
    except TimeFormatError:
        ship_date = None
    return TrackingResult(
        tracking_number=number,
        outcome=Outcome.FOUND,
        events=events,
        status=status,
        eta=_eta(detail, zone),
        delivered_at=delivered[-1] if delivered else None,
        unique_id=clean(detail.get("uniqueTrackingID") or detail.get("uniqueMailPieceId")) or None,
        ship_date=ship_date,
        message=clean(detail.get("statusSummary")) or None,
    )


def _failure(item: Mapping[str, Any]) -> TrackingResult:
    error = shape.obj(CARRIER, item.get("error"), "error")
    code = clean(item.get("statusCode")) or clean(error.get("code"))
    outcome = Outcome.NO_INFO_YET if code == NOT_FOUND else Outcome.INVALID
    return TrackingResult(tracking_number=clean(item.get("trackingNumber")), outcome=outcome,
                          message=clean(error.get("message")) or None)  # fmt: skip


def parse(payload: Any, zones: Mapping[str, tzinfo] | None = None) -> list[TrackingResult]:
    """Every item of a v3r2 200/207 array (or one v3 DETAIL object), in the order given."""
    zones = zones or {}
    if isinstance(payload, Mapping):
        if "TrackResults" in payload:
            raise MalformedResponse(
                CARRIER, "a v3 SUMMARY answer (one line of text); ask for DETAIL"
            )
        payload = [payload]
    results = []
    for item in shape.objects(CARRIER, payload, "response"):
        if "trackingNumber" not in item:
            raise MalformedResponse(CARRIER, "an item has no trackingNumber")
        if clean(item.get("statusCode")) not in ("", "200") or "error" in item:
            results.append(_failure(item))
        else:
            number = clean(item.get("trackingNumber"))
            results.append(parse_detail(item, zones.get(number, UTC)))
    return results
