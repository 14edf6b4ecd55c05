"""The staff console's reads and triage, and its accounts and audit trail (SQLite)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import aiosqlite

from trackwatch.model import Alert, Notice, Shipment
from trackwatch.store.records import (
    AlertQuery,
    AlertRow,
    StaffAccount,
    StaffAction,
    parse_ts,
    ts,
)
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.sqlite.rows import (
    NOTICES_READ,
    alert_of_row,
    alert_with_order,
    notice_of_row,
    readout,
)

# Most urgent first, then oldest: what staff should look at next is at the top.
URGENCY = "CASE a.severity WHEN 'urgent' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"


def within(column: str, stores: Collection[str] | None, params: list[Any]) -> str:
    """A condition keeping rows of the viewer's stores (every row for None)."""
    if stores is None:
        return "1=1"
    params.extend(sorted(stores))
    return f"{column} IN ({','.join('?' * len(stores))})" if stores else "0=1"


def _alert_where(query: AlertQuery, now: datetime, params: list[Any]) -> str:
    terms = ["a.state='open'", within("a.store", query.stores, params)]
    for column, value in (("a.store", query.store), ("a.rule", query.rule),
                          ("a.severity", query.severity), ("s.carrier", query.carrier)):  # fmt: skip
        if value is not None:
            terms.append(f"{column}=?")
            params.append(value)
    if not query.include_snoozed:
        terms.append("(a.snoozed_until IS NULL OR a.snoozed_until<=?)")
        params.append(ts(now))
    return " AND ".join(terms)


def _action_of(row: aiosqlite.Row) -> StaffAction:
    return StaffAction(
        parse_ts(row["at"]) or datetime.min, row["staff"], row["store"], row["action"],
        row["shipment_id"], row["alert_id"], row["notice_id"], row["detail"],
    )  # fmt: skip


class SqliteConsole(SqliteBase):
    async def add_staff(self, account: StaffAccount, now: datetime) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO staff (login, role, store, password_hash, created_at)"
                " VALUES (?,?,?,?,?) ON CONFLICT (login) DO NOTHING",
                (account.login, account.role, account.store, account.password_hash, ts(now)),
            )
            return cur.rowcount == 1

    async def remove_staff(self, login: str) -> bool:
        async with self._tx() as db:
            cur = await db.execute("DELETE FROM staff WHERE login=?", (login,))
            return cur.rowcount == 1

    async def set_staff_password(self, login: str, password_hash: str) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE staff SET password_hash=?, generation=generation+1 WHERE login=?",
                (password_hash, login),
            )
            return cur.rowcount == 1

    async def staff_account(self, login: str) -> StaffAccount | None:
        rows = await self._all("SELECT * FROM staff WHERE login=?", (login,))
        if not rows:
            return None
        r = rows[0]
        return StaffAccount(r["login"], r["role"], r["store"], r["password_hash"],
                            int(r["generation"]))  # fmt: skip

    async def console_alerts(self, query: AlertQuery, now: datetime) -> list[AlertRow]:
        params: list[Any] = []
        where = _alert_where(query, now, params)
        rows = await self._all(
            "SELECT a.*, s.order_id, s.carrier AS parcel_carrier,"
            " s.tracking_number AS parcel_number FROM alerts a"
            f" LEFT JOIN shipments s ON s.id = a.shipment_id WHERE {where}"
            f" ORDER BY {URGENCY}, a.opened_at, a.id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        found = []
        for row in rows:
            alert, order = alert_with_order(row)
            found.append(AlertRow(alert, order, row["parcel_carrier"], row["parcel_number"],
                                  row["assignee"], parse_ts(row["snoozed_until"])))  # fmt: skip
        return found

    async def count_console_alerts(self, query: AlertQuery, now: datetime) -> int:
        params: list[Any] = []
        where = _alert_where(query, now, params)
        join = " LEFT JOIN shipments s ON s.id = a.shipment_id" if query.carrier else ""
        rows = await self._all(f"SELECT COUNT(*) FROM alerts a{join} WHERE {where}", params)
        return int(rows[0][0])

    async def find_shipments(
        self, stores: frozenset[str] | None, text: str, limit: int = 50
    ) -> list[Shipment]:
        params: list[Any] = []
        # "+store": not by the store's index (a tenth of every row): by the three below.
        mine = within("+store", stores, params)
        rows = await self._all(
            # Each term an index's (the email's NOCASE one): lower() would scan every row.
            f"SELECT * FROM shipments WHERE {mine} AND (order_id=? OR tracking_number=?"
            " OR customer_email=? COLLATE NOCASE) ORDER BY id DESC LIMIT ?",
            [*params, text, text, text, limit],
        )
        return list(readout(rows).shipments)

    async def notices_of_shipment(self, shipment_id: int) -> list[Notice]:
        rows = await self._all(NOTICES_READ.format(where="n.shipment_id=?"), (shipment_id,))
        return [notice_of_row(row) for row in rows]

    async def alert_triage(self, shipment_id: int) -> dict[int, tuple[str | None, datetime | None]]:
        rows = await self._all(
            "SELECT id, assignee, snoozed_until FROM alerts WHERE shipment_id=?", (shipment_id,)
        )
        return {int(r[0]): (r[1], parse_ts(r[2])) for r in rows}

    async def assign_alert(self, alert_id: int, assignee: str | None) -> bool:
        async with self._tx() as db:
            cur = await db.execute("UPDATE alerts SET assignee=? WHERE id=? AND state='open'",
                                   (assignee, alert_id))  # fmt: skip
            return cur.rowcount == 1

    async def snooze_alert(self, alert_id: int, until: datetime | None) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE alerts SET snoozed_until=? WHERE id=? AND state='open'",
                (ts(until), alert_id),
            )
            return cur.rowcount == 1

    async def resend_notice(self, notice_id: int, now: datetime) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE notices SET state='pending', next_attempt_at=?, attempts=0,"
                " lease_until=NULL WHERE id=? AND state='dead'",
                (ts(now), notice_id),
            )
            return cur.rowcount == 1

    async def get_alert(self, alert_id: int) -> Alert | None:
        rows = await self._all("SELECT * FROM alerts WHERE id=?", (alert_id,))
        return alert_of_row(rows[0]) if rows else None

    async def get_notice(self, notice_id: int) -> Notice | None:
        rows = await self._all(NOTICES_READ.format(where="n.id=?"), (notice_id,))
        return notice_of_row(rows[0]) if rows else None

    async def record_action(self, action: StaffAction) -> None:
        a = action
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO staff_actions (at, staff, store, action, shipment_id, alert_id,"
                " notice_id, detail) VALUES (?,?,?,?,?,?,?,?)",
                (ts(a.at), a.staff, a.store, a.action, a.shipment_id, a.alert_id, a.notice_id,
                 a.detail),
            )  # fmt: skip

    async def staff_actions(self, shipment_id: int) -> list[StaffAction]:
        rows = await self._all(
            "SELECT * FROM staff_actions WHERE shipment_id=? ORDER BY id", (shipment_id,)
        )
        return [_action_of(row) for row in rows]
