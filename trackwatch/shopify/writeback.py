"""Write-back (`[stores.<id>.shopify] write_back = true`): when a delay, exception,
delivered-not-received or lost case opens or closes on a parcel of a Shopify fulfillment,
a fulfillment event is recorded on it (`fulfillmentEventCreate`), so that the order status
page and the merchant's admin show it.

It is a notice like any other (channel `shopify.0`, audience staff: the merchant's own
admin), drafted with the alert in the judgement's transaction and delivered by the outbox,
with its lease, retries and dead letters. The notice's body is the mutation's input, fixed
when it is drafted: the fulfillment's GID, the status, `happenedAt` (the judgement's
instant) and the message.

Idempotency: Shopify's mutation takes no idempotency key, and a sender can die after Shopify
recorded the event but before the notice is marked sent; its lease runs out and the notice
is claimed again. So every attempt first reads the fulfillment's newest events and, if one
has the notice's status, `happenedAt` and message, marks the notice sent without writing.
The dedupe key lives in two places: the notice row (one per alert, change and channel, by
its idempotency key) and the event itself (its exact input). Recording "sent" before the
write instead would lose an event on every crash in between; this way a crash costs one
read, never a second event. (A write Shopify has taken but not yet shows on a read a
lease later would be written twice; a lease is minutes, Shopify's reads are not that far
behind.)

Status mapping (Shopify's FulfillmentEventStatus), opened:
- late, stalled: DELAYED
- exceptions: a missed delivery ATTEMPTED_DELIVERY, waiting at a pickup point
  READY_FOR_PICKUP, returned to sender FAILURE; customs, an address problem, damage or
  anything else that holds the parcel up DELAYED
- lost: FAILURE; delivered but reported not received: FAILURE
Closed: the parcel's status as the carrier last gave it (IN_TRANSIT, OUT_FOR_DELIVERY,
DELIVERED, READY_FOR_PICKUP, ATTEMPTED_DELIVERY, CONFIRMED for a label alone). A case ended
because another took it over (superseded, a new episode) writes nothing: the new one does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from trackwatch.clock import Clock
from trackwatch.config import Settings, ShopifyAdminSettings
from trackwatch.model import Audience, Notice, Shipment, Status
from trackwatch.shopify.admin_api import AdminApi, AdminApiError
from trackwatch.store.records import NoticeDraft

KIND = "shopify"
CHANNEL = f"{KIND}.0"
MESSAGE_MAX = 250
CASES = frozenset({"late", "stalled", "exceptions", "lost", "delivered_not_received"})
_EXCEPTIONS = {"delivery_attempted": "ATTEMPTED_DELIVERY",
               "available_for_pickup": "READY_FOR_PICKUP", "returned_to_sender": "FAILURE"}  # fmt: skip
_OPENED = {"late": "DELAYED", "stalled": "DELAYED", "lost": "FAILURE",
           "delivered_not_received": "FAILURE"}  # fmt: skip
_CLOSED = {Status.DELIVERED: "DELIVERED", Status.OUT_FOR_DELIVERY: "OUT_FOR_DELIVERY",
           Status.AVAILABLE_FOR_PICKUP: "READY_FOR_PICKUP",
           Status.DELIVERY_ATTEMPTED: "ATTEMPTED_DELIVERY", Status.LABEL_CREATED: "CONFIRMED"}  # fmt: skip
_SAYS = {
    "late": "running late: the delivery date given has passed",
    "stalled": "delayed: no movement reported by the carrier for a while",
    "lost": "the carrier could not locate the parcel",
    "delivered_not_received": "reported not received after delivery",
    "delivery_attempted": "the carrier attempted delivery",
    "available_for_pickup": "waiting at a pickup point",
    "returned_to_sender": "being returned to the sender",
    "customs_hold": "held in customs",
    "address_issue": "held up by an address problem",
    "damaged": "reported damaged by the carrier",
    "undeliverable": "held up by the carrier",
}  # fmt: skip
# Facts only, as the carrier or the customer gave them: what the store will do about it is
# the store's to say (a customer is told only what the store promised).
# A resolution that is no news for the order: another case took over and writes its own.
_TAKEN_OVER = ("superseded by", "a new episode began")


def _opened(rule: str, facts: dict[str, str]) -> tuple[str, str]:
    kind = facts.get("kind", "")
    status = _EXCEPTIONS.get(kind, "DELAYED") if rule == "exceptions" else _OPENED[rule]
    return status, _SAYS.get(kind if rule == "exceptions" else rule, "held up by the carrier")


def happened(now: datetime) -> str:
    """An instant as Shopify's DateTime gives it back (UTC, whole seconds)."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def drafts(settings: Settings, shipment: Shipment, rule: str, event: str,
           facts: dict[str, str], reason: str | None, now: datetime) -> tuple[NoticeDraft, ...]:  # fmt: skip
    """The write-back notice of a case opening (`event` "opened") or closing ("resolved"),
    if the store writes back and the parcel is a Shopify fulfillment's; else none."""
    store = settings.stores.get(shipment.store)
    gid = shipment.fulfillment_gid
    if store is None or not store.shopify.write_back or not gid or rule not in CASES:
        return ()
    if event == "opened":
        status, says = _opened(rule, facts)
    elif event == "resolved" and not (reason or "").startswith(_TAKEN_OVER):
        status = _CLOSED.get(shipment.status, "IN_TRANSIT")
        says = f"back on track: {reason}" if reason else "back on track"
    else:
        return ()
    parcel = f"{shipment.carrier.upper()} {shipment.tracking_number}"
    given = {"fulfillmentId": gid, "status": status, "happenedAt": happened(now),
             "message": f"{parcel}: {says}"[:MESSAGE_MAX]}  # fmt: skip
    title = f"Shopify order {shipment.order_id}: {status}"
    return (NoticeDraft(event, Audience.STAFF, CHANNEL, shipment.store, title,
                        json.dumps(given, sort_keys=True)),)  # fmt: skip


EVENTS = """query TrackwatchFulfillmentEvents($id: ID!) {
  fulfillment(id: $id) {
    status
    events(first: 50, reverse: true) { nodes { status happenedAt message } }
  }
}"""
CREATE = """mutation TrackwatchFulfillmentEvent($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status happenedAt }
    userErrors { field message }
  }
}"""
EVENTS_COST, CREATE_COST = 55, 10
MAX_WAIT = 30.0  # seconds a write waits for Shopify's bucket; longer: the notice is retried


@dataclass(frozen=True)
class Outcome:
    """How a write-back went: `error` None when the event is on the order (written now, or
    found written before); `final` when trying again cannot help."""

    error: str | None = None
    final: bool = False
    already: bool = False


def _same(event: Any, given: dict[str, Any]) -> bool:
    if not isinstance(event, dict):
        return False
    try:
        when = datetime.fromisoformat(str(event.get("happenedAt")))
    except ValueError:
        return False
    return (event.get("status") == given["status"] and event.get("message") == given["message"]
            and when == datetime.fromisoformat(given["happenedAt"]))  # fmt: skip


async def _write(api: AdminApi, given: dict[str, Any]) -> Outcome:
    found = await api.call(EVENTS, {"id": given["fulfillmentId"]}, EVENTS_COST)
    fulfillment = (found or {}).get("fulfillment")
    if fulfillment is None:
        return Outcome("the fulfillment is not in Shopify (deleted, or another shop's)", True)
    if any(_same(e, given) for e in fulfillment["events"]["nodes"]):
        return Outcome(already=True)  # an earlier attempt wrote it, then died
    data = await api.call(CREATE, {"fulfillmentEvent": given}, CREATE_COST)
    errors = ((data or {}).get("fulfillmentEventCreate") or {}).get("userErrors") or []
    if errors:
        return Outcome("Shopify refused the event: " +
                       "; ".join(str(e.get("message")) for e in errors), True)  # fmt: skip
    return Outcome()


async def deliver(settings: ShopifyAdminSettings | None, notice: Notice, clock: Clock) -> Outcome:
    """Record the notice's event on its fulfillment, unless it is there already."""
    if settings is None or not settings.configured:
        return Outcome("the store has no [shopify] shop_domain and access_token", True)
    try:
        given = json.loads(notice.body)
        if not isinstance(given, dict) or not given.get("fulfillmentId"):
            raise ValueError("no fulfillmentId")
    except ValueError:
        return Outcome("the notice holds no fulfillment event", True)
    try:
        async with aiohttp.ClientSession() as http:
            return await _write(AdminApi(settings, http, clock, MAX_WAIT, attempts=3), given)
    except AdminApiError as exc:
        return Outcome(f"Shopify: {exc}", not exc.transient)
