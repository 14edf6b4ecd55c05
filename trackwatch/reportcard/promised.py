"""What the configured stores mean to the report card: each store's origin country, and the
due date its policy promises a parcel that came without a promised date of its own."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from rules.base import ShipmentView
from rules.promise import store_promise
from trackwatch.calendar import BusinessCalendar, calendar_for
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

    # The promise reads only the local date a parcel shipped (at its destination, on its
    # carrier's calendar) or was ordered (at the store's origin): parcels that share those
    # dates share a due date, so a month of deliveries costs a few hundred workings-out,
    # not one each (35,000 took half a second).
    known: dict[tuple[str, str, str, date, date | None], datetime | None] = {}

    def promise(parcel: Unpromised) -> datetime | None:
        store, carrier, destination = parcel.store, parcel.carrier, parcel.destination
        shipped = zone(carrier, destination).local_date(parcel.shipped_at)
        ordered = parcel.ordered_at
        origin = settings.store(store).policy.origin_country
        key = (store, carrier, destination, shipped,
               None if ordered is None else zone(carrier, origin).local_date(ordered))  # fmt: skip
        if key not in known:
            known[key] = due(store, carrier, destination, parcel.shipped_at, ordered)
        return known[key]

    return promise


@lru_cache(maxsize=512)
def zone(carrier: str, country: str) -> BusinessCalendar:
    return calendar_for(carrier, country)
