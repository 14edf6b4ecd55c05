"""The connection the repositories share: WAL, migrations, one transaction at a time, and the writes
several of them make (notices queued with an alert, a store alert opened)."""

from __future__ import annotations

import asyncio
import fcntl
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Self, TypeVar, cast

import aiosqlite

from trackwatch.model import AlertState
from trackwatch.store.records import (
    NoticeDraft,
    StoreAlertOpen,
    ts,
)
from trackwatch.store.rows import notice_key
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.sqlite.backup import take_backup
from trackwatch.store.sqlite.rows import audiences_text, explanation_text
from trackwatch.store.steps import Migration, PythonStep, statements
from trackwatch.store.versions import Upgraded, check_version

T = TypeVar("T")
# A transaction's body run on the connection's own thread: it gets the sqlite3 connection.
Work = Callable[[sqlite3.Connection], T]


def run_migrations(db: sqlite3.Connection, pending: Sequence[tuple[int, Migration]]) -> None:
    """Numbered migrations inside the caller's transaction (see SqliteBase._migrate)."""
    for number, step in pending:
        if isinstance(step, PythonStep):
            step.sqlite(db)
        else:
            for statement in statements(step):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")


def _transaction(db: aiosqlite.Connection, work: Work[T]) -> T:
    """BEGIN IMMEDIATE, `work`, COMMIT (ROLLBACK if it raises), on aiosqlite's thread."""
    conn = db._conn  # sqlite3 connection, read on its own thread
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


_ENQUEUE = (
    "INSERT INTO notices (alert_id, shipment_id, event, audience, channel,"
    " store, title, body, recipient, next_attempt_at, idempotency_key, created_at)"
    " VALUES (?,(SELECT shipment_id FROM alerts WHERE id=?),?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
)


class StoreInUse(Exception):
    """Another daemon runs on this SQLite file (several daemons need PostgreSQL)."""


def _daemon_lock(path: Path) -> IO[bytes]:
    """Hold the file's daemon lock for as long as the process lives (the kernel drops it when
    the process dies, kill -9 included), or StoreInUse."""
    handle = open(f"{path}.daemon-lock", "ab")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StoreInUse(f"another trackwatch daemon is running on {path}: one daemon per "
                         "SQLite file (several daemons share a postgresql:// database)") from None  # fmt: skip
    return handle


class SqliteBase:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._daemon: IO[bytes] | None = None
        # Part of every notice's idempotency key (and so of every email's Message-ID): alert
        # ids repeat across databases (staging and production, two shops, a restored
        # backup), and a receiver that deduplicates would drop a real notice.
        self.instance = ""
        self.upgraded: Upgraded | None = None  # what open(upgrade=True) did, if anything

    @classmethod
    async def open(cls, path: Path | str, daemon: bool = False, upgrade: bool = False) -> Self:
        """`daemon`: the daemon's own store. One daemon per file, so whatever leases a dead
        one left (claimed polls and judgements) are given back at once. `upgrade`: migrate
        a database of an older release, after a backup beside it (trackwatch.store.versions:
        without it, such a database is refused untouched, as is a newer one)."""
        held = _daemon_lock(Path(path)) if daemon else None
        try:
            store = cls(await aiosqlite.connect(str(path), isolation_level=None))
        except BaseException:
            if held is not None:
                held.close()
            raise
        store._daemon = held
        try:
            await store._start(Path(path), upgrade)
        except BaseException:
            await store.close()
            raise
        return store

    async def _start(self, path: Path, upgrade: bool) -> None:
        db = self._db
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA busy_timeout=5000")
        found = await self.schema_version()  # before anything writes to the file
        if check_version(found, len(MIGRATIONS), upgrade) and found:
            backup = await asyncio.to_thread(take_backup, path)
            self.upgraded = Upgraded(found, len(MIGRATIONS), backup.path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await self._migrate()  # before foreign keys: a migration may rebuild a table
        await db.execute("PRAGMA foreign_keys=ON")
        self.instance = (await self.secret("instance"))[:4].hex()
        if self._daemon is not None:
            await db.execute("UPDATE shipments SET poll_lease=NULL, judge_lease=NULL"
                             " WHERE poll_lease IS NOT NULL OR judge_lease IS NOT NULL")  # fmt: skip

    async def close(self) -> None:
        await self._db.close()
        if self._daemon is not None:
            self._daemon.close()

    async def _migrate(self) -> None:
        """Every pending migration in one transaction, SQL scripts statement by statement
        and Python steps on the same connection, each followed by its version bump: a
        failure leaves the database at the version it had."""
        version = await self.schema_version()
        pending = list(enumerate(MIGRATIONS[version:], start=version + 1))
        if pending:
            await self._in_tx(lambda db: run_migrations(db, pending))

    async def secret(self, name: str) -> bytes:
        """A random secret kept in the database, made on first use (signs customer links
        when the configuration names none)."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (f"secret:{name}", secrets.token_hex(32)),
            )
            cur = await db.execute("SELECT value FROM meta WHERE key=?", (f"secret:{name}",))
            row = await cur.fetchone()
        return bytes.fromhex(str(row[0])) if row else b""

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _in_tx(self, work: Work[T]) -> T:
        """`work` in one transaction, run whole on the connection's thread: one hop there
        and back, where `_tx` makes one per statement (each a wake-up of both threads: on
        the hot paths they cost more than SQLite's work). `work` must not touch the event
        loop. A caller cancelled meanwhile leaves the transaction to finish (or roll back)
        there, before any statement queued after it."""
        run = cast(
            Callable[..., Awaitable[T]], self._db._execute
        )  # aiosqlite: fn run on its thread
        async with self._lock:
            return await run(_transaction, self._db, work)

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self._lock:  # one hop: execute and fetch together
            return list(await self._db.execute_fetchall(sql, params))

    async def _by_shipment(
        self, sql: str, shipment_ids: Sequence[int]
    ) -> dict[int, list[aiosqlite.Row]]:
        """Rows of `sql` (which selects shipment_id and filters `IN ({ids})`) per shipment."""
        found: dict[int, list[aiosqlite.Row]] = {sid: [] for sid in shipment_ids}
        if shipment_ids:
            marks = ",".join("?" * len(shipment_ids))
            for row in await self._all(sql.format(ids=marks), list(shipment_ids)):
                found[int(row["shipment_id"])].append(row)
        return found

    def _key(self, key: str) -> str:
        return f"tw-{self.instance}-{key}"

    async def _enqueue(
        self,
        db: aiosqlite.Connection,
        alert_id: int | None,
        drafts: Sequence[NoticeDraft],
        now: datetime,
    ) -> None:
        """Queue notices, each of an alert (its shipment's) or of none (a digest); a notice
        queued before under the same key is left as it was."""
        await db.executemany(_ENQUEUE, self._notice_rows(alert_id, drafts, now))

    def _enqueue_now(
        self, db: sqlite3.Connection, alert_id: int | None, drafts: Sequence[NoticeDraft],
        now: datetime,
    ) -> None:  # fmt: skip
        """`_enqueue` inside a transaction run on the connection's thread (`_in_tx`)."""
        db.executemany(_ENQUEUE, self._notice_rows(alert_id, drafts, now))

    def _notice_rows(
        self, alert_id: int | None, drafts: Sequence[NoticeDraft], now: datetime
    ) -> list[tuple[Any, ...]]:
        return [
            (alert_id, alert_id, d.event, d.audience.value, d.channel, d.store, d.title,
             d.body, d.recipient, ts(max(now, d.not_before or now)),
             self._key(notice_key(alert_id, d)),
             ts(now))
            for d in drafts
        ]  # fmt: skip

    async def _open_store_alert(
        self, db: aiosqlite.Connection, alarm: StoreAlertOpen, now: datetime
    ) -> int | None:
        f = alarm.finding
        cur = await db.execute(
            "INSERT INTO alerts (shipment_id, store, subject, rule, episode, state,"
            " severity, summary, action, explanation, audiences, opened_at)"
            " VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (alarm.store, alarm.subject, f.rule, f.episode, AlertState.OPEN.value,
             f.severity.value, f.summary, f.action, explanation_text(f.explanation),
             audiences_text(f.audiences), ts(now)),
        )  # fmt: skip
        if cur.rowcount != 1:
            return None  # one is already open for this subject
        alert_id = int(cur.lastrowid or 0)
        await self._enqueue(db, alert_id, alarm.notices, now)
        return alert_id
