"""FedEx Track v1 as the sandbox speaks it: /oauth/token and the batch track endpoint.

Bodies follow the published spec (TrkcResponseVO_TrackingNumber; the CXSError envelope) and
FedEx's observed habits: a per-number error inside a 200 for numbers it has nothing on,
several trackResults for a reused number, NOT.AUTHORIZED.ERROR for an expired token, and a
429 that names the daily quota when that is what ran out.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from trackwatch.clock import Clock
from trackwatch.sandbox.faults import bearer, reply_to_fault
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.zones import zone_for

CARRIER = "fedex"
TOKEN_LIFETIME = 3599

# milestone kind → (eventType, eventDescription, exceptionCode, exceptionDescription,
# derivedStatusCode)
MILESTONES: dict[str, tuple[str, str, str, str, str]] = {
    "label": ("OC", "Shipment information sent to FedEx", "", "", "IN"),
    "picked_up": ("PU", "Picked up", "", "", "PU"),
    "departed": ("DP", "Departed FedEx location", "", "", "IT"),
    "arrived": ("AR", "Arrived at FedEx location", "", "", "IT"),
    "in_transit": ("IT", "On the way", "", "", "IT"),
    "out_for_delivery": ("OD", "On FedEx vehicle for delivery", "", "", "IT"),
    "delivered": ("DL", "Delivered", "", "", "DL"),
    "delayed": ("DY", "Delay", "A52", "Package delayed", "DY"),
    "attempted": (
        "DE",
        "Delivery exception",
        "08",
        "Customer not available or business closed",
        "DE",
    ),
    "access_point": ("HP", "Ready for recipient pickup", "", "", "IT"),
    "customs_hold": ("CD", "Clearance delay", "", "International shipment release - Import", "DE"),
    "address_issue": ("DE", "Delivery exception", "03", "Incorrect recipient address", "DE"),
    "returned": ("RS", "Return to shipper", "", "", "DE"),
    "damaged": ("SE", "Shipment exception", "", "Package damaged", "DE"),
    "lost": ("SE", "Shipment exception", "", "Unable to locate package", "DE"),
    "undeliverable": ("SE", "Shipment exception", "", "Shipment held, delivery not possible", "DE"),
}


def errors_body(code: str, message: str) -> dict[str, Any]:
    return {"transactionId": str(uuid.uuid4()), "errors": [{"code": code, "message": message}]}


def _location(milestone: Milestone) -> dict[str, Any]:
    place = milestone.place
    return {"city": (place.city or "").upper(), "stateOrProvinceCode": place.state or "",
            "postalCode": place.postal_code or "", "countryCode": place.country or "",
            "residential": False}  # fmt: skip


def _scan(milestone: Milestone) -> dict[str, Any]:
    kind, text, exc_code, exc_text, derived = MILESTONES[milestone.kind]
    return {
        "date": milestone.local().isoformat(timespec="seconds"), "eventType": kind,
        "eventDescription": text, "exceptionCode": exc_code, "exceptionDescription": exc_text,
        "scanLocation": _location(milestone), "derivedStatusCode": derived, "derivedStatus": text,
    }  # fmt: skip


def track_result(parcel: Parcel, visible: list[Milestone]) -> dict[str, Any]:
    scans = [_scan(m) for m in reversed(visible)]
    newest = scans[0]
    shipped = parcel.shipped_on or visible[0].local().date()
    result: dict[str, Any] = {
        "trackingNumberInfo": {"trackingNumber": parcel.number, "carrierCode": "FDXG",
                               "trackingNumberUniqueId": f"12028~{parcel.number}~FDEG~{shipped:%Y%m%d}"},
        "latestStatusDetail": {"code": newest["eventType"], "derivedCode": newest["derivedStatusCode"],
                               "statusByLocale": newest["eventDescription"],
                               "description": newest["eventDescription"],
                               "scanLocation": newest["scanLocation"]},
        "dateAndTimes": [{"type": "SHIP", "dateTime": f"{shipped.isoformat()}T00:00:00-06:00"}],
        "scanEvents": scans,
    }  # fmt: skip
    if parcel.scheduled_delivery is not None:
        # FedEx states the window in the destination's local time.
        zone = zone_for(parcel.destination.country, parcel.destination.postal_code)
        ends = datetime.combine(parcel.scheduled_delivery, time(23, 59, 59), zone).isoformat()
        result["estimatedDeliveryTimeWindow"] = {"window": {"ends": ends}}
    if visible[-1].kind == "delivered":
        result["dateAndTimes"].append({"type": "ACTUAL_DELIVERY", "dateTime": scans[0]["date"]})
        result["deliveryDetails"] = {"receivedByName": "", "locationType": "RESIDENCE",
                                     "deliveryAttempts": "0"}  # fmt: skip
    return result


def not_found_result(number: str) -> dict[str, Any]:
    message = "Tracking number cannot be found. Please correct the tracking number and try again."
    return {"trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": ""},
            "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": message}}  # fmt: skip


def _in_range(parcel: Parcel, info: dict[str, Any]) -> bool:
    shipped = parcel.shipped_on or (parcel.timeline[0].local().date() if parcel.timeline else None)
    begin, end = info.get("shipDateBegin"), info.get("shipDateEnd")
    if shipped is None or not begin or not end:
        return True
    return date.fromisoformat(begin) <= shipped <= date.fromisoformat(end)


def track_body(world: World, infos: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    complete = []
    for info in reversed(infos):  # not in request order, on purpose
        number = info["trackingNumberInfo"]["trackingNumber"]
        found = [
            (p, p.visible(now)) for p in world.all_parcels(CARRIER, number) if _in_range(p, info)
        ]
        results = [track_result(p, v) for p, v in found if v] or [not_found_result(number)]
        complete.append({"trackingNumber": number, "trackResults": results})
    output: dict[str, Any] = {"completeTrackResults": complete}
    if any("error" in r for c in complete for r in c["trackResults"]):
        output["alerts"] = [{"code": "TRACKING.DATA.NOTFOUND", "alertType": "WARNING",
                             "message": "Tracking data unavailable"}]  # fmt: skip
    return {"transactionId": str(uuid.uuid4()), "output": output}


def _fault_response(fault: str) -> web.Response | None:
    if fault == "429":
        body = errors_body(
            "TOO.MANY.REQUESTS.ERROR",
            "We have received too many requests in a short duration. Please wait a while to try again.",
        )
        return web.json_response(body, status=429)
    if fault == "daily_quota":
        body = errors_body(
            "TOO.MANY.REQUESTS.ERROR", "Daily transaction quota exceeded. Retry after 12:00AM GMT"
        )
        return web.json_response(body, status=429)
    if fault == "503":
        body = errors_body(
            "SERVICE.UNAVAILABLE.ERROR",
            "The service is currently unavailable and we are working to resolve the issue.",
        )
        return web.json_response(body, status=503)
    if fault == "malformed":
        return web.Response(status=200, text='{"output": ', content_type="application/json")
    return None


def _bad_request(body: Any) -> str | None:
    infos = body.get("trackingInfo") if isinstance(body, dict) else None
    if not isinstance(infos, list) or not infos:
        return "Please provide tracking number."
    if len(infos) > 30 or body.get("includeDetailedScans") is not True:
        return "includeDetailedScans is required and at most 30 tracking numbers are allowed."
    return None


def add_routes(app: web.Application, world: World, clock: Clock) -> None:
    async def token(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:token"] += 1
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or not form.get("client_id"):
            return web.json_response(errors_body("NOT.AUTHORIZED.ERROR", "The given client credentials were not valid. Please modify your request and try again."), status=401)  # fmt: skip
        value = world.mint_token(
            CARRIER, clock.now() + timedelta(seconds=world.token_seconds(TOKEN_LIFETIME))
        )
        return web.json_response({"access_token": value, "token_type": "bearer",
                                  "expires_in": world.token_seconds(TOKEN_LIFETIME), "scope": "CXS-TP"})  # fmt: skip

    async def track(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:track"] += 1
        if (
            response := await reply_to_fault(world, CARRIER, _fault_response, clock.now())
        ) is not None:
            return response
        if not world.token_valid(CARRIER, bearer(request), clock.now()):
            body = errors_body(
                "NOT.AUTHORIZED.ERROR",
                "Access token expired. Please modify your request and try again.",
            )
            return web.json_response(body, status=401)
        body = await request.json()
        if (problem := _bad_request(body)) is not None:
            return web.json_response(
                errors_body("TRACKING.TRACKINGNUMBER.EMPTY", problem), status=400
            )
        return web.json_response(track_body(world, body["trackingInfo"], clock.now()))

    app.router.add_post("/oauth/token", token)
    app.router.add_post("/track/v1/trackingnumbers", track)
