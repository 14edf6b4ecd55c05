"""UPS's API as the sandbox speaks it: token and Track endpoints in UPS's own shapes.

Bodies follow the published spec (Tracking.yaml TrackApiResponse, OAuthClientCredentials
tokenSuccessResponse) and the behaviour UPS is observed to have: 200 + TW0001 for numbers it
knows nothing of, 401 with 250002/251004 for bad or expired tokens, 429 with code 10429 and
no Retry-After.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from trackwatch.clock import Clock
from trackwatch.sandbox.faults import bearer, reply_to_fault
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.zones import zone_for

CARRIER = "ups"
TOKEN_LIFETIME = 14399

# milestone kind → (activity type, 2-letter code, 3-digit status code, description)
MILESTONES: dict[str, tuple[str, str, str, str]] = {
    "label": ("M", "MP", "003", "Shipper created a label, UPS has not received the package yet. "),
    "picked_up": ("I", "OR", "038", "Picked up by UPS"),
    "departed": ("I", "DP", "005", "Departed from Facility"),
    "arrived": ("I", "AR", "005", "Arrived at Facility"),
    "in_transit": ("I", "IT", "005", "On the Way"),
    "out_for_delivery": ("I", "OT", "021", "Out For Delivery Today"),
    "delivered": ("D", "FS", "011", "DELIVERED "),
    "delayed": ("I", "HA", "048", "Delay"),
    "attempted": ("X", "", "022", "First Attempt"),
    "access_point": ("D", "", "161", "Delivered to UPS Access Point"),
    "customs_hold": ("X", "EU", "058", "Clearance Information Needed"),
    "address_issue": ("X", "", "050", "Address Information Required"),
    "returned": ("X", "H8", "035", "Returning to Sender"),
    "damaged": ("X", "", "059", "Damage Reported"),
    "lost": ("X", "", "068", "Sent to Lost and Found"),
    "undeliverable": ("X", "", "013", "Exception"),
}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"response": {"errors": [{"code": code, "message": message}]}}


def not_found_body(number: str) -> dict[str, Any]:
    warning = {"code": "TW0001", "message": "Tracking Information Not Found"}
    return {"trackResponse": {"shipment": [{"inquiryNumber": number, "warnings": [warning]}]}}


def _activity(milestone: Milestone) -> dict[str, Any]:
    kind, code, status_code, description = MILESTONES[milestone.kind]
    place = milestone.place
    zone = zone_for(place.country, place.postal_code, place.state)
    local = milestone.at.astimezone(zone)
    gmt = milestone.at.astimezone(UTC)
    offset = local.strftime("%z")
    status = {"type": kind, "description": description, "statusCode": status_code}
    if code:
        status["code"] = code
    address = {"city": place.city or "", "stateProvince": place.state or "",
               "postalCode": place.postal_code or "", "countryCode": place.country or "",
               "country": place.country or ""}  # fmt: skip
    return {
        "date": local.strftime("%Y%m%d"),
        "time": local.strftime("%H%M%S"),
        "gmtDate": gmt.strftime("%Y%m%d"),
        "gmtTime": gmt.strftime("%H:%M:%S"),
        "gmtOffset": f"{offset[:3]}:{offset[3:]}",
        "location": {"address": address},
        "status": status,
    }


def track_body(parcel: Parcel, now: datetime) -> dict[str, Any]:
    visible = parcel.visible(now)
    if not visible:
        return not_found_body(parcel.number)
    activities = [_activity(m) for m in reversed(visible)]  # UPS lists newest first
    package: dict[str, Any] = {
        "trackingNumber": parcel.number,
        "activity": activities,
        "currentStatus": {k: v for k, v in activities[0]["status"].items() if k != "type"},
        "packageCount": 1,
    }
    if parcel.scheduled_delivery is not None:
        package["deliveryDate"] = [
            {"type": "SDD", "date": parcel.scheduled_delivery.strftime("%Y%m%d")}
        ]
    last = visible[-1]
    if last.kind == "delivered":
        package["deliveryInformation"] = {"location": last.detail or "Front Door", "receivedBy": ""}
    return {"trackResponse": {"shipment": [{"inquiryNumber": parcel.number, "package": [package]}]}}


def _fault_response(fault: str) -> web.Response | None:
    if fault in ("429", "daily_quota"):
        return web.json_response(error_body("10429", "Too Many Requests"), status=429)
    if fault == "503":
        return web.json_response(error_body("10004", "Service unavailable"), status=503)
    if fault == "malformed":
        return web.Response(status=200, text="{not json", content_type="application/json")
    if fault == "403":  # the Track spec's "Blocked Merchant": the account itself is refused
        return web.json_response(error_body("10403", "Blocked Merchant"), status=403)
    return None


def add_routes(app: web.Application, world: World, clock: Clock) -> None:
    async def token(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:token"] += 1
        auth = request.headers.get("Authorization", "")
        form = await request.post()
        if not auth.startswith("Basic ") or form.get("grant_type") != "client_credentials":
            return web.json_response(error_body("10401", "ClientId is Invalid"), status=401)
        client_id = base64.b64decode(auth[6:]).decode().partition(":")[0]
        world.calls[f"{CARRIER}:token:{client_id}"] += 1
        if (CARRIER, client_id) in world.refused_clients:
            return web.json_response(error_body("10401", "ClientId is Invalid"), status=401)
        issued = clock.now()
        value = world.mint_token(
            CARRIER, issued + timedelta(seconds=world.token_seconds(TOKEN_LIFETIME))
        )
        return web.json_response({
            "token_type": "Bearer", "issued_at": str(int(issued.timestamp() * 1000)),
            "client_id": client_id, "access_token": value, "scope": "",
            "expires_in": str(world.token_seconds(TOKEN_LIFETIME)), "refresh_count": "0", "status": "approved",
        })  # fmt: skip

    async def details(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:track"] += 1
        if not request.headers.get("transId") or not request.headers.get("transactionSrc"):
            return web.json_response(error_body("TV1001", "Missing transId or transactionSrc"),
                                     status=400)  # fmt: skip
        if (
            response := await reply_to_fault(world, CARRIER, _fault_response, clock.now())
        ) is not None:
            return response
        state = world.token_state(CARRIER, bearer(request), clock.now())
        if state == "expired":
            return web.json_response(error_body("251004", "Bearer token expired"), status=401)
        if state == "unknown":
            return web.json_response(error_body("250002", "Invalid Authentication Information."),
                                     status=401)  # fmt: skip
        number = request.match_info["number"]
        parcel = world.parcel(CARRIER, number)
        if parcel is None:
            return web.json_response(not_found_body(number))
        return web.json_response(track_body(parcel, clock.now()))

    app.router.add_post("/security/v1/oauth/token", token)
    app.router.add_get("/api/track/v1/details/{number}", details)
