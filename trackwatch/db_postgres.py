"""`trackwatch db` on PostgreSQL. trackwatch cannot copy a server's database consistently
itself (that is pg_dump's work, with the server's own snapshot), so it never migrates one
without the operator's word that a dump was taken: `db upgrade --backed-up`, or `[daemon]
upgrade = "auto"` for deployments whose backups are the server's (point-in-time recovery)."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import asyncpg

from trackwatch.store import redacted
from trackwatch.store.postgres.base import APPLICATION, migrate
from trackwatch.store.postgres.schema import MIGRATIONS
from trackwatch.store.versions import SchemaAhead, SchemaMismatch, upgrade_line


def without_password(url: str) -> str:
    """The URL with its password left out: pg_dump then takes it from PGPASSWORD or
    ~/.pgpass, and it is never printed."""
    return re.sub(r"^([a-z]+://[^:/@]*):[^@/]*@", r"\1@", url)


def pg_dump_line(url: str, version: int) -> str:
    """The command that backs the database up, in pg_dump's own format (pg_restore reads it)."""
    at = datetime.now(UTC)
    name = f"trackwatch-v{version}-{at:%Y%m%dT%H%M%SZ}.dump"
    return f"pg_dump --format=custom --file={name} --dbname={shlex.quote(without_password(url))}"


async def _version(conn: asyncpg.Connection[asyncpg.Record]) -> int:
    """The database's schema version, read without creating anything (0: new)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def _status(args: argparse.Namespace, url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        found = await _version(conn)
    finally:
        await conn.close()
    wanted = len(MIGRATIONS)
    pending = ", ".join(str(n) for n in range(found + 1, wanted + 1)) or "none"
    if found > wanted:
        pending = "none: the database is newer than this trackwatch (upgrade trackwatch)"
    print(f"backend: postgresql\ndatabase: {redacted(url)}")
    print(f"schema version: {found} (this trackwatch: {wanted})")
    print(f"pending migrations: {pending}")
    print("last backup: not known to trackwatch (PostgreSQL is backed up with pg_dump: "
          "`trackwatch db backup` prints the command)")  # fmt: skip
    return 0 if found == wanted else 1


async def _backup(args: argparse.Namespace, url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        found = await _version(conn)
    finally:
        await conn.close()
    print("trackwatch cannot copy a PostgreSQL database itself; back it up with pg_dump "
          "(consistent while the daemons run; the password from PGPASSWORD or ~/.pgpass):")  # fmt: skip
    print(f"  {pg_dump_line(url, found)}")
    print("restore into an empty database: pg_restore --dbname=URL FILE")
    return 1  # no backup was made by this command


async def _upgrade(args: argparse.Namespace, url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        found, wanted = await _version(conn), len(MIGRATIONS)
        if found > wanted:
            raise SchemaAhead(found, wanted)
        if found == wanted:
            print(f"already at version {wanted}: nothing to do")
            return 0
        if found == 0:
            raise SchemaMismatch(0, wanted, "no trackwatch tables in this database yet: the "
                                 "daemon makes them at start; nothing was changed")  # fmt: skip
        await _refuse_unless_safe(conn, args, url, found)
        done = await migrate(conn, upgrade=True)
    finally:
        await conn.close()
    print(upgrade_line(done) if done else f"already at version {wanted}: nothing to do")
    return 0


async def _refuse_unless_safe(
    conn: asyncpg.Connection[asyncpg.Record], args: argparse.Namespace, url: str, found: int
) -> None:
    """Migrate only with the operator's word that a dump was taken, and with no daemon
    connected: one of the older release would run on a schema it does not know."""
    wanted = len(MIGRATIONS)
    if not args.backed_up:
        raise SchemaMismatch(found, wanted, (
            f"the database is at version {found}, this trackwatch needs {wanted}. trackwatch "
            f"cannot back PostgreSQL up itself: run\n  {pg_dump_line(url, found)}\nthen "
            "`trackwatch db upgrade --backed-up`; nothing was changed"))  # fmt: skip
    # Daemons show as "trackwatch"; those of releases before it set no application name.
    others = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND application_name IN ($1, '')", APPLICATION)  # fmt: skip
    if others:
        raise SchemaMismatch(found, wanted, (
            f"{others} other trackwatch connection(s) to this database (daemons running?): "
            "stop every daemon, then run `trackwatch db upgrade --backed-up` again; nothing "
            "was changed"))  # fmt: skip


POSTGRES: dict[str, Callable[[argparse.Namespace, str], Coroutine[Any, Any, int]]] = {
    "status": _status,
    "backup": _backup,
    "upgrade": _upgrade,
}
