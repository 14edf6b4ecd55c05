"""UPS Track v1 response → TrackingResult. Pure: no I/O, no clock.

Timestamps come from gmtDate/gmtTime when UPS sends them; otherwise the local date/time is
placed in the zone of the activity's location and the event records that the zone was
inferred. A shipment with warning TW0001 and no package is "no information yet", which UPS
answers with HTTP 200 for unknown and for not-yet-scanned numbers alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from carriers import shape
from carriers.assemble import event as built_event
from carriers.assemble import in_order, overall_status, report_unmapped
from carriers.mapping import Mapping3
from carriers.memo import by_raw_fields
from carriers.text import clean, delivery_location, exception_kind
from carriers.timeparse import Stamp, TimeFormatError, combine, parse_hms, parse_offset, parse_ymd
from carriers.ups.codes import (
    ACTIVITY_CODES,
    ACTIVITY_TYPES,
    NOT_FOUND_WARNING,
    REFINE_BY_TEXT,
    STATUS_CODES,
    TYPE_FAMILIES,
)
from trackwatch.errors import MalformedResponse
from trackwatch.model import Outcome, Place, Status, TrackingEvent, TrackingResult
from trackwatch.zones import zone_for

CARRIER = "ups"
_PLACEHOLDER = "string"  # the spec's example values, which its schema example is full of


def _dict(value: Any, where: str) -> Mapping[str, Any]:
    return shape.obj(CARRIER, value, where)


def _list(value: Any, where: str) -> list[Any]:
    return shape.items(CARRIER, value, where)


def _place(location: Mapping[str, Any]) -> Place:
    address = _dict(location.get("address"), "activity.location.address")
    fields = (address.get("city"), address.get("stateProvince"), address.get("postalCode"),
              address.get("countryCode"), address.get("country"))  # fmt: skip
    return _known_place(*fields)


def _place_of(city: object, state: object, postal: object, code: object, country: object) -> Place:
    return Place(city=clean(city) or None, state=clean(state) or None,
                 postal_code=clean(postal) or None, country=clean(code) or clean(country) or None)  # fmt: skip


_known_place = by_raw_fields(_place_of)  # the same few places recur in every answer


def _zone(place: Place) -> tzinfo:
    return zone_for(place.country, place.postal_code, place.state)


def _stamp(activity: Mapping[str, Any], place: Place) -> Stamp:
    gmt_date, gmt_time = activity.get("gmtDate"), activity.get("gmtTime")
    if gmt_date and gmt_time:
        instant = datetime.combine(parse_ymd(gmt_date), parse_hms(gmt_time), tzinfo=UTC)
        return Stamp(instant)
    day = parse_ymd(str(activity.get("date", "")))
    clock = parse_hms(activity["time"]) if activity.get("time") else None
    offset = activity.get("gmtOffset")
    if offset and clock is not None:
        local = datetime.combine(day, clock, tzinfo=UTC) - parse_offset(offset)
        return Stamp(local)
    return combine(day, clock, _zone(place), inferred=True)


def _fits(mapped: Mapping3, kind: str) -> bool:
    family = TYPE_FAMILIES.get(kind)
    return family is None or mapped[0] in family


def classify(status: Mapping[str, Any]) -> Mapping3:
    """The most specific code UPS gave wins (3-digit status code, then 2-letter code, then
    the activity type), unless it contradicts the activity type. Nothing known → unknown,
    never a guess of in_transit."""
    return _read_status(status)[0]


def _read_status(status: Mapping[str, Any]) -> tuple[Mapping3, str, str]:
    """A status's mapping, its codes as an event keeps them, and its description."""
    fields = (status.get("type"), status.get("code"), status.get("statusCode"),
              status.get("description"))  # fmt: skip
    return _known_status(*fields)


def _status_of(
    kind: object, code: object, status_code: object, description: object
) -> tuple[Mapping3, str, str]:
    codes = "/".join(clean(c) or "-" for c in (kind, code, status_code))
    text = clean(description)
    return _mapping(clean(status_code), clean(code).upper(), clean(kind).upper(), text), codes, text


_known_status = by_raw_fields(_status_of)  # the same few statuses recur in every answer


def _mapping(code3: str, code2: str, kind: str, description: str) -> Mapping3:
    if code3 in STATUS_CODES and _fits(STATUS_CODES[code3], kind):
        mapped = STATUS_CODES[code3]
        if code3 in REFINE_BY_TEXT:
            mapped = (mapped[0], exception_kind(description), mapped[2])
        return mapped
    if code2 in ACTIVITY_CODES and _fits(ACTIVITY_CODES[code2], kind):
        return ACTIVITY_CODES[code2]
    if kind in ACTIVITY_TYPES:
        mapped = ACTIVITY_TYPES[kind]
        if mapped[0] is Status.EXCEPTION and mapped[1] is None:
            mapped = (mapped[0], exception_kind(description), mapped[2])
        return mapped
    report_unmapped(CARRIER, f"{kind}/{code2}/{code3}"[:60])
    return (Status.UNKNOWN, None, False)


def _event(activity: Mapping[str, Any]) -> TrackingEvent:
    status = _dict(activity.get("status"), "activity.status")
    place = _place(_dict(activity.get("location"), "activity.location"))
    try:
        stamp = _stamp(activity, place)
    except (TimeFormatError, KeyError) as exc:
        raise MalformedResponse(CARRIER, f"activity date/time: {exc}") from None
    (normalized, kind, delayed), code, description = _read_status(status)
    return built_event(
        stamp.at, normalized, code, description, place, exception=kind,
        delayed=delayed, zone_inferred=stamp.zone_inferred, date_only=stamp.date_only,
    )  # fmt: skip


def _eta(package: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    """Rescheduled date if any, else scheduled; at the window's end or the end of the day."""
    dates = {
        clean(d.get("type")).upper(): clean(d.get("date"))
        for d in _list(package.get("deliveryDate"), "deliveryDate")
        if isinstance(d, Mapping)
    }
    raw = dates.get("RDD") or dates.get("SDD")
    if not raw:
        return None
    try:
        day = parse_ymd(raw)
    except TimeFormatError:
        return None
    window = _dict(package.get("deliveryTime"), "deliveryTime")
    end = clean(window.get("endTime"))
    try:
        if clean(window.get("type")).upper() in {"EDW", "CDW", "IDW", "CMT"} and end:
            return datetime.combine(day, parse_hms(end), tzinfo=zone).astimezone(UTC)
    except TimeFormatError:
        pass
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def _destination_zone(package: Mapping[str, Any], fallback: tzinfo) -> tzinfo:
    for entry in _list(package.get("packageAddress"), "packageAddress"):
        if isinstance(entry, Mapping) and clean(entry.get("type")).upper() == "DESTINATION":
            return _zone(_place(entry))
    return fallback


def _with_delivery(events: list[TrackingEvent], package: Mapping[str, Any]) -> list[TrackingEvent]:
    """Attach where the parcel was left and who signed to the newest delivery scan."""
    info = _dict(package.get("deliveryInformation"), "deliveryInformation")
    delivered = [i for i, e in enumerate(events) if e.status is Status.DELIVERED]
    if not info or not delivered:
        return events
    signer = clean(info.get("receivedBy"))
    update = {
        "delivery_location": delivery_location(clean(info.get("location"))),
        "signed_by": signer if signer and signer != _PLACEHOLDER else None,
    }
    index = delivered[-1]
    return [*events[:index], events[index].model_copy(update=update), *events[index + 1 :]]


def _photo(package: Mapping[str, Any]) -> bool:
    info = _dict(package.get("deliveryInformation"), "deliveryInformation")
    photo = _dict(info.get("deliveryPhoto"), "deliveryPhoto")
    return bool(clean(photo.get("photo"))) or clean(photo.get("photoCaptureInd")).upper() == "Y"


def parse_package(package: Mapping[str, Any], number: str, zone: tzinfo) -> TrackingResult:
    activities = _list(package.get("activity"), "package.activity")
    events = in_order([_event(_dict(a, "activity")) for a in activities])
    events = _with_delivery(events, package)
    status = overall_status(events)
    if not events:
        status = classify(_dict(package.get("currentStatus"), "currentStatus"))[0]
    delivered = [e.occurred_at for e in events if e.status is Status.DELIVERED]
    return TrackingResult(
        tracking_number=number,
        outcome=Outcome.FOUND,
        events=events,
        status=status,
        eta=_eta(package, _destination_zone(package, zone)),
        delivered_at=delivered[-1] if delivered else None,
        photo_available=_photo(package),
    )


def _number(value: Any, fallback: str) -> str:
    text = clean(value)
    return text if text and text != _PLACEHOLDER else fallback


def parse(
    payload: Mapping[str, Any], requested: str = "", zone: tzinfo = UTC
) -> list[TrackingResult]:
    """Every package in a Track response; `requested` names results UPS leaves unnamed."""
    track = _dict(_dict(payload, "body").get("trackResponse"), "trackResponse")
    if "shipment" not in track:
        raise MalformedResponse(CARRIER, "trackResponse.shipment is missing")
    results: list[TrackingResult] = []
    for raw_shipment in _list(track.get("shipment"), "trackResponse.shipment"):
        shipment = _dict(raw_shipment, "shipment")
        inquiry = _number(shipment.get("inquiryNumber"), requested)
        packages = _list(shipment.get("package"), "shipment.package")
        for raw_package in packages:
            package = _dict(raw_package, "package")
            number = _number(package.get("trackingNumber"), inquiry)
            results.append(parse_package(package, number, zone))
        if not packages:
            warnings = [_dict(w, "warning") for w in _list(shipment.get("warnings"), "warnings")]
            codes = {clean(w.get("code")) for w in warnings}
            message = "; ".join(clean(w.get("message")) for w in warnings) or None
            if NOT_FOUND_WARNING not in codes:
                raise MalformedResponse(CARRIER, f"shipment without package or TW0001: {codes}")
            results.append(
                TrackingResult(
                    tracking_number=inquiry, outcome=Outcome.NO_INFO_YET, message=message
                )
            )
    return results
