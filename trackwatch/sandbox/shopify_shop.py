"""The sandbox shop's orders, fulfillments and fulfillment events, and its leaky bucket: what
the Admin API stand-in (trackwatch.sandbox.shopify) reads and writes. Ids are Shopify's
shapes: a REST id (`legacyResourceId`) and its GID, `gid://shopify/<Type>/<id>`."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trackwatch.clock import Clock


def gid(kind: str, legacy: int) -> str:
    return f"gid://shopify/{kind}/{legacy}"


@dataclass
class ShopFulfillment:
    id: int
    name: str  # the order's name and the fulfillment's index: "#1001.1"
    created_at: datetime
    updated_at: datetime
    tracking: list[tuple[str, str, str]]  # (company, number, url), one per package
    status: str = "SUCCESS"
    display_status: str = "FULFILLED"
    delivered_at: datetime | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def gid(self) -> str:
        return gid("Fulfillment", self.id)


@dataclass
class ShopOrder:
    id: int
    name: str
    email: str | None
    created_at: datetime
    updated_at: datetime
    address: dict[str, Any]  # MailingAddress: name, city, zip, countryCodeV2, ...
    fulfillments: list[ShopFulfillment] = field(default_factory=list)

    @property
    def gid(self) -> str:
        return gid("Order", self.id)


@dataclass
class Bucket:
    """Shopify's leaky bucket of query cost for one app on one shop: it refills at
    `restore_rate` points a second up to `maximum` (the defaults are the ones Shopify's
    published example response shows)."""

    maximum: float = 1000.0
    restore_rate: float = 50.0
    available: float = 1000.0
    at: datetime | None = None

    def refill(self, now: datetime) -> float:
        if self.at is not None:
            elapsed = max(0.0, (now - self.at).total_seconds())
            self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.at = now
        return self.available

    def status(self) -> dict[str, float]:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": self.available,
                "restoreRate": self.restore_rate}  # fmt: skip


@dataclass
class Shop:
    """One shop as the sandbox serves it: its orders, the app's access token and bucket.
    `events_written` counts fulfillmentEventCreate per fulfillment GID (a write-back that
    wrote twice shows here); `throttled` the requests answered THROTTLED."""

    clock: Clock
    domain: str = "sandbox-shop.myshopify.com"
    access_token: str = "shpat_sandbox0000000000000000000000000"
    orders: list[ShopOrder] = field(default_factory=list)
    bucket: Bucket = field(default_factory=Bucket)
    events_written: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    throttled: int = 0
    # Shopify answers THROTTLED with HTTP 200; some clients have seen 429 (the community
    # thread in tests/fixtures/shopify/README.md): the tests try both.
    throttled_status: int = 200
    # Tests: while set and not yet released, an answer to fulfillmentEventCreate is held
    # back after the event is recorded (a sender killed then never hears it went through).
    hold_writes: asyncio.Event | None = None
    on_event: Callable[[ShopOrder, dict[str, Any]], None] | None = None  # `trackwatch sandbox`
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_order(self, order: ShopOrder) -> ShopOrder:
        self.orders.append(order)
        return order

    def fulfillment(self, fulfillment_gid: str) -> tuple[ShopOrder, ShopFulfillment] | None:
        for order in self.orders:
            for found in order.fulfillments:
                if found.gid == fulfillment_gid:
                    return order, found
        return None

    def order(self, order_gid: str) -> ShopOrder | None:
        return next((o for o in self.orders if o.gid == order_gid), None)

    def record_event(self, fulfillment: ShopFulfillment, given: dict[str, Any]) -> dict[str, Any]:
        """A fulfillment event as fulfillmentEventCreate records it: the fulfillment's
        display status follows it, a DELIVERED one sets `deliveredAt`."""
        now = self.clock.now()
        event = {"id": gid("FulfillmentEvent", next(self._serial)), "status": given["status"],
                 "message": given.get("message"), "createdAt": now,
                 "happenedAt": given.get("happenedAt") or now,
                 "estimatedDeliveryAt": given.get("estimatedDeliveryAt")}  # fmt: skip
        fulfillment.events.append(event)
        fulfillment.display_status = str(given["status"])
        if given["status"] == "DELIVERED":
            fulfillment.delivered_at = event["happenedAt"]
        fulfillment.updated_at = now
        self.events_written[fulfillment.gid] += 1
        if self.on_event is not None:
            owner = self.fulfillment(fulfillment.gid)
            if owner is not None:
                self.on_event(owner[0], event)
        return event


# Shopify's tracking company names for the carriers the sandbox serves.
COMPANIES = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL Express"}


def order_of_parcel(key: int, name: str, carrier: str, number: str, shipped: datetime,
                    address: dict[str, Any]) -> ShopOrder:  # fmt: skip
    """One order shipped in one parcel, as Shopify would hold it: fulfilled when the label
    was printed, in transit since."""
    fulfillment = ShopFulfillment(
        id=700_000 + key, name=f"{name}.1", created_at=shipped, updated_at=shipped,
        tracking=[(COMPANIES[carrier], number, "")], display_status="IN_TRANSIT",
    )  # fmt: skip
    return ShopOrder(id=600_000 + key, name=name, email=f"c{key}@example.com",
                     created_at=shipped, updated_at=shipped, address=address,
                     fulfillments=[fulfillment])  # fmt: skip
