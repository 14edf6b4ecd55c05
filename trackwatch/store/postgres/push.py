"""Carrier push on PostgreSQL: the inbox of pushes received, and the subscriptions held with
each carrier (trackwatch.push). Claims skip rows another daemon holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from trackwatch.model import Status, TrackingEvent
from trackwatch.store.postgres.base import PostgresBase
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

_FINISHED = (
    "(s.id IS NULL OR NOT s.active OR s.stopped IS NOT NULL OR s.set_aside IS NOT NULL"
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
    " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)"
    " ON CONFLICT (carrier, shipment_id) DO"
)
_UPSERT = (
    f"{_INSERT} UPDATE SET state=excluded.state, subscription_id=excluded.subscription_id,"
    " secret=excluded.secret, etag=excluded.etag, expires_at=excluded.expires_at,"
    " due_at=excluded.due_at, error=excluded.error, updated_at=excluded.updated_at"
)
_PUSHED = (
    "UPDATE shipments SET dirty=active, revision=revision+1, status=$3,"
    " eta=COALESCE($4, eta), first_eta=COALESCE(first_eta, $4),"
    " last_event_at=CASE WHEN $5::timestamptz IS NOT NULL AND (last_event_at IS NULL OR"
    " $5 > last_event_at) THEN $5 ELSE last_event_at END,"
    " push_until=$6"
    " WHERE id=$1 AND revision=$2 AND set_aside IS NULL RETURNING id"
)


def subscription_of(row: asyncpg.Record) -> Subscription:
    return Subscription(
        carrier=row["carrier"], shipment_id=int(row["shipment_id"]),
        tracking_number=row["tracking_number"], state=SubState(row["state"]),
        due_at=row["due_at"], subscription_id=row["subscription_id"], secret=row["secret"],
        etag=row["etag"], expires_at=row["expires_at"], last_push_at=row["last_push_at"],
        error=row["error"], status=Status(row["shipment_status"]), finished=bool(row["finished"]),
        created_at=row["created_at"], last_event_at=row["shipment_last_event"],
    )  # fmt: skip


def _values(sub: Subscription, now: datetime) -> tuple[Any, ...]:
    return (sub.carrier, sub.shipment_id, sub.tracking_number, sub.state.value,
            sub.subscription_id, sub.secret, sub.etag, sub.expires_at, sub.due_at,
            sub.last_push_at, sub.error, now)  # fmt: skip


class PostgresPush(PostgresBase):
    async def receive_push(self, push: InboxPush, now: datetime) -> int | None:
        found = await self._pool.fetchval(
            "INSERT INTO push_inbox (carrier, digest, body, received_at) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (carrier, digest) DO NOTHING RETURNING id",
            push.carrier, push.digest, push.body, now,
        )  # fmt: skip
        return int(found) if found is not None else None

    async def claim_pushes(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[StoredPush]:
        rows = await self._pool.fetch(
            "WITH picked AS MATERIALIZED (SELECT id FROM push_inbox WHERE state='new' AND"
            " (lease_until IS NULL OR lease_until<=$2) ORDER BY id LIMIT $3"
            " FOR UPDATE SKIP LOCKED)"
            " UPDATE push_inbox p SET lease_until=$1, attempts=p.attempts+1 FROM picked"
            " WHERE p.id=picked.id RETURNING p.id, p.carrier, p.body, p.received_at, p.attempts",
            lease_until, now, limit,
        )  # fmt: skip
        found = [StoredPush(int(r["id"]), r["carrier"], r["body"], r["received_at"],
                            int(r["attempts"])) for r in rows]  # fmt: skip
        return sorted(found, key=lambda p: p.id)

    async def finish_pushes(self, done: Sequence[PushDone], now: datetime) -> None:
        async with self._tx() as c:
            await c.execute("DELETE FROM push_inbox WHERE id = ANY($1::bigint[])",
                            [d.push_id for d in done if not d.error])  # fmt: skip
            await c.executemany(
                "UPDATE push_inbox SET state='failed', worked_at=$1, error=$2, lease_until=NULL"
                " WHERE id=$3",
                [(now, d.error, d.push_id) for d in done if d.error],
            )

    async def next_push_at(self) -> datetime | None:
        found: datetime | None = await self._pool.fetchval(
            "SELECT MIN(COALESCE(lease_until, received_at)) FROM push_inbox WHERE state='new'"
        )
        return found

    async def push_targets(
        self, carrier: str, numbers: Sequence[str]
    ) -> dict[str, list[PushTarget]]:
        found: dict[str, list[PushTarget]] = {n: [] for n in numbers}
        if not numbers:
            return found
        rows = await self._pool.fetch(
            "SELECT id, tracking_number, shipped_at, revision, destination_country,"
            " destination_postal_code FROM shipments WHERE carrier=$1"
            " AND tracking_number = ANY($2::text[]) AND active AND set_aside IS NULL",
            carrier, list(numbers),
        )  # fmt: skip
        events = await self._by_shipment(
            "SELECT shipment_id, data FROM events WHERE shipment_id = ANY($1::bigint[])"
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
                    r["shipped_at"],
                    int(r["revision"]),
                    stored,
                    r["destination_country"],
                    r["destination_postal_code"],
                )
            )
        return found

    async def apply_pushes(self, updates: Sequence[PushUpdate]) -> set[int]:
        stale: set[int] = set()
        async with self._tx() as c:
            for u in sorted(updates, key=lambda u: u.shipment_id):  # lock in id order
                done = await c.fetchval(_PUSHED, u.shipment_id, u.revision, u.status.value,
                                        u.eta, u.last_event_at, u.push_until)  # fmt: skip
                if done is None:
                    stale.add(u.shipment_id)
                    continue
                await c.executemany(
                    "INSERT INTO events (shipment_id, occurred_at, code, place, data)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    [(u.shipment_id, e.occurred_at, e.code, e.place.label(),
                      e.model_dump_json()) for e in u.events],
                )  # fmt: skip
                await c.execute(
                    "UPDATE push_subscriptions SET last_push_at=$1, due_at=CASE WHEN $2"
                    " THEN $1 ELSE due_at END WHERE shipment_id=$3",
                    u.pushed_at,
                    u.status is Status.DELIVERED,
                    u.shipment_id,
                )
        return stale

    async def claim_new_subscriptions(
        self, carrier: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Subscription]:
        """New shipments are found past a watermark (the last shipment id looked at), held
        under a row lock so that two daemons do not read the same ones."""
        key = f"push_seen:{carrier}"
        async with self._tx() as c:
            await c.execute("INSERT INTO meta (key, value) VALUES ($1, '0')"
                            " ON CONFLICT (key) DO NOTHING", key)  # fmt: skip
            mark = await c.fetchval("SELECT value FROM meta WHERE key=$1 FOR UPDATE", key)
            rows = await c.fetch(
                "SELECT id, tracking_number, status, active AND stopped IS NULL AND"
                " set_aside IS NULL AND status<>'delivered' AS wanted FROM shipments"
                " WHERE carrier=$1 AND id>$2 ORDER BY id LIMIT $3",
                carrier, int(mark), limit,
            )  # fmt: skip
            if not rows:
                return []
            await c.execute("UPDATE meta SET value=$2 WHERE key=$1", key, str(rows[-1]["id"]))
            made = []
            for r in rows:
                if not r["wanted"]:
                    continue
                sub = Subscription(carrier, int(r["id"]), r["tracking_number"], SubState.PENDING,
                                   lease_until, status=Status(r["status"]))  # fmt: skip
                if await c.fetchval(f"{_INSERT} NOTHING RETURNING id", *_values(sub, now)):
                    made.append(sub)
        return made

    async def claim_due_subscriptions(
        self, carrier: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Subscription]:
        async with self._tx() as c:
            rows = await c.fetch(
                f"{_SUBSCRIPTIONS} WHERE p.carrier=$1 AND p.due_at<=$2"
                " ORDER BY p.due_at, p.id LIMIT $3 FOR UPDATE OF p SKIP LOCKED",
                carrier, now, limit,
            )  # fmt: skip
            await c.execute(
                "UPDATE push_subscriptions SET due_at=$1 WHERE id = ANY($2::bigint[])",
                lease_until,
                [int(r["id"]) for r in rows],
            )
        return [subscription_of(r) for r in rows]

    async def save_subscriptions(self, save: SubscriptionSave, now: datetime) -> None:
        async with self._tx() as c:
            await c.executemany(_UPSERT, [_values(s, now) for s in save.kept])
            await c.executemany(
                "DELETE FROM push_subscriptions WHERE carrier=$1 AND shipment_id=$2",
                [(s.carrier, s.shipment_id) for s in save.ended],
            )
            await c.executemany(
                "UPDATE shipments SET push_until=$2, dirty=active, revision=revision+1"
                " WHERE id=$1 AND push_until IS DISTINCT FROM $2",
                sorted(save.cover.items()),
            )

    async def subscriptions_by_id(self, carrier: str, subscription_id: str) -> list[Subscription]:
        rows = await self._pool.fetch(
            f"{_SUBSCRIPTIONS} WHERE p.carrier=$1 AND p.subscription_id=$2 ORDER BY p.id",
            carrier, subscription_id,
        )  # fmt: skip
        return [subscription_of(r) for r in rows]

    async def next_subscription_at(self, carrier: str) -> datetime | None:
        found: datetime | None = await self._pool.fetchval(
            "SELECT MIN(due_at) FROM push_subscriptions WHERE carrier=$1", carrier
        )
        return found
