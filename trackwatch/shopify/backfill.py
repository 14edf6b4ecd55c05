"""`trackwatch shopify backfill`: the store's fulfillments with tracking, read from the Admin
API page by page (orders updated since `--since`, newest pages as Shopify sorts them), and
the ones still on their way watched through the webhook's own path (landing.land).

Which fulfillments: created since `since`, with a tracking number, and not delivered
(neither `deliveredAt` nor a delivered display status). A cancelled or failed one lands too:
it stops what an earlier webhook or backfill watched of it, and adds nothing.

Re-running changes nothing: each fulfillment lands under a receipt of its GraphQL id and
version (`updatedAt`), and a number already watched is left as it is. A run killed at any
point loses nothing either: each fulfillment is one transaction, and the next run lands the
ones that had not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.shopify.admin_api import AdminApi
from trackwatch.shopify.landing import land
from trackwatch.store.contract import Shipments

FULFILLMENTS_PER_ORDER = 5
NUMBERS_PER_FULFILLMENT = 10
ORDERS = f"""query TrackwatchBackfill($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id legacyResourceId name email createdAt
      shippingAddress {{ name city zip countryCodeV2 }}
      fulfillments(first: {FULFILLMENTS_PER_ORDER}) {{
        id legacyResourceId status displayStatus createdAt updatedAt deliveredAt
        trackingInfo(first: {NUMBERS_PER_FULFILLMENT}) {{ company number url }}
      }}
    }}
  }}
}}"""
DELIVERED = frozenset({"DELIVERED", "PICKED_UP"})


def page_cost(orders: int) -> int:
    """The requested cost of one page as Shopify counts it (the first call's estimate)."""
    per_order = 2 + FULFILLMENTS_PER_ORDER * (1 + NUMBERS_PER_FULFILLMENT)
    return 2 + orders * per_order


def rest_shape(order: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL fulfillment as the webhook carries it (REST field names), with its
    order's customer and address."""
    tracking = [t for t in found.get("trackingInfo") or [] if isinstance(t, dict)]
    address = order.get("shippingAddress") or {}
    legacy = str(found.get("legacyResourceId") or "")
    return {
        "id": int(legacy) if legacy.isdigit() else legacy or None,
        "admin_graphql_api_id": found.get("id"), "name": order.get("name"),
        "status": str(found.get("status") or "").lower(),
        "created_at": found.get("createdAt"), "updated_at": found.get("updatedAt"),
        "tracking_company": next((t["company"] for t in tracking if t.get("company")), None),
        "tracking_numbers": [t["number"] for t in tracking if t.get("number")],
        "email": order.get("email"),
        "destination": {"name": address.get("name"), "city": address.get("city"),
                        "zip": address.get("zip"),
                        "country_code": address.get("countryCodeV2")} if address else None,
    }  # fmt: skip


def _skip_reason(found: dict[str, Any], since: datetime) -> str | None:
    """Why a fulfillment is not landed (None: it is)."""
    try:
        created = datetime.fromisoformat(str(found.get("createdAt")))
    except ValueError:
        return "unreadable createdAt"
    if created < since:
        return "older"
    if str(found.get("status")) != "SUCCESS":
        return None  # cancelled or failed: it stops what was watched of it
    if found.get("deliveredAt") or found.get("displayStatus") in DELIVERED:
        return "delivered"
    if not any(t.get("number") for t in found.get("trackingInfo") or []):
        return "no tracking"
    return None


async def pages(api: AdminApi, since: datetime, size: int) -> AsyncIterator[list[dict[str, Any]]]:
    """The orders updated since `since`, a page at a time (a fulfillment updates its
    order, so every fulfillment created since then is on one of them)."""
    after: str | None = None
    query = f"updated_at:>='{since.isoformat()}'"
    while True:
        data = await api.call(ORDERS, {"first": size, "after": after, "query": query},
                              page_cost(size))  # fmt: skip
        orders = data["orders"]
        yield [o for o in orders["nodes"] if isinstance(o, dict)]
        info = orders["pageInfo"]
        if not info["hasNextPage"] or not info["endCursor"]:
            return
        after = str(info["endCursor"])


class Backfill:
    """One run over one store; `counts` says what it did, `say` hears one line a page."""

    def __init__(self, store: Shipments, settings: Settings, shop: str,
                 now: Callable[[], datetime], say: Callable[[str], None]) -> None:  # fmt: skip
        self._store = store
        self._settings = settings
        self._shop = shop
        self._now = now
        self._say = say
        self.counts: Counter[str] = Counter()

    async def run(self, api: AdminApi, since: datetime) -> Counter[str]:
        size = self._settings.store(self._shop).shopify.page_size
        number = 0
        async for orders in pages(api, since, size):
            number += 1
            for order in orders:
                for found in order.get("fulfillments") or []:
                    await self._one(order, found, since)
            self._say(f"page {number}: {len(orders)} orders; " + self.summary())
        return self.counts

    async def _one(self, order: dict[str, Any], found: dict[str, Any], since: datetime) -> None:
        self.counts["fulfillments"] += 1
        if (skipped := _skip_reason(found, since)) is not None:
            self.counts[f"skipped ({skipped})"] += 1
            return
        receipt = f"shopify-backfill:{self._shop}:{found.get('id')}@{found.get('updatedAt')}"
        try:
            landed = await land(self._store, self._settings, self._now(), self._shop,
                                rest_shape(order, found), receipt)  # fmt: skip
        except InputError as exc:  # a fulfillment of a shape Shopify does not send
            self.counts["unreadable"] += 1
            self._say(f"fulfillment {found.get('id')}: {exc.field}: not readable")
            return
        self._count(landed.answer)

    def _count(self, answer: dict[str, Any]) -> None:
        if answer.get("duplicate"):
            self.counts["unchanged (seen before)"] += 1
            return
        for shipment in answer.get("shipments", []):
            self.counts["watched" if shipment["created"] else "already watched"] += 1
        self.counts["refused"] += len(answer.get("refused", []))
        self.counts["stopped"] += len(answer.get("stopped", []))
        self.counts["resumed"] += len(answer.get("resumed", []))

    def summary(self) -> str:
        return ", ".join(f"{key} {value}" for key, value in sorted(self.counts.items()) if value)
