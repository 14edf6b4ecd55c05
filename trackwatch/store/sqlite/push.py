"""Carrier push on SQLite: the inbox of pushes received, and the subscriptions held with each
carrier (trackwatch.push)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from trackwatch.model import Status, TrackingEvent
from trackwatch.store.push_records import (
    InboxPush,
    PushDone,
    PushTarget,
    PushUpdate,
    StoredPush,
    Subscription,
    SubscriptionSave,
    SubState,
)
from trackwatch.store.records import parse_ts, ts
from trackwatch.store.sqlite.base import SqliteBase

# A shipment whose subscription must end: no longer watched, stopped, set aside, delivered
# or gone (retention deleted it).
_FINISHED = (
    "(s.id IS NULL OR s.active=0 OR s.stopped IS NOT NULL OR s.set_aside IS NOT NULL"
    " OR s.status='delivered')"
)
_SUBSCRIPTIONS = (
    f"SELECT p.*, COALESCE(s.status, 'unknown') AS shipment_status, {_FINISHED} AS finished,"
    " s.last_event_at AS shipment_last_event"
    " FROM push_subscriptions p LEFT JOIN shipments s ON s.id = p.shipment_id"
)
_INSERT = (
    "INSERT INTO push_subscriptions (carrier, shipment_id, tracking_number, state,"
    " subscription_id, secret, etag, expires_at, due_at, last_push_at, error, created_at,"
    " updated_at) VALUES (:carrier, :shipment_id, :tracking_number, :state, :subscription_id,"
    " :secret, :etag, :expires_at, :due_at, :last_push_at, :error, :now, :now)"
    " ON CONFLICT (carrier, shipment_id) DO"
)
_UPSERT = (
    f"{_INSERT} UPDATE SET state=excluded.state,"
    " subscription_id=excluded.subscription_id, secret=excluded.secret, etag=excluded.etag,"
    " expires_at=excluded.expires_at, due_at=excluded.due_at, error=excluded.error,"
    " updated_at=excluded.updated_at"
)
# A shipment newly covered by push (or no longer) is judged again: its next poll moves.
_COVER = (
    "UPDATE shipments SET push_until=:until, dirty=active, revision=revision+1"
    " WHERE id=:id AND (push_until IS NOT :until)"
)
_PUSHED = (
    "UPDATE shipments SET dirty=active, revision=revision+1, status=:status,"
    " eta=COALESCE(:eta, eta), first_eta=COALESCE(first_eta, :eta),"
    " last_event_at=CASE WHEN :last IS NOT NULL AND (last_event_at IS NULL OR"
    " :last > last_event_at) THEN :last ELSE last_event_at END,"
    " push_until=:until"
    " WHERE id=:id AND revision=:rev AND set_aside IS NULL RETURNING id"
)


def subscription_of(row: aiosqlite.Row) -> Subscription:
    return Subscription(
        carrier=row["carrier"], shipment_id=int(row["shipment_id"]),
        tracking_number=row["tracking_number"], state=SubState(row["state"]),
        due_at=parse_ts(row["due_at"]), subscription_id=row["subscription_id"],
        secret=row["secret"], etag=row["etag"], expires_at=parse_ts(row["expires_at"]),
        last_push_at=parse_ts(row["last_push_at"]), error=row["error"],
        status=Status(row["shipment_status"]), finished=bool(row["finished"]),
        created_at=parse_ts(row["created_at"]), last_event_at=parse_ts(row["shipment_last_event"]),
    )  # fmt: skip


def _subscription_row(sub: Subscription, now: datetime) -> dict[str, Any]:
    return {
        "carrier": sub.carrier, "shipment_id": sub.shipment_id,
        "tracking_number": sub.tracking_number, "state": sub.state.value,
        "subscription_id": sub.subscription_id, "secret": sub.secret, "etag": sub.etag,
        "expires_at": ts(sub.expires_at), "due_at": ts(sub.due_at),
        "last_push_at": ts(sub.last_push_at), "error": sub.error, "now": ts(now),
    }  # fmt: skip


class SqlitePush(SqliteBase):
    async def receive_push(self, push: InboxPush, now: datetime) -> int | None:
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO push_inbox (carrier, digest, body, received_at) VALUES (?,?,?,?)"
                " ON CONFLICT (carrier, digest) DO NOTHING RETURNING id",
                (push.carrier, push.digest, push.body, ts(now)),
            )
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def claim_pushes(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[StoredPush]:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE push_inbox SET lease_until=?, attempts=attempts+1 WHERE id IN"
                " (SELECT id FROM push_inbox WHERE state='new' AND"
                " (lease_until IS NULL OR lease_until<=?) ORDER BY id LIMIT ?)"
                " RETURNING id, carrier, body, received_at, attempts",
                (ts(lease_until), ts(now), limit),
            )
            rows = await cur.fetchall()
        found = [StoredPush(int(r["id"]), r["carrier"], r["body"],
                            parse_ts(r["received_at"]) or now, int(r["attempts"]))
                 for r in rows]  # fmt: skip
        return sorted(found, key=lambda p: p.id)

    async def finish_pushes(self, done: Sequence[PushDone], now: datetime) -> None:
        async with self._tx() as db:
            await db.executemany(
                "DELETE FROM push_inbox WHERE id=?", [(d.push_id,) for d in done if not d.error]
            )
            await db.executemany(
                "UPDATE push_inbox SET state='failed', worked_at=?, error=?, lease_until=NULL"
                " WHERE id=?",
                [(ts(now), d.error, d.push_id) for d in done if d.error],
            )

    async def next_push_at(self) -> datetime | None:
        rows = await self._all(
            "SELECT MIN(COALESCE(lease_until, received_at)) FROM push_inbox WHERE state='new'"
        )
        return parse_ts(rows[0][0]) if rows else None

    async def push_targets(
        self, carrier: str, numbers: Sequence[str]
    ) -> dict[str, list[PushTarget]]:
        found: dict[str, list[PushTarget]] = {n: [] for n in numbers}
        if not numbers:
            return found
        marks = ",".join("?" * len(numbers))
        rows = await self._all(
            "SELECT id, tracking_number, shipped_at, revision, destination_country,"
            " destination_postal_code FROM shipments WHERE carrier=?"
            f" AND tracking_number IN ({marks}) AND active=1 AND set_aside IS NULL",
            [carrier, *numbers],
        )
        events = await self._by_shipment(
            "SELECT shipment_id, data FROM events WHERE shipment_id IN ({ids})"
            " ORDER BY occurred_at, id",
            [int(r["id"]) for r in rows],
        )
        for r in rows:
            sid = int(r["id"])
            stored = tuple(TrackingEvent.model_validate_json(e["data"]) for e in events[sid])
            found[r["tracking_number"]].append(
                PushTarget(
                    sid,
                    r["tracking_number"],
                    parse_ts(r["shipped_at"]) or datetime.min,
                    int(r["revision"]),
                    stored,
                    r["destination_country"],
                    r["destination_postal_code"],
                )
            )
        return found

    async def apply_pushes(self, updates: Sequence[PushUpdate]) -> set[int]:
        stale: set[int] = set()
        async with self._tx() as db:
            for u in updates:
                cur = await db.execute(_PUSHED, {
                    "id": u.shipment_id, "rev": u.revision, "status": u.status.value,
                    "eta": ts(u.eta), "last": ts(u.last_event_at), "until": ts(u.push_until),
                })  # fmt: skip
                if await cur.fetchone() is None:
                    stale.add(u.shipment_id)
                    continue
                await db.executemany(
                    "INSERT INTO events (shipment_id, occurred_at, code, place, data)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(u.shipment_id, ts(e.occurred_at), e.code, e.place.label(),
                      e.model_dump_json()) for e in u.events],
                )  # fmt: skip
                # A delivered parcel's subscription ends now, not at its next check.
                await db.execute(
                    "UPDATE push_subscriptions SET last_push_at=?, due_at=CASE WHEN ?"
                    " THEN ? ELSE due_at END WHERE shipment_id=?",
                    (ts(u.pushed_at), u.status is Status.DELIVERED, ts(u.pushed_at),
                     u.shipment_id),
                )  # fmt: skip
        return stale

    async def claim_new_subscriptions(
        self, carrier: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Subscription]:
        """New shipments are found past a watermark (the last shipment id looked at), so a
        pass reads only what was added since, not every watched shipment."""
        key = f"push_seen:{carrier}"
        async with self._tx() as db:
            cur = await db.execute("SELECT value FROM meta WHERE key=?", (key,))
            mark = await cur.fetchone()
            cur = await db.execute(
                "SELECT id, tracking_number, status, active=1 AND stopped IS NULL AND"
                " set_aside IS NULL AND status!='delivered' AS wanted FROM shipments"
                " WHERE carrier=? AND id>? ORDER BY id LIMIT ?",
                (carrier, int(mark[0]) if mark else 0, limit),
            )
            rows = list(await cur.fetchall())
            if not rows:
                return []
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET value=excluded.value",
                (key, str(rows[-1]["id"])),
            )
            claimed = [Subscription(carrier, int(r["id"]), r["tracking_number"],
                                    SubState.PENDING, lease_until, status=Status(r["status"]))
                       for r in rows if r["wanted"]]  # fmt: skip
            made = []
            for sub in claimed:
                cur = await db.execute(f"{_INSERT} NOTHING", _subscription_row(sub, now))
                if cur.rowcount == 1:
                    made.append(sub)
        return made

    async def claim_due_subscriptions(
        self, carrier: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Subscription]:
        async with self._tx() as db:
            cur = await db.execute(
                f"{_SUBSCRIPTIONS} WHERE p.carrier=? AND p.due_at<=? ORDER BY p.due_at, p.id"
                " LIMIT ?",
                (carrier, ts(now), limit),
            )
            rows = await cur.fetchall()
            await db.executemany(
                "UPDATE push_subscriptions SET due_at=? WHERE id=?",
                [(ts(lease_until), int(r["id"])) for r in rows],
            )
        return [subscription_of(r) for r in rows]

    async def save_subscriptions(self, save: SubscriptionSave, now: datetime) -> None:
        async with self._tx() as db:
            await db.executemany(_UPSERT, [_subscription_row(s, now) for s in save.kept])
            await db.executemany(
                "DELETE FROM push_subscriptions WHERE carrier=? AND shipment_id=?",
                [(s.carrier, s.shipment_id) for s in save.ended],
            )
            await db.executemany(
                _COVER, [{"id": sid, "until": ts(until)} for sid, until in save.cover.items()]
            )

    async def subscriptions_by_id(self, carrier: str, subscription_id: str) -> list[Subscription]:
        rows = await self._all(
            f"{_SUBSCRIPTIONS} WHERE p.carrier=? AND p.subscription_id=? ORDER BY p.id",
            (carrier, subscription_id),
        )
        return [subscription_of(r) for r in rows]

    async def next_subscription_at(self, carrier: str) -> datetime | None:
        rows = await self._all(
            "SELECT MIN(due_at) FROM push_subscriptions WHERE carrier=?", (carrier,)
        )
        return parse_ts(rows[0][0]) if rows else None
