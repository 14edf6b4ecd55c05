"""What the configured stores mean to the report card: each store's origin country, and the
due date its policy promises a parcel that came without a promised date of its own."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from rules.base import ShipmentView
from rules.promise import store_promise
from trackwatch.calendar import calendar_for
from trackwatch.config import Settings
from trackwatch.model import Shipment
from trackwatch.reportcard.figures import Promise
from trackwatch.store.lanes import Unpromised


def origins(settings: Settings, stores: frozenset[str] | None = None) -> dict[str, str]:
    """Each configured store's origin country (its policy's)."""
    return {
        name: store.policy.origin_country
        for name, store in settings.stores.items()
        if stores is None or name in stores
    }


def policy_promise(settings: Settings) -> Promise:
    """The due date by the parcel's store policy, as the `late` rule works it out for a
    parcel with neither a carrier's ETA nor an order's promised date."""

    @lru_cache(maxsize=4096)
    def due(store: str, carrier: str, destination: str, shipped: datetime,
            ordered: datetime | None) -> datetime | None:  # fmt: skip
        config = settings.store(store)
        shipment = Shipment(
            store=store, carrier=carrier, tracking_number="-", order_id="-",
            customer_email="-", destination_country=destination, shipped_at=shipped,
            ordered_at=ordered,
        )  # fmt: skip
        view = ShipmentView(
            shipment, (), config.policy, config.name, calendar_for(carrier, destination)
        )
        eta = store_promise(view)
        return None if eta is None else eta.at

    def promise(parcel: Unpromised) -> datetime | None:
        return due(parcel.store, parcel.carrier, parcel.destination, parcel.shipped_at,
                   parcel.ordered_at)  # fmt: skip

    return promise
