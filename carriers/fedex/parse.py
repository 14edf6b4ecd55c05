"""FedEx Track v1 answers → TrackingResult. Pure: no I/O, no clock.

Scans carry ISO times, usually with an offset; one without (FedEx puts a midnight
placeholder on pickup scans) is local to the scan's place and counts as a date only.
Promised dates are written as local midnight ("2024-04-26T00:00:00-06:00", the spec's own
example form) and mean the whole day at the destination. A
number FedEx reused comes back as several trackResults, each with its own uniqueId and ship
date; all are returned and the client picks ours. A per-number `error` inside the 200 is a
result (no information yet, or invalid), not a failure of the call; beside scan data (the
spec allows both) it is kept as the result's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from carriers import shape
from carriers.assemble import event as built_event
from carriers.assemble import in_order, overall_status, report_unmapped
from carriers.base import zone_of
from carriers.fedex.codes import (
    ATTEMPT_EXCEPTIONS,
    EVENT_TYPES,
    LOCATION_TYPES,
    NOT_FOUND,
    REDIRECT_EXCEPTIONS,
)
from carriers.mapping import Mapping3
from carriers.memo import by_raw_fields
from carriers.text import clean, delivery_location, exception_kind
from carriers.timeparse import Stamp, TimeFormatError, parse_iso, parse_ymd, promise_end
from trackwatch.errors import MalformedResponse
from trackwatch.model import (
    DeliveryLocation,
    Outcome,
    Place,
    Status,
    TrackingEvent,
    TrackingResult,
)

CARRIER = "fedex"
_S = Status


def classify(event_type: str, exception_code: str, text: str) -> Mapping3:
    mapped = EVENT_TYPES.get(event_type)
    if mapped is None:
        report_unmapped(CARRIER, event_type[:40] or "-")
        return (_S.UNKNOWN, None, False)
    if event_type == "DE" and exception_code in ATTEMPT_EXCEPTIONS:
        return (_S.DELIVERY_ATTEMPTED, None, False)
    if event_type == "DE" and exception_code in REDIRECT_EXCEPTIONS:
        return (_S.AVAILABLE_FOR_PICKUP, None, False)
    if mapped[0] is _S.EXCEPTION and event_type in ("DE", "SE"):
        return (_S.EXCEPTION, exception_kind(text), mapped[2])
    return mapped


def _place(location: Mapping[str, Any]) -> Place:
    fields = (location.get("city"), location.get("stateOrProvinceCode"),
              location.get("postalCode"), location.get("countryCode"))  # fmt: skip
    return _known_place(*fields)


def _place_of(city: object, state: object, postal: object, country: object) -> Place:
    return Place(city=clean(city) or None, state=clean(state) or None,
                 postal_code=clean(postal) or None, country=clean(country) or None)  # fmt: skip


_known_place = by_raw_fields(_place_of)  # the same few places recur in every answer


def _stamp(text: str, place: Place, fallback: tzinfo) -> Stamp:
    stamp = parse_iso(text, zone_of(place, fallback))
    if stamp.zone_inferred and stamp.at.astimezone(zone_of(place, fallback)).time() == time(0):
        # FedEx's offset-less midnight is a placeholder for "some time that day".
        return Stamp(stamp.at, zone_inferred=True, date_only=True)
    return stamp


def _event(scan: Mapping[str, Any], fallback: tzinfo) -> TrackingEvent:
    place = _place(shape.obj(CARRIER, scan.get("scanLocation"), "scanEvents.scanLocation"))
    try:
        stamp = _stamp(clean(scan.get("date")), place, fallback)
    except TimeFormatError as exc:
        raise MalformedResponse(CARRIER, f"scanEvents.date: {exc}") from None
    (status, kind, delayed), code, description = _what(scan)
    return built_event(
        stamp.at, status, code, description, place, exception=kind, delayed=delayed,
        zone_inferred=stamp.zone_inferred, date_only=stamp.date_only,
    )  # fmt: skip


def _what(scan: Mapping[str, Any]) -> tuple[Mapping3, str, str]:
    """A scan's mapping, its codes as the event keeps them, and its description."""
    fields = (scan.get("eventType"), scan.get("exceptionCode"), scan.get("eventDescription"),
              scan.get("exceptionDescription"))  # fmt: skip
    return _known_what(*fields)


def _what_of(
    event_type: object, exception_code: object, description: object, detail: object
) -> tuple[Mapping3, str, str]:
    kind, exception, words, more = (clean(event_type).upper(), clean(exception_code),
                                    clean(description), clean(detail))  # fmt: skip
    mapped = classify(kind, exception, f"{words} {more}")
    code = f"{kind}/{exception}" if exception else kind or "-"
    return mapped, code, f"{words}: {more}" if more else words


_known_what = by_raw_fields(_what_of)  # the same few scans recur in every answer


def _dates(result: Mapping[str, Any]) -> dict[str, str]:
    entries = shape.objects(CARRIER, result.get("dateAndTimes"), "dateAndTimes")
    return {clean(d.get("type")).upper(): clean(d.get("dateTime")) for d in entries}


def _window_end(result: Mapping[str, Any], key: str) -> str:
    window = shape.obj(CARRIER, shape.obj(CARRIER, result.get(key), key).get("window"), key)
    return clean(window.get("ends"))


def _eta(result: Mapping[str, Any], fallback: tzinfo) -> datetime | None:
    """The estimated window's end, else the estimated delivery, else the standard window;
    a date (local midnight) runs to the end of that day at the destination."""
    dates = _dates(result)
    zone = _destination_zone(result, fallback)
    for text in (_window_end(result, "estimatedDeliveryTimeWindow"), dates.get("ESTIMATED_DELIVERY", ""),
                 _window_end(result, "standardTransitTimeWindow")):  # fmt: skip
        if text:
            try:
                return promise_end(text, zone, midnight_is_date=True)
            except TimeFormatError:
                continue
    return None


def _destination_zone(result: Mapping[str, Any], fallback: tzinfo) -> tzinfo:
    """Where the parcel is going, as FedEx last knew it (a redirect updates it), else where
    the label sent it, else the shipment's own destination (`fallback`)."""
    recipient = shape.obj(CARRIER, result.get("recipientInformation"), "recipientInformation")
    location = shape.obj(CARRIER, result.get("destinationLocation"), "destinationLocation")
    contact = shape.obj(CARRIER, location.get("locationContactAndAddress"), "destinationLocation")
    candidates = (("lastUpdatedDestinationAddress", result.get("lastUpdatedDestinationAddress")),
                  ("recipientInformation.address", recipient.get("address")),
                  ("destinationLocation.address", contact.get("address")))  # fmt: skip
    for where, address in candidates:
        place = _place(shape.obj(CARRIER, address, where))
        if place.country or place.state or place.postal_code:
            return zone_of(place, fallback)
    return fallback


def _delivery(result: Mapping[str, Any]) -> dict[str, Any]:
    details = shape.obj(CARRIER, result.get("deliveryDetails"), "deliveryDetails")
    kind = clean(details.get("locationType")).upper()
    where: DeliveryLocation | None = LOCATION_TYPES.get(kind)
    if where is None:
        where = delivery_location(
            clean(details.get("locationDescription")) or kind.replace("_", " ")
        )
    signer = clean(details.get("receivedByName")) or clean(details.get("signedByName"))
    if kind == "RESIDENCE" and _named(signer):
        # RESIDENCE is the kind of address; a receiver's name says it was handed over.
        where = DeliveryLocation.WITH_INDIVIDUAL
    return {"delivery_location": where, "signed_by": signer or None}


def _named(receiver: str) -> bool:
    """A person's name, not words for nobody in particular ("Signature not required")."""
    lowered = receiver.lower()
    return bool(receiver) and not any(w in lowered for w in ("not required", "no signature"))


def _with_delivery(events: list[TrackingEvent], result: Mapping[str, Any]) -> list[TrackingEvent]:
    delivered = [i for i, e in enumerate(events) if e.status is _S.DELIVERED]
    if not delivered:
        return events
    index = delivered[-1]
    return [
        *events[:index],
        events[index].model_copy(update=_delivery(result)),
        *events[index + 1 :],
    ]


def _running_late(events: list[TrackingEvent], result: Mapping[str, Any]) -> list[TrackingEvent]:
    """FedEx says "running late" on the shipment (derived RL, a DELAYED delay detail)."""
    latest = shape.obj(CARRIER, result.get("latestStatusDetail"), "latestStatusDetail")
    delay = shape.obj(CARRIER, latest.get("delayDetail"), "delayDetail")
    late = (
        clean(latest.get("derivedCode")).upper() == "RL"
        or clean(delay.get("status")).upper() == "DELAYED"
    )
    if not late or not events or events[-1].status is _S.DELIVERED:
        return events
    return [*events[:-1], events[-1].model_copy(update={"delayed": True})]


def _photo(result: Mapping[str, Any]) -> bool:
    images = shape.objects(CARRIER, result.get("availableImages"), "availableImages")
    return any(
        "PICTURE" in clean(i.get("type")).upper() or "PHOTO" in clean(i.get("type")).upper()
        for i in images
    )


def _error_result(number: str, error: Mapping[str, Any]) -> TrackingResult:
    code = clean(error.get("code")).upper()
    outcome = Outcome.NO_INFO_YET if NOT_FOUND in code or "INVALID" not in code else Outcome.INVALID
    return TrackingResult(tracking_number=number, outcome=outcome, message=_error_text(error))


def _error_text(error: Mapping[str, Any]) -> str | None:
    return clean(error.get("message")) or clean(error.get("code")).upper() or None


def parse_result(result: Mapping[str, Any], number: str, zone: tzinfo = UTC) -> TrackingResult:
    """One trackResult. An `error` alone is the number's outcome; beside scans or a status
    (the spec allows both) the data is kept and the error becomes the message."""
    error = shape.obj(CARRIER, result.get("error"), "trackResults.error")
    scans = shape.objects(CARRIER, result.get("scanEvents"), "scanEvents")
    latest = shape.obj(CARRIER, result.get("latestStatusDetail"), "latestStatusDetail")
    latest_code = clean(latest.get("code")).upper()
    if error and not (scans or latest_code):
        return _error_result(number, error)
    info = shape.obj(CARRIER, result.get("trackingNumberInfo"), "trackingNumberInfo")
    events = _running_late(
        _with_delivery(in_order([_event(s, zone) for s in scans]), result), result
    )
    status = overall_status(events)
    if not events:
        status = classify(latest_code, "", clean(latest.get("description")))[0]
    ship = _dates(result).get("SHIP", "")
    try:
        ship_date = parse_ymd(ship[:10]) if ship else None
    except TimeFormatError:
        ship_date = None
    delivered = [e.occurred_at for e in events if e.status is _S.DELIVERED]
    return TrackingResult(
        tracking_number=clean(info.get("trackingNumber")) or number, outcome=Outcome.FOUND,
        events=events, status=status, eta=_eta(result, zone),
        delivered_at=delivered[-1] if delivered else None, photo_available=_photo(result),
        unique_id=clean(info.get("trackingNumberUniqueId")) or None, ship_date=ship_date,
        message=_error_text(error) if error else None,
    )  # fmt: skip


def parse(payload: Any, zones: Mapping[str, tzinfo] | None = None) -> list[TrackingResult]:
    """Every trackResult of every completeTrackResult, named by the number asked for."""
    zones = zones or {}
    body = shape.obj(CARRIER, payload, "body")
    output = shape.obj(CARRIER, body.get("output"), "output")
    if "completeTrackResults" not in output:
        raise MalformedResponse(CARRIER, "output.completeTrackResults is missing")
    results: list[TrackingResult] = []
    for complete in shape.objects(CARRIER, output["completeTrackResults"], "completeTrackResults"):
        number = clean(complete.get("trackingNumber"))
        if not number:
            raise MalformedResponse(CARRIER, "a completeTrackResult has no trackingNumber")
        for result in shape.objects(CARRIER, complete.get("trackResults"), "trackResults"):
            parsed = parse_result(result, number, zones.get(number, UTC))
            if parsed.tracking_number != number:
                parsed = parsed.model_copy(update={"tracking_number": number})
            results.append(parsed)
    return results
