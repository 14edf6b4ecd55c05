"""POST /webhooks/shopify/<store>: Shopify's fulfillments/create and fulfillments/update.

Shopify signs each delivery with HMAC-SHA256 over the raw body, base64 in
X-Shopify-Hmac-Sha256, keyed with the app's secret (the store's `shopify_secret`); it is
checked on the bytes as received, before any parsing. Shopify delivers at least once, so a
delivery whose X-Shopify-Webhook-Id was handled before is answered 200 and ignored.

A fulfillment carries one tracking company and one or more numbers (one per package). Each
number becomes a shipment; one that cannot be watched (an unknown carrier, a bad check digit)
is listed in the answer and logged, and the others are still stored. Those are answered 200
all the same: a non-2xx makes Shopify retry the same payload, which would fail the same way,
and in the end drop the subscription.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web

from trackwatch.errors import InputError
from trackwatch.ingest import read_input, to_shipment
from trackwatch.model import Shipment
from trackwatch.web.errors import ApiError, json_object
from trackwatch.web.report_page import ReportDesk

log = logging.getLogger("trackwatch.shopify")
TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
IGNORED_STATUSES = frozenset({"cancelled", "error", "failure"})


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.digest(secret.encode(), body, hashlib.sha256)).decode()


def carrier_of(company: str | None) -> str | None:
    """Our carrier for Shopify's tracking_company ("USPS", "UPS", "FedEx", "DHL Express",
    "DHL eCommerce", ...); None leaves it to the number's format."""
    name = (company or "").strip().lower()
    if name.startswith("usps"):
        return "usps"
    if name == "ups" or name.startswith("ups "):
        return "ups"
    if name.startswith("fedex"):
        return "fedex"
    if name.startswith("dhl"):
        return "dhl"
    return None


def _order_number(fulfillment: dict[str, Any]) -> str:
    # `name` is the order's name plus the fulfillment's index ("#1001.1"): customers know
    # the order as "#1001".
    name = str(fulfillment.get("name") or "")
    if name:
        return name.rsplit(".", 1)[0] if "." in name else name
    return str(fulfillment.get("order_id") or "")


def numbers_of(fulfillment: dict[str, Any]) -> list[str]:
    numbers = fulfillment.get("tracking_numbers")
    if not isinstance(numbers, list) or not numbers:
        single = fulfillment.get("tracking_number")
        numbers = [single] if single else []
    return list(dict.fromkeys(str(n).strip() for n in numbers if str(n).strip()))


def shipments_of(
    fulfillment: dict[str, Any], desk: ReportDesk, store: str
) -> tuple[list[Shipment], list[dict[str, str]]]:
    """The shipments a fulfillment describes, and the numbers refused, with the reason."""
    destination = fulfillment.get("destination")
    if not isinstance(destination, dict):
        destination = {}
    common = {
        "store": store, "order_id": _order_number(fulfillment),
        "carrier": carrier_of(fulfillment.get("tracking_company")),
        "shipped_at": fulfillment.get("created_at"),
        "customer_email": fulfillment.get("email"),
        "customer_name": destination.get("name") or "",
        "destination_country": destination.get("country_code") or "",
        "destination_postal_code": destination.get("zip") or "",
        "destination_city": destination.get("city") or "",
    }  # fmt: skip
    now = desk.clock.now()
    shipments: list[Shipment] = []
    refused: list[dict[str, str]] = []
    for number in numbers_of(fulfillment):
        try:
            if not destination:
                raise InputError("destination", "the fulfillment has no shipping address")
            given = read_input({**common, "tracking_number": number})
            shipments.append(to_shipment(given, desk.settings, now))
        except InputError as exc:
            refused.append({"tracking_number": number, "field": exc.field, "reason": exc.reason})
    return shipments, refused


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
        if topic not in TOPICS:
            return web.json_response({"ignored": f"topic {topic!r} is not a fulfillment"})
        fulfillment = json_object(body)
        status = str(fulfillment.get("status") or "")
        shipments, refused = ([], []) if status in IGNORED_STATUSES else \
            shipments_of(fulfillment, self._desk, store)  # fmt: skip
        now = self._desk.clock.now()
        stored = await self._desk.store.add_from_webhook(f"shopify:{store}:{delivery}",
                                                         shipments, now)  # fmt: skip
        if stored is None:
            return web.json_response({"duplicate": True, "webhook_id": delivery})
        for item in refused:
            log.warning("shopify %s: fulfillment %s: number refused (%s: %s)", store,
                        fulfillment.get("id"), item["field"], item["reason"])  # fmt: skip
        return web.json_response({
            "webhook_id": delivery,
            "shipments": [{"id": sid, "created": created} for sid, created in stored],
            "refused": refused,
            "ignored": f"fulfillment status {status}" if status in IGNORED_STATUSES else None,
        })  # fmt: skip
