"""The staff console's reads and triage, and its accounts and audit trail (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import asyncpg

from trackwatch.model import Alert, Notice, Shipment
from trackwatch.store.postgres.base import PostgresBase, affected
from trackwatch.store.postgres.rows import (
    NOTICES_READ,
    alert_of_row,
    alert_with_order,
    notice_of_row,
    readout,
)
from trackwatch.store.records import AlertQuery, AlertRow, StaffAccount, StaffAction

# Most urgent first, then oldest: what staff should look at next is at the top.
URGENCY = "CASE a.severity WHEN 'urgent' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"


def within(column: str, stores: Collection[str] | None, params: list[Any]) -> str:
    """A condition keeping rows of the viewer's stores (every row for None)."""
    if stores is None:
        return "true"
    params.append(sorted(stores))
    return f"{column} = ANY(${len(params)}::text[])"


def _alert_where(query: AlertQuery, now: datetime, params: list[Any]) -> str:
    terms = ["a.state='open'", within("a.store", query.stores, params)]
    for column, value in (("a.store", query.store), ("a.rule", query.rule),
                          ("a.severity", query.severity), ("s.carrier", query.carrier)):  # fmt: skip
        if value is not None:
            params.append(value)
            terms.append(f"{column}=${len(params)}")
    if not query.include_snoozed:
        params.append(now)
        terms.append(f"(a.snoozed_until IS NULL OR a.snoozed_until<=${len(params)})")
    return " AND ".join(terms)


def _action_of(row: asyncpg.Record) -> StaffAction:
    return StaffAction(
        row["at"], row["staff"], row["store"], row["action"], row["shipment_id"],
        row["alert_id"], row["notice_id"], row["detail"],
    )  # fmt: skip


class PostgresConsole(PostgresBase):
    async def add_staff(self, account: StaffAccount, now: datetime) -> bool:
        status = await self._pool.execute(
            "INSERT INTO staff (login, role, store, password_hash, created_at)"
            " VALUES ($1,$2,$3,$4,$5) ON CONFLICT (login) DO NOTHING",
            account.login, account.role, account.store, account.password_hash, now,
        )  # fmt: skip
        return affected(status) == 1

    async def remove_staff(self, login: str) -> bool:
        return affected(await self._pool.execute("DELETE FROM staff WHERE login=$1", login)) == 1

    async def set_staff_password(self, login: str, password_hash: str) -> bool:
        status = await self._pool.execute(
            "UPDATE staff SET password_hash=$1, generation=generation+1 WHERE login=$2",
            password_hash, login,
        )  # fmt: skip
        return affected(status) == 1

    async def staff_account(self, login: str) -> StaffAccount | None:
        r = await self._pool.fetchrow("SELECT * FROM staff WHERE login=$1", login)
        if r is None:
            return None
        return StaffAccount(r["login"], r["role"], r["store"], r["password_hash"],
                            int(r["generation"]))  # fmt: skip

    async def console_alerts(self, query: AlertQuery, now: datetime) -> list[AlertRow]:
        params: list[Any] = []
        where = _alert_where(query, now, params)
        params += [query.limit, query.offset]
        rows = await self._all(
            "SELECT a.*, s.order_id, s.carrier AS parcel_carrier,"
            " s.tracking_number AS parcel_number FROM alerts a"
            f" LEFT JOIN shipments s ON s.id = a.shipment_id WHERE {where}"
            f" ORDER BY {URGENCY}, a.opened_at, a.id"
            f" LIMIT ${len(params) - 1} OFFSET ${len(params)}",
            *params,
        )
        found = []
        for row in rows:
            alert, order = alert_with_order(row)
            found.append(AlertRow(alert, order, row["parcel_carrier"], row["parcel_number"],
                                  row["assignee"], row["snoozed_until"]))  # fmt: skip
        return found

    async def count_console_alerts(self, query: AlertQuery, now: datetime) -> int:
        params: list[Any] = []
        where = _alert_where(query, now, params)
        join = " LEFT JOIN shipments s ON s.id = a.shipment_id" if query.carrier else ""
        found = await self._pool.fetchval(f"SELECT COUNT(*) FROM alerts a{join} WHERE {where}",
                                          *params)  # fmt: skip
        return int(found)

    async def find_shipments(
        self, stores: frozenset[str] | None, text: str, limit: int = 50
    ) -> list[Shipment]:
        params: list[Any] = []
        mine = within("store", stores, params)
        n = len(params)
        rows = await self._all(
            f"SELECT * FROM shipments WHERE {mine} AND (order_id=${n + 1}"
            f" OR tracking_number=${n + 1}"  # each term an index's (the email's: folded)
            f" OR lower(customer_email)=lower(${n + 1})) ORDER BY id DESC LIMIT ${n + 2}",
            *params, text, limit,
        )  # fmt: skip
        return list(readout(rows).shipments)

    async def notices_of_shipment(self, shipment_id: int) -> list[Notice]:
        rows = await self._all(NOTICES_READ.format(where="n.shipment_id=$1"), shipment_id)
        return [notice_of_row(row) for row in rows]

    async def alert_triage(self, shipment_id: int) -> dict[int, tuple[str | None, datetime | None]]:
        rows = await self._all(
            "SELECT id, assignee, snoozed_until FROM alerts WHERE shipment_id=$1", shipment_id
        )
        return {int(r[0]): (r[1], r[2]) for r in rows}

    async def assign_alert(self, alert_id: int, assignee: str | None) -> bool:
        status = await self._pool.execute(
            "UPDATE alerts SET assignee=$1 WHERE id=$2 AND state='open'", assignee, alert_id
        )
        return affected(status) == 1

    async def snooze_alert(self, alert_id: int, until: datetime | None) -> bool:
        status = await self._pool.execute(
            "UPDATE alerts SET snoozed_until=$1 WHERE id=$2 AND state='open'", until, alert_id
        )
        return affected(status) == 1

    async def resend_notice(self, notice_id: int, now: datetime) -> bool:
        status = await self._pool.execute(
            "UPDATE notices SET state='pending', next_attempt_at=$1, attempts=0,"
            " lease_until=NULL WHERE id=$2 AND state='dead'",
            now, notice_id,
        )  # fmt: skip
        return affected(status) == 1

    async def get_alert(self, alert_id: int) -> Alert | None:
        rows = await self._all("SELECT * FROM alerts WHERE id=$1", alert_id)
        return alert_of_row(rows[0]) if rows else None

    async def get_notice(self, notice_id: int) -> Notice | None:
        rows = await self._all(NOTICES_READ.format(where="n.id=$1"), notice_id)
        return notice_of_row(rows[0]) if rows else None

    async def record_action(self, action: StaffAction) -> None:
        a = action
        await self._pool.execute(
            "INSERT INTO staff_actions (at, staff, store, action, shipment_id, alert_id,"
            " notice_id, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            a.at, a.staff, a.store, a.action, a.shipment_id, a.alert_id, a.notice_id, a.detail,
        )  # fmt: skip

    async def staff_actions(self, shipment_id: int) -> list[StaffAction]:
        rows = await self._all(
            "SELECT * FROM staff_actions WHERE shipment_id=$1 ORDER BY id", shipment_id
        )
        return [_action_of(row) for row in rows]
