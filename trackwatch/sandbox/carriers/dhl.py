"""DHL Shipment Tracking – Unified as the sandbox speaks it: GET /track/shipments.

Bodies follow the published 1.5.8 spec (TrackingShipments; RFC 7807 problems): local times
without an offset, `statusCode` from its five values with the detail in words, 404 problem
for unknown numbers, the observed 429 body (DHL's own body does not say whether the second
or the day ran out).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from trackwatch.clock import Clock
from trackwatch.model import Place
from trackwatch.sandbox.faults import reply_to_fault
from trackwatch.sandbox.world import Milestone, Parcel, World

CARRIER = "dhl"
PROBLEM = "application/problem+json"

MILESTONES: dict[str, tuple[str, str]] = {
    "label": ("unknown", "LABEL CREATED"),
    "picked_up": ("transit", "PACKAGE RECEIVED AT DHL ECOMMERCE DISTRIBUTION CENTER"),
    "departed": ("transit", "DEPARTED FROM FACILITY"),
    "arrived": ("transit", "ARRIVED AT DHL ECOMMERCE FACILITY"),
    "in_transit": ("transit", "PROCESSED"),
    "out_for_delivery": ("transit", "OUT FOR DELIVERY"),
    "delivered": ("delivered", "DELIVERED"),
    "delayed": ("transit", "SHIPMENT DELAYED"),
    "attempted": ("failure", "DELIVERY ATTEMPTED - RECIPIENT NOT AT HOME"),
    "access_point": ("transit", "READY FOR PICK-UP AT PARCEL SHOP"),
    "customs_hold": ("failure", "HELD BY CUSTOMS"),
    "address_issue": ("failure", "ADDRESS INCORRECT - DELIVERY NOT POSSIBLE"),
    "returned": ("transit", "RETURNED TO SENDER"),
    "damaged": ("failure", "SHIPMENT DAMAGED"),
    "lost": ("failure", "SHIPMENT COULD NOT BE LOCATED"),
    "undeliverable": ("failure", "SHIPMENT ON HOLD"),
}


def problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
    body = {"title": title, "status": status, "detail": detail, **extra}
    return web.json_response(body, status=status, content_type=PROBLEM)


def _address(place: Place) -> dict[str, Any]:
    locality = ", ".join(p for p in (place.city, place.state, place.country) if p)
    return {"address": {"countryCode": place.country or "", "postalCode": place.postal_code or "",
                        "addressLocality": locality}}  # fmt: skip


def _event(milestone: Milestone) -> dict[str, Any]:
    code, text = MILESTONES[milestone.kind]
    if milestone.kind == "delivered" and milestone.detail:
        text = f"DELIVERED - {milestone.detail.upper()}"
    return {"timestamp": milestone.local().strftime("%Y-%m-%dT%H:%M:%S"),
            "location": _address(milestone.place), "statusCode": code, "status": text}  # fmt: skip


def shipment_body(parcel: Parcel, visible: list[Milestone]) -> dict[str, Any]:
    events = [_event(m) for m in reversed(visible)]
    body: dict[str, Any] = {
        "id": parcel.number, "service": "ecommerce",
        "origin": _address(visible[0].place), "destination": _address(parcel.destination),
        "status": events[0], "details": {"product": {"productName": "DHL Parcel Intl Standard"}},
        "events": events, "returnFlag": visible[-1].kind == "returned",
    }  # fmt: skip
    if parcel.shipped_on is not None:
        body["pickUpDate"] = f"{parcel.shipped_on.isoformat()}T12:00:00"
    if parcel.scheduled_delivery is not None:
        body["estimatedTimeOfDelivery"] = parcel.scheduled_delivery.isoformat()
    return body


def _fault_response(fault: str) -> web.Response | None:
    if fault in ("429", "daily_quota"):
        return problem(
            429,
            "Too Many Requests",
            "Too many requests within defined time period, please try again later.",
        )
    if fault == "503":
        return problem(503, "Service Unavailable", "The service is temporarily unavailable.")
    if fault == "expire_token":
        return problem(401, "Unauthorized", "Invalid API key.")
    if fault == "malformed":
        return web.Response(status=200, text='{"shipments": [', content_type="application/json")
    return None


def add_routes(app: web.Application, world: World, clock: Clock) -> None:
    async def shipments(request: web.Request) -> web.Response:
        world.calls[f"{CARRIER}:track"] += 1
        if not request.headers.get("DHL-API-Key"):
            return problem(401, "Unauthorized", "API key is missing.")
        if (
            response := await reply_to_fault(world, CARRIER, _fault_response, clock.now())
        ) is not None:
            return response
        number = request.query.get("trackingNumber", "")
        found = [(p, p.visible(clock.now())) for p in world.all_parcels(CARRIER, number)]
        bodies = [shipment_body(p, v) for p, v in found if v]
        if not bodies:
            return problem(404, "No result found", "No shipment with given tracking number found.",
                           instance=f"/shipment/{number}")  # fmt: skip
        return web.json_response({"url": str(request.rel_url), "shipments": bodies})

    app.router.add_get("/track/shipments", shipments)
