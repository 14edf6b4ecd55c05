"""A sandbox shop for the Shopify tests: orders shipped with UPS (numbers that pass the
check digit), each fulfillment shaped as the Admin API's published Fulfillment object."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from trackwatch.sandbox.shopify_shop import Shop, ShopFulfillment, ShopOrder
from trackwatch.sim.numbers import make_number

TOKEN = "shpat_test0123456789abcdef0123456789"
ADDRESS = {"name": "Steve Shipper", "city": "Shippington", "zip": "40003",
           "countryCodeV2": "US", "address1": "123 Shipping Street", "province": "Kentucky"}  # fmt: skip


def order(shop: Shop, number: int, created: datetime, numbers: list[str],
          status: str = "SUCCESS", display: str = "IN_TRANSIT",
          delivered: datetime | None = None) -> ShopOrder:  # fmt: skip
    """Order #<number> with one fulfillment of `numbers` (none: no tracking), made a day
    after the order."""
    shipped = created + timedelta(days=1)
    fulfillment = ShopFulfillment(
        id=900_000 + number, name=f"#{number}.1", created_at=shipped, updated_at=shipped,
        tracking=[("UPS", n, f"https://www.ups.com/track?tracknum={n}") for n in numbers],
        status=status, display_status=display, delivered_at=delivered,
    )  # fmt: skip
    return shop.add_order(ShopOrder(id=500_000 + number, name=f"#{number}", created_at=created,
                                    updated_at=shipped, email=f"c{number}@example.com",
                                    address=dict(ADDRESS), fulfillments=[fulfillment]))  # fmt: skip


def stocked(shop: Shop, now: datetime, in_transit: int, seed: int = 7) -> dict[str, list[str]]:
    """`in_transit` orders shipped over the last days, each one or two UPS parcels, and one
    of each kind backfill leaves alone: delivered, without tracking, shipped long ago.
    Returns the numbers by kind."""
    rnd = random.Random(seed)
    kinds: dict[str, list[str]] = {"in_transit": [], "delivered": [], "old": []}
    for i in range(in_transit):
        numbers = [make_number("ups", rnd) for _ in range(1 + i % 2)]
        order(shop, 1001 + i, now - timedelta(days=2 + i % 5), numbers)
        kinds["in_transit"] += numbers
    delivered = [make_number("ups", rnd)]
    order(shop, 1900, now - timedelta(days=6), delivered, display="DELIVERED",
          delivered=now - timedelta(days=2))  # fmt: skip
    order(shop, 1901, now - timedelta(days=3), [])
    old = [make_number("ups", rnd)]
    order(shop, 1902, now - timedelta(days=200), old)
    kinds["delivered"], kinds["old"] = delivered, old
    return kinds
