"""What each stand-in carrier pushes when a scan happens, in the carrier's own shape, with its
own signature (trackwatch.web.push verifies them):

- UPS Track Alert: one `TrackingEventRequest` per scan (gmtOffset with a dot, `-04.00`);
- USPS: the `scanEventEx` envelope, its `payload` the TrackingDetail as a JSON string,
  `X-HMAC` = Base64 HMAC-SHA256(secret, timestamp + payload);
- DHL: `subscription.push` with the shipment (its events so far), the static header;
- FedEx AIV: `output.completeTrackResults[]` as Track answers, `fdx-signature` over the body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from carriers.push import b64_hmac
from trackwatch.sandbox.carriers import dhl as dhl_sandbox
from trackwatch.sandbox.carriers import fedex as fedex_sandbox
from trackwatch.sandbox.carriers import ups as ups_sandbox
from trackwatch.sandbox.carriers import usps as usps_sandbox
from trackwatch.sandbox.world import Milestone, Parcel


def ups_body(parcel: Parcel, milestone: Milestone) -> dict[str, Any]:
    kind, code, status_code, description = ups_sandbox.MILESTONES[milestone.kind]
    local = milestone.local()
    gmt = milestone.at.astimezone(UTC)
    offset = local.strftime("%z")
    place = milestone.place
    body: dict[str, Any] = {
        "trackingNumber": parcel.number,
        "localActivityDate": local.strftime("%Y%m%d"), "localActivityTime": local.strftime("%H%M%S"),
        "gmtActivityDate": gmt.strftime("%Y%m%d"), "gmtActivityTime": gmt.strftime("%H%M%S"),
        "gmtOffset": f"{offset[:3]}.{offset[3:]}",
        "activityLocation": {"city": place.city or "", "stateProvince": place.state or "",
                             "country": place.country or ""},
        "activityStatus": {"type": kind, "code": code, "description": description.strip(),
                           "descriptionCode": status_code},
    }  # fmt: skip
    if parcel.scheduled_delivery is not None:
        body["scheduledDeliveryDate"] = parcel.scheduled_delivery.strftime("%Y%m%d")
    if milestone.kind == "delivered":  # "blank until the delivery event occurs"
        body["activityLocation"]["postalCode"] = place.postal_code or ""
        body["actualDeliveryDate"] = local.strftime("%Y%m%d")
        body["actualDeliveryTime"] = local.strftime("%H%M%S")
    return body


def usps_envelope(parcel: Parcel, visible: list[Milestone], subscription_id: str,
                  secret: str, now: datetime) -> tuple[bytes, dict[str, str]]:  # fmt: skip
    """The body and headers of a USPS notification."""
    detail = usps_sandbox.detail_body(parcel, visible)
    detail.pop("statusCode", None)
    payload = json.dumps(detail)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    envelope = {"subscriptionId": subscription_id, "subscriptionType": "TRACKING",
                "timestamp": stamp, "payload": payload}  # fmt: skip
    return json.dumps(envelope).encode(), {"X-HMAC": b64_hmac(secret, (stamp + payload).encode())}


def dhl_message(link: str, parcels: list[tuple[Parcel, list[Milestone]]]) -> dict[str, Any]:
    return {"scope": "subscription.push", "self": link,
            "shipments": [dhl_sandbox.shipment_body(p, v) for p, v in parcels]}  # fmt: skip


def fedex_body(parcel: Parcel, visible: list[Milestone], now: datetime) -> dict[str, Any]:
    result = fedex_sandbox.track_result(parcel, visible)
    return {
        "outputMetaData": [{"timestamp": now.astimezone(UTC).isoformat(), "attempt": 1}],
        "output": {"completeTrackResults": [{"trackingNumber": parcel.number,
                                             "trackResults": [result]}]},
    }  # fmt: skip


def fedex_signed(body: dict[str, Any], token: str) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"fdx-signature": b64_hmac(token, raw)}
