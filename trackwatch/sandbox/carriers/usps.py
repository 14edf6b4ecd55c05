"""USPS Tracking 3.2 as the sandbox speaks it: the OAuth token endpoint and the v3r2 batch.

Bodies follow the published v3r2 spec (TrackingDetail, SuccessResponse/FailureResponse in a
207, ErrorMessage) and what USPS is observed to do: 404 items for numbers it has nothing on,
429 and 503 with Retry-After, 401 for an expired token. Items come back in reverse request
order, so a client that matches them by position fails here before it fails in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from trackwatch.clock import Clock
from trackwatch.sandbox.faults import bearer, reply_to_fault
from trackwatch.sandbox.world import Milestone, Parcel, World

CARRIER = "usps"
TOKEN_LIFETIME = 28799
API_VERSION = "/tracking/v3r2"
_ITEM_KEYS = frozenset({"trackingNumber", "mailingDate", "destinationZIPCode"})

# milestone kind → (eventCode, eventType); "" where USPS has no stable code.
MILESTONES: dict[str, tuple[str, str]] = {
    "label": ("GX", "Shipping Label Created, USPS Awaiting Item"),
    "picked_up": ("03", "USPS in possession of item"),
    "departed": ("T1", "Departed USPS Regional Facility"),
    "arrived": ("A1", "Arrived at USPS Regional Facility"),
    "in_transit": ("TL", "In Transit to Next Facility"),
    "out_for_delivery": ("OF", "Out for Delivery"),
    "delivered": ("01", "Delivered, Front Door/Porch"),
    "delayed": ("DX", "Delivery Status Not Updated"),
    "attempted": ("02", "Notice Left (No Authorized Recipient Available)"),
    "access_point": ("16", "Available for Pickup"),
    "customs_hold": ("", "Held in Customs"),
    "address_issue": ("21", "No Such Number"),
    "returned": ("09", "Return to Sender"),
    "damaged": ("", "Damaged"),
    "lost": ("11", "Dead Letter"),
    "undeliverable": ("", "Processing Exception"),
}
_CATEGORIES = {
    "label": "Pre-Shipment", "picked_up": "Accepted", "out_for_delivery": "Out for Delivery",
    "delivered": "Delivered", "attempted": "Delivery Attempt: Action Needed",
    "access_point": "Available for Pickup", "customs_hold": "Alert", "address_issue": "Alert",
    "returned": "Alert", "damaged": "Alert", "lost": "Alert", "undeliverable": "Alert",
}  # fmt: skip


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "error": {"code": code, "message": message, "errors": []}}


def _offset_text(local: datetime) -> str:
    """USPS prints the offset without zero padding: `-5:00`."""
    raw = local.strftime("%z")
    return f"{raw[0]}{int(raw[1:3])}:{raw[3:]}"


def _event(milestone: Milestone) -> dict[str, Any]:
    code, text = MILESTONES[milestone.kind]
    if milestone.kind == "delivered" and milestone.detail:
        text = f"Delivered, {milestone.detail}"
    local = milestone.local()
    place = milestone.place
    event: dict[str, Any] = {
        "eventType": text,
        "eventTimestamp": local.isoformat(timespec="seconds"),
        "GMTTimestamp": milestone.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "GMTOffset": _offset_text(local),
        "eventCity": (place.city or "").upper(),
        "eventState": place.state or "",
        "eventCountry": place.country or "",
    }
    if code:
        event["eventCode"] = code
    zip5 = (place.postal_code or "")[:5]
    if zip5.isdigit() and len(zip5) == 5:  # the spec allows only a 5-digit ZIP here
        event["eventZIPCode"] = zip5
    if milestone.kind == "delivered":
        event["recipientName"] = ""
    return event


def detail_body(parcel: Parcel, visible: list[Milestone]) -> dict[str, Any]:
    newest = visible[-1]
    events = [_event(m) for m in reversed(visible)]
    detail: dict[str, Any] = {
        "statusCode": "200",
        "trackingNumber": parcel.number,
        "mailClass": "USPS Ground Advantage",
        "mailType": "Domestic",
        "status": events[0]["eventType"],
        "statusCategory": _CATEGORIES.get(newest.kind, "In Transit"),
        "statusSummary": f"{events[0]['eventType']} in {events[0]['eventCity']}.",
        "uniqueTrackingID": f"{parcel.number}-{visible[0].at:%Y%m%d}",
        "trackingEvents": events,
    }
    if parcel.shipped_on is not None:
        detail["mailingDate"] = parcel.shipped_on.isoformat()
    if parcel.scheduled_delivery is not None:
        detail["deliveryDateExpectation"] = {
            "expectedDeliveryDate": parcel.scheduled_delivery.isoformat()
        }
    return detail


def not_found_item(number: str) -> dict[str, Any]:
    message = ("Tracking is not available for this item. This may be because the tracking "
               "number is invalid; USPS has not yet received the item; or other reasons.")  # fmt: skip
    return {"statusCode": "404", "trackingNumber": number, **error_body("404", message)}


def track_items(world: World, numbers: list[str], now: datetime) -> tuple[int, list[Any]]:
    """(HTTP status, body): 200 when every item was found, else a 207 mixing 404 items."""
    items: list[dict[str, Any]] = []
    for number in reversed(numbers):
        found = [(p, p.visible(now)) for p in world.all_parcels(CARRIER, number)]
        found = [(p, v) for p, v in found if v]
        items.extend(detail_body(p, v) for p, v in found)
        if not found:
            items.append(not_found_item(number))
    if all(item["statusCode"] == "200" for item in items):
        return 200, [{k: v for k, v in item.items() if k != "statusCode"} for item in items]
    return 207, items


def _fault_response(fault: str) -> web.Response | None:
    headers = {"Retry-After": "30"}
    if fault in ("429", "daily_quota"):
        body = error_body(
            "429",
            "Exceeded quota limit. Please contact https://emailus.usps.com/s/web-tools-inquiry and a representative will assist.",
        )
        return web.json_response(body, status=429, headers=headers)
    if fault == "503":
        return web.json_response(
            error_body("503", "Service Unavailable"), status=503, headers=headers
        )
    if fault == "malformed":
        return web.Response(status=200, text="[{", content_type="application/json")
    return None


def _bad_request(body: Any) -> str | None:
    if not isinstance(body, list) or not 1 <= len(body) <= 35:
        return "the body must be an array of 1 to 35 items"
    for item in body:
        if not isinstance(item, dict) or "trackingNumber" not in item:
            return "each item needs a trackingNumber"
        if set(item) - _ITEM_KEYS:
            return f"additional properties not allowed: {sorted(set(item) - _ITEM_KEYS)}"
    return None


def add_routes(app: web.Application, world: World, clock: Clock) -> None:
    async def token(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:token"] += 1
        body = await request.json()
        if body.get("grant_type") != "client_credentials" or not body.get("client_id"):
            return web.json_response({"error": "invalid_client",
                                      "error_description": "Client authentication failed."}, status=401)  # fmt: skip
        issued = clock.now()
        value = world.mint_token(
            CARRIER, issued + timedelta(seconds=world.token_seconds(TOKEN_LIFETIME))
        )
        return web.json_response({
            "access_token": value, "token_type": "Bearer",
            "issued_at": int(issued.timestamp() * 1000), "expires_in": world.token_seconds(TOKEN_LIFETIME),
            "status": "approved", "scope": "addresses tracking labels",
            "issuer": "https://keyc.usps.com/realms/USPS", "client_id": body["client_id"],
        })  # fmt: skip

    async def track(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:track"] += 1
        if (
            response := await reply_to_fault(world, CARRIER, _fault_response, clock.now())
        ) is not None:
            return response
        if not world.token_valid(CARRIER, bearer(request), clock.now()):
            return web.json_response(error_body("401", "Access token expired"), status=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="https://api.usps.com"'})  # fmt: skip
        body = await request.json()
        if (problem := _bad_request(body)) is not None:
            return web.json_response(error_body("400", problem), status=400)
        status, items = track_items(world, [i["trackingNumber"] for i in body], clock.now())
        return web.json_response(items, status=status)

    app.router.add_post("/oauth2/v3/token", token)
    app.router.add_post("/tracking/v3r2/tracking", track)
