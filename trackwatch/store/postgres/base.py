"""The pool the repositories share: migrations under an advisory lock, a transaction per
unit of work, and the writes several of them make (notices queued with an alert, a store
alert opened)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Self, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from trackwatch.model import AlertState
from trackwatch.store.postgres.schema import MIGRATIONS
from trackwatch.store.records import NoticeDraft, StoreAlertOpen
from trackwatch.store.rows import audiences_text, explanation_text, notice_key
from trackwatch.store.steps import Migration, PythonStep
from trackwatch.store.versions import UPGRADE_POSTGRES, Upgraded, check_version

Conn: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

# Advisory locks belong to one database: the daemons sharing it migrate one at a time.
MIGRATION_LOCK = 0x7472_6163_6B77  # "trackw"
# How the daemons' sessions show in pg_stat_activity: `db upgrade` refuses while any is there.
APPLICATION = "trackwatch"
POOL_SIZE = 5  # the poll, rules and outbox loops, the HTTP API and a command at once


def affected(status: str) -> int:
    """The rows a command changed, from its status tag ("UPDATE 3", "INSERT 0 1")."""
    return int(status.rsplit(" ", 1)[-1])


async def migrate(
    conn: Conn | asyncpg.Connection[asyncpg.Record], upgrade: bool = True
) -> Upgraded | None:
    """Apply the migrations this database has not had, in one transaction under an advisory
    lock: daemons that start together wait for the first, then find nothing to do. A new
    database is always migrated; an older one only with `upgrade` (else SchemaBehind), a
    newer one never (SchemaAhead), and then nothing is changed. Returns what was upgraded."""
    wanted = len(MIGRATIONS)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        found = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        check_version(found, wanted, upgrade, UPGRADE_POSTGRES)
        for number, step in enumerate(MIGRATIONS[found:], start=found + 1):
            await run_step(conn, step)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
    return Upgraded(found, wanted, None) if 0 < found < wanted else None


async def run_step(conn: Conn | asyncpg.Connection[asyncpg.Record], step: Migration) -> None:
    """One migration, a script or a Python step, inside the caller's transaction."""
    if isinstance(step, PythonStep):
        await step.postgres(conn)
    else:
        await conn.execute(step)


def _storable(text: str) -> str:
    return text.replace("\x00", "\ufffd")


async def _connected(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Every connection of the pool writes text as SQLite would take it, except a NUL, which
    PostgreSQL cannot keep in text: carrier text reaches the store unchecked (scans, remarks,
    alert summaries made of them), and one stray NUL must not fail every pass. It is kept as
    U+FFFD, the replacement character."""
    await conn.set_type_codec(
        "text", schema="pg_catalog", encoder=_storable, decoder=str, format="text"
    )


async def _nothing_to_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """asyncpg resets every connection given back to the pool (RESET ALL, unlocking session
    advisory locks, UNLISTEN): a round trip each time a repository is done with it. The
    store sets no session state (its advisory locks end with their transaction), so there is
    nothing to reset; a transaction left open is still rolled back by the pool."""


class PostgresBase:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self._pool = pool
        # Part of every notice's idempotency key, as on SQLite (see SqliteBase).
        self.instance = ""
        self.upgraded: Upgraded | None = None  # what open(upgrade=True) did, if anything

    @classmethod
    async def open(cls, url: str, pool_size: int = POOL_SIZE, upgrade: bool = False) -> Self:
        """The store of a postgresql:// URL, migrated if new (or older, with `upgrade`:
        trackwatch.store.versions)."""
        pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, init=_connected,
                                         reset=_nothing_to_reset,
                                         server_settings={"application_name": APPLICATION})  # fmt: skip
        try:
            async with pool.acquire() as conn:
                upgraded = await migrate(conn, upgrade)
            store = cls(pool)
            store.upgraded = upgraded
            store.instance = (await store.secret("instance"))[:4].hex()
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        await self._pool.close()

    async def secret(self, name: str) -> bytes:
        """A random secret kept in the database, made on first use."""
        async with self._tx() as c:
            await c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                f"secret:{name}", secrets.token_hex(32),
            )  # fmt: skip
            value = await c.fetchval("SELECT value FROM meta WHERE key=$1", f"secret:{name}")
        return bytes.fromhex(str(value)) if value is not None else b""

    async def schema_version(self) -> int:
        return int(await self._pool.fetchval("SELECT MAX(version) FROM schema_migrations") or 0)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Conn]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield conn

    async def _all(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._pool.fetch(sql, *args)

    async def _by_shipment(
        self, sql: str, shipment_ids: Sequence[int]
    ) -> dict[int, list[asyncpg.Record]]:
        """Rows of `sql` (which selects shipment_id of `= ANY($1)`) per shipment."""
        found: dict[int, list[asyncpg.Record]] = {sid: [] for sid in shipment_ids}
        if shipment_ids:
            for row in await self._all(sql, list(shipment_ids)):
                found[int(row["shipment_id"])].append(row)
        return found

    def _key(self, key: str) -> str:
        return f"tw-{self.instance}-{key}"

    async def _enqueue(
        self, c: Conn, alert_id: int | None, drafts: Sequence[NoticeDraft], now: datetime
    ) -> None:
        """Queue notices, each of an alert (its shipment's) or of none (a digest); a notice
        queued before under the same key is left as it was."""
        await c.executemany(
            "INSERT INTO notices (alert_id, shipment_id, event, audience, channel, store, title,"
            " body, recipient, next_attempt_at, idempotency_key, created_at)"
            " VALUES ($1, (SELECT shipment_id FROM alerts WHERE id=$1), $2, $3, $4, $5, $6, $7,"
            " $8, $9, $10, $11) ON CONFLICT (idempotency_key) DO NOTHING",
            [
                (alert_id, d.event, d.audience.value, d.channel, d.store, d.title, d.body,
                 d.recipient, max(now, d.not_before or now),
                 self._key(notice_key(alert_id, d)), now)
                for d in drafts
            ],
        )  # fmt: skip

    async def _open_store_alert(self, c: Conn, alarm: StoreAlertOpen, now: datetime) -> int | None:
        f = alarm.finding
        alert_id = await c.fetchval(
            "INSERT INTO alerts (shipment_id, store, subject, rule, episode, state, severity,"
            " summary, action, explanation, audiences, opened_at)"
            " VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            " ON CONFLICT DO NOTHING RETURNING id",
            alarm.store, alarm.subject, f.rule, f.episode, AlertState.OPEN.value,
            f.severity.value, f.summary, f.action, explanation_text(f.explanation),
            audiences_text(f.audiences), now,
        )  # fmt: skip
        if alert_id is None:
            return None  # one is already open for this subject
        await self._enqueue(c, int(alert_id), alarm.notices, now)
        return int(alert_id)
