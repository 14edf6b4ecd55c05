"""POST /webhooks/shopify/<store>: Shopify's fulfillments/create, fulfillments/update and
orders/fulfilled.

Shopify signs each delivery with HMAC-SHA256 over the raw body, base64 in
X-Shopify-Hmac-Sha256, keyed with the app's secret (the store's `shopify_secret`); it is
checked on the bytes as received, before any parsing. Shopify delivers at least once, so a
delivery whose X-Shopify-Webhook-Id was handled before is answered 200 and ignored.

A fulfillment carries one tracking company and one or more numbers (one per package). Each
number becomes a shipment, checked as every way in checks one (trackwatch.ingest); one that
cannot be watched (a carrier we do not support, a bad check digit) is listed in the answer
with every reason, field names as Shopify's, and logged (fields only: reasons can quote the
customer's data), and the others are still stored. Those are answered 200 all the same: a
non-2xx makes Shopify retry the same payload, which would fail the same way, and in the end
drop the subscription. What a fulfillment changes (cancelled, relabelled, delivered late
and out of order) is trackwatch.shopify.landing's.

`orders/fulfilled` carries the order with its fulfillments, which name neither the customer
nor the address: each fulfillment lands with the order's `email` and `shipping_address`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from aiohttp import web

from trackwatch.errors import InputError
from trackwatch.shopify.landing import Landed, land
from trackwatch.web.errors import ApiError, json_object
from trackwatch.web.report_page import ReportDesk

FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
ORDER_TOPICS = frozenset({"orders/fulfilled"})


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.digest(secret.encode(), body, hashlib.sha256)).decode()


def fulfillments_of_order(order: dict[str, Any]) -> list[dict[str, Any]]:
    """An order's fulfillments, each with the order's customer and address where it names
    none (as a `fulfillments/*` webhook would carry them)."""
    found = order.get("fulfillments")
    if not isinstance(found, list) or not all(isinstance(f, dict) for f in found):
        raise InputError("fulfillments", "must be a list of objects")
    address = order.get("shipping_address")
    if address is not None and not isinstance(address, dict):
        raise InputError("shipping_address", "must be an object or null")
    shared = {"email": order.get("email"), "destination": address}
    return [{**shared, **{k: v for k, v in f.items() if v is not None}} for f in found]


class ShopifyWebhook:
    def __init__(self, desk: ReportDesk) -> None:
        self._desk = desk

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/webhooks/shopify/{store}", self.receive)]

    def _verify(self, store: str, headers: Any, body: bytes) -> None:
        settings = self._desk.settings.stores.get(store)
        if settings is None or settings.shopify_secret is None:
            raise ApiError(404, "store", f"{store!r} takes no Shopify webhooks")
        given = headers.get("X-Shopify-Hmac-Sha256", "")
        expected = signature(settings.shopify_secret.get_secret_value(), body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "X-Shopify-Hmac-Sha256", "does not match the body")

    async def receive(self, request: web.Request) -> web.Response:
        store = request.match_info["store"]
        body = await request.read()
        self._verify(store, request.headers, body)
        topic = request.headers.get("X-Shopify-Topic", "")
        delivery = request.headers.get("X-Shopify-Webhook-Id", "")
        if not delivery:
            raise ApiError(400, "X-Shopify-Webhook-Id", "is missing")
        if topic in FULFILLMENT_TOPICS:
            landed = await self._land(store, json_object(body), f"shopify:{store}:{delivery}")
            if landed.applied is None:
                return web.json_response({"duplicate": True, "webhook_id": delivery})
            return web.json_response({"webhook_id": delivery, **landed.answer})
        if topic in ORDER_TOPICS:
            return await self._order(store, json_object(body), delivery)
        return web.json_response({"ignored": f"topic {topic!r} is not a fulfillment"})

    async def _order(self, store: str, order: dict[str, Any], delivery: str) -> web.Response:
        """Each fulfillment of an order, each under its own receipt (a delivery retried
        after a crash lands the ones it had not)."""
        fulfillments = fulfillments_of_order(order)
        answers: list[dict[str, Any]] = []
        for index, fulfillment in enumerate(fulfillments):
            receipt = f"shopify:{store}:{delivery}:{index}"
            landed = await self._land(store, fulfillment, receipt)
            answers.append({"id": fulfillment.get("id"), **landed.answer})
        if fulfillments and all(a.get("duplicate") for a in answers):
            return web.json_response({"duplicate": True, "webhook_id": delivery})
        return web.json_response({"webhook_id": delivery, "fulfillments": answers})

    async def _land(self, store: str, fulfillment: dict[str, Any], receipt: str) -> Landed:
        landed = await land(self._desk.store, self._desk.settings, self._desk.clock.now(),
                            store, fulfillment, receipt)  # fmt: skip
        if landed.changed_watching:
            self._desk.wake()
        return landed
