"""Alerts as people read them, and the alerts about a store itself (a failing channel, a carrier
down)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trackwatch.model import (
    Alert,
    AlertState,
)
from trackwatch.store.records import (
    NoticeDraft,
    StoreAlertOpen,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import (
    alert_of_row,
    alert_with_order,
)


class SqliteAlerts(SqliteBase):
    async def alerts_for(self, shipment_id: int) -> list[Alert]:
        rows = await self._all(
            "SELECT * FROM alerts WHERE shipment_id=? ORDER BY id", (shipment_id,)
        )
        return [alert_of_row(row) for row in rows]

    async def all_alerts(self) -> list[Alert]:
        return [alert_of_row(row) for row in await self._all("SELECT * FROM alerts ORDER BY id")]

    async def open_store_alert(self, alarm: StoreAlertOpen, now: datetime) -> int | None:
        """Open `alarm` with its notices; None when one is already open for its subject."""
        async with self._tx() as db:
            return await self._open_store_alert(db, alarm, now)

    async def open_store_alerts(self, rule: str) -> dict[tuple[str, str], int]:
        """The open alerts of `rule` about stores' subjects: (store, subject) -> alert id."""
        rows = await self._all(
            "SELECT id, store, subject FROM alerts WHERE shipment_id IS NULL AND rule=?"
            " AND state='open'",
            (rule,),
        )
        return {(str(r["store"]), str(r["subject"])): int(r["id"]) for r in rows}

    async def resolve_store_alert(
        self, alert_id: int, reason: str, drafts: Sequence[NoticeDraft], now: datetime
    ) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE alerts SET state=?, resolved_at=?, resolved_by='auto', resolution=?"
                " WHERE id=? AND state=?",
                (AlertState.RESOLVED.value, ts(now), reason, alert_id, AlertState.OPEN.value),
            )
            if cur.rowcount != 1:
                return False
            await self._enqueue(db, alert_id, drafts, now)
        return True

    async def open_alerts_of_store(self, store: str | None) -> list[tuple[Alert, str | None]]:
        """A store's open alerts (every store's for None), oldest first, each with its order
        number (None for an alert about the store itself)."""
        return await self.alerts_of_store(store, AlertState.OPEN)

    async def alerts_of_store(
        self, store: str | None, state: AlertState | None, limit: int = 10_000
    ) -> list[tuple[Alert, str | None]]:
        """Alerts in `state` (any, for None): open ones oldest first, others newest first."""
        order = "a.opened_at, a.id" if state is AlertState.OPEN else "a.opened_at DESC, a.id DESC"
        state_value = None if state is None else state.value
        rows = await self._all(
            "SELECT a.*, s.order_id FROM alerts a LEFT JOIN shipments s ON s.id = a.shipment_id"
            " WHERE (a.store=? OR ? IS NULL) AND (a.state=? OR ? IS NULL)"
            f" ORDER BY {order} LIMIT ?",
            (store, store, state_value, state_value, limit),
        )
        return [alert_with_order(row) for row in rows]
