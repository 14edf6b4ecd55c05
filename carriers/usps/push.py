"""USPS Subscriptions – Tracking v3r2 notification → TrackingResult. Pure: no I/O, no clock.

The envelope (`scanEventEx`, spec path POST /notifications) carries `subscriptionId`,
`subscriptionType`, `timestamp` and `payload`, a JSON *string* (the receiver verifies
X-HMAC over `timestamp` + `payload` before this reads it). The payload is a Tracking
Subscription Event, the same TrackingDetail the Tracking API answers (`trackingEvents[]`
with `GMTTimestamp`, `GMTOffset` like `-5:00`), so it is read by the poll's parser. A
Detailed Scan event (MID subscriptions only) carries one `trackingEvent` object instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from carriers.push import PushMessage, load, obj, reading, text
from carriers.usps.parse import parse_detail

CARRIER = "usps"


def envelope_of(body: bytes) -> dict[str, Any]:
    return dict(obj(load(body), "body"))


def read(body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
    envelope = envelope_of(body)
    sid = text(envelope.get("subscriptionId"), "subscriptionId")
    text(envelope.get("timestamp"), "timestamp")
    raw = text(envelope.get("payload"), "payload")
    payload = dict(obj(load(raw, "payload"), "payload"))
    text(payload.get("trackingNumber"), "payload.trackingNumber")
    single = payload.pop("trackingEvent", None)
    if single is not None and "trackingEvents" not in payload:
        payload["trackingEvents"] = [single]
    with reading("payload"):
        number = str(payload.get("trackingNumber", "")).strip()
        result = parse_detail(payload, (zones or {}).get(number, UTC))
    return PushMessage(results=[result], subscription_id=sid)
