"""An order's parcels in one store: the customer's tracking page (trackwatch.web.tracking)."""

from __future__ import annotations

from trackwatch.store.records import Readout, order_numbers
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import readout

MAX_PARCELS = 50  # an order of more parcels than this is not one a customer tracks by hand


class SqliteOrders(SqliteBase):
    async def shipments_of_order(self, store: str, order_id: str) -> Readout:
        """The store's shipments of `order_id`, given with or without its leading '#';
        nothing of any other store."""
        numbers = order_numbers(order_id)
        if not numbers:
            return readout([])
        marks = ", ".join("?" for _ in numbers)
        return readout(await self._all(
            f"SELECT * FROM shipments WHERE store=? AND order_id IN ({marks}) ORDER BY id LIMIT ?",
            (store, *numbers, MAX_PARCELS),
        ))  # fmt: skip
