"""An order's parcels in one store: the customer's tracking page (trackwatch.web.tracking)."""

from __future__ import annotations

from trackwatch.store.postgres.base import PostgresBase
from trackwatch.store.postgres.rows import readout
from trackwatch.store.records import Readout, order_numbers

MAX_PARCELS = 50  # an order of more parcels than this is not one a customer tracks by hand


class PostgresOrders(PostgresBase):
    async def shipments_of_order(self, store: str, order_id: str) -> Readout:
        """The store's shipments of `order_id`, given with or without its leading '#';
        nothing of any other store."""
        numbers = order_numbers(order_id)
        if not numbers:
            return readout([])
        return readout(await self._all(
            "SELECT * FROM shipments WHERE store=$1 AND order_id = ANY($2::text[])"
            " ORDER BY id LIMIT $3",
            store, numbers, MAX_PARCELS,
        ))  # fmt: skip
