"""USPS Subscriptions – Tracking v3r2 notification → TrackingResult. Pure: no I/O, no clock.

The envelope (`scanEventEx`, spec path POST /notifications) carries `subscriptionId`,
`subscriptionType`, `timestamp` and `payload`, a JSON *string* (the receiver verifies
X-HMAC over `timestamp` + `payload` before this reads it). The payload is a Tracking
Subscription Event, the same TrackingDetail the Tracking API answers (`trackingEvents[]`
with `GMTTimestamp`, `GMTOffset` like `-5:00`), so it is read by the poll's parser. A
Detailed Scan event (MID subscriptions only) carries one `trackingEvent` object instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from carriers.push import MalformedPush, PushMessage, obj, text
from carriers.usps.parse import parse_detail
from trackwatch.errors import MalformedResponse

CARRIER = "usps"


def envelope_of(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedPush("body", f"is not JSON ({exc})") from None
    return dict(obj(data, "body"))


def read(body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
    envelope = envelope_of(body)
    for key in ("subscriptionId", "timestamp"):
        text(envelope.get(key), key)
    raw = text(envelope.get("payload"), "payload")
    try:
        payload = dict(obj(json.loads(raw), "payload"))
    except ValueError as exc:
        raise MalformedPush("payload", f"is not a JSON string ({exc})") from None
    text(payload.get("trackingNumber"), "payload.trackingNumber")
    single = payload.pop("trackingEvent", None)
    if single is not None and "trackingEvents" not in payload:
        payload["trackingEvents"] = [single]
    try:
        number = str(payload.get("trackingNumber", "")).strip()
        result = parse_detail(payload, (zones or {}).get(number, UTC))
    except MalformedResponse as exc:
        raise MalformedPush("payload", exc.message) from None
    return PushMessage(results=[result])
