"""DHL Shipment Tracking – Unified – Push messages → TrackingResults and controls. Pure.

Every message names its subscription in `self` (…/subscription/{id}) and its `scope`:
`subscription.validate` (with the `secret` to activate with), `subscription.activate`,
`subscription.ready`, `subscription.delete`, and `subscription.push`, whose `shipments[]`
(several per message) are the Unified Tracking API's shipment objects, read by the poll's
parser. (The scopes and the shape come from DHL's Postman collection and three clients'
code, not from the OpenAPI text, which could not be read: CARRIER-PUSH.md §4.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from carriers.dhl.parse import parse_shipment
from carriers.push import Control, MalformedPush, PushMessage, load, obj, reading, text
from trackwatch.model import TrackingResult

SCOPES = frozenset({"subscription.validate", "subscription.activate", "subscription.ready",
                    "subscription.delete", "subscription.push"})  # fmt: skip


def subscription_id_of(message: Mapping[str, Any]) -> str:
    link = text(message.get("self"), "self").rstrip("/")
    found = link.rpartition("/")[2]
    if not found:
        raise MalformedPush("self", "names no subscription")
    return found


def _shipment(shipment: Mapping[str, Any], zones: Mapping[str, tzinfo]) -> TrackingResult:
    """A shipment object; its local times without an offset are the destination's."""
    return parse_shipment(shipment, zones.get(str(shipment.get("id", "")), UTC))


def read(body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
    data = obj(load(body), "body")
    scope = text(data.get("scope"), "scope")
    if scope not in SCOPES:
        raise MalformedPush("scope", f"{scope!r} is not a subscription scope")
    sid = subscription_id_of(data)
    if scope == "subscription.validate":
        secret = text(data.get("secret"), "secret")
        return PushMessage(controls=[Control("validate", sid, secret)])
    if scope != "subscription.push":
        return PushMessage(controls=[Control(scope.rpartition(".")[2], sid)])
    shipments = data.get("shipments")
    if not isinstance(shipments, list) or not shipments:
        raise MalformedPush("shipments", "must be a non-empty list")
    with reading("shipments"):
        results = [_shipment(obj(s, "shipments[]"), zones or {}) for s in shipments]
    return PushMessage(results=results, subscription_id=sid)
