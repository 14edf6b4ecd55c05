"""UPS Track Alert v2 webhook body → TrackingResult. Pure: no I/O, no clock.

One event per POST (`TrackingEventRequest`, ups-track-alert-openapi.yaml `webhooks`):
`trackingNumber` and `activityStatus` are required, "not every field will have a value".
The instant comes from gmtActivityDate + gmtActivityTime when UPS sends them; else the local
date and time with `gmtOffset`, which UPS writes with a dot (`-04.00`); else the local time
in the zone of the activity's place (and the event says the zone was inferred).
`activityStatus.descriptionCode` is Track's 3-digit `statusCode`, so an event reads exactly
as the same scan polled from Track does (the same code text, the same status).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from carriers.push import MalformedPush, PushMessage, load, obj, reading, text
from carriers.text import clean
from carriers.timeparse import (
    Stamp,
    TimeFormatError,
    combine,
    parse_hms,
    parse_offset_value,
    parse_ymd,
)
from carriers.ups.parse import classify
from trackwatch.model import Outcome, Place, Status, TrackingEvent, TrackingResult
from trackwatch.zones import zone_for

CARRIER = "ups"
TYPES = frozenset({"D", "I", "M", "MV", "U", "X"})


def _place(location: Mapping[str, Any]) -> Place:
    def field(key: str) -> str | None:
        return clean(location.get(key)) or None

    return Place(city=field("city"), state=field("stateProvince"),
                 postal_code=field("postalCode"), country=field("country"))  # fmt: skip


def _stamp(body: Mapping[str, Any], place: Place) -> Stamp:
    gmt_date, gmt_time = clean(body.get("gmtActivityDate")), clean(body.get("gmtActivityTime"))
    if gmt_date and gmt_time:
        return Stamp(datetime.combine(parse_ymd(gmt_date), parse_hms(gmt_time), tzinfo=UTC))
    local_date = clean(body.get("localActivityDate"))
    if not local_date:
        raise TimeFormatError("neither gmtActivityDate/Time nor localActivityDate")
    day = parse_ymd(local_date)
    local_time = clean(body.get("localActivityTime"))
    clock = parse_hms(local_time) if local_time else None
    offset = clean(body.get("gmtOffset"))
    if offset and clock is not None:
        wall = datetime.combine(day, clock, tzinfo=UTC)
        return Stamp(wall - parse_offset_value(offset))
    zone = zone_for(place.country, place.postal_code, place.state)
    return combine(day, clock, zone, inferred=True)


def _eta(body: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    """The scheduled date, at the end of that day where the parcel is going."""
    raw = clean(body.get("scheduledDeliveryDate"))
    if not raw:
        return None
    try:
        day = parse_ymd(raw)
    except TimeFormatError:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def read_event(body: Mapping[str, Any], destination: tzinfo | None = None) -> TrackingResult:
    """One event; `destination`: the zone its scheduled date is in (else the scan's)."""
    number = text(body.get("trackingNumber"), "trackingNumber").strip().upper()
    status = obj(body.get("activityStatus"), "activityStatus")
    kind = clean(status.get("type")).upper()
    if kind not in TYPES:
        raise MalformedPush("activityStatus.type", f"{kind!r} is not one of D, I, M, MV, U, X")
    place = _place(obj(body.get("activityLocation") or {}, "activityLocation"))
    try:
        stamp = _stamp(body, place)
    except TimeFormatError as exc:
        raise MalformedPush("gmtActivityDate", str(exc)) from None
    fields = {"type": kind, "code": status.get("code"), "description": status.get("description"),
              "statusCode": status.get("descriptionCode")}  # fmt: skip
    normalized, exception, delayed = classify(fields)
    code = "/".join(clean(fields[k]) or "-" for k in ("type", "code", "statusCode"))
    signer = clean(body.get("receivedBy"))
    event = TrackingEvent(
        occurred_at=stamp.at, status=normalized, code=code,
        description=clean(status.get("description")), place=place, exception=exception,
        delayed=delayed, zone_inferred=stamp.zone_inferred, date_only=stamp.date_only,
        signed_by=signer or None if normalized is Status.DELIVERED else None,
    )  # fmt: skip
    zone = destination or zone_for(place.country, place.postal_code, place.state)
    return TrackingResult(tracking_number=number, outcome=Outcome.FOUND, events=[event],
                          status=normalized, eta=_eta(body, zone),
                          delivered_at=stamp.at if normalized is Status.DELIVERED else None)  # fmt: skip


def read(body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
    """One Track Alert POST body."""
    data = obj(load(body), "body")
    number = clean(data.get("trackingNumber")).upper()
    with reading("body"):
        return PushMessage(results=[read_event(data, (zones or {}).get(number))])
