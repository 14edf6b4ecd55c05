"""Reaching past the store into the database, on either backend, as another program would: a
bug, a hand edit, an older version."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import asyncpg

from trackwatch.store import sqlite_path
from trackwatch.store.records import ts

# What each driver raises when a write breaks a constraint.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)

# A shipment row nobody can read, by backend: SQLite takes any text for a time; PostgreSQL
# keeps times as times, but text where an enumeration is expected.
UNREADABLE = {"sqlite": {"shipped_at": "not a time"}, "postgres": {"direction": "sideways"}}
# ...and the same rows mended.
MENDED: dict[str, dict[str, Any]] = {
    "sqlite": {"shipped_at": datetime(2026, 11, 23, 14, tzinfo=UTC)},
    "postgres": {"direction": "outbound"},
}


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, …"""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


async def execute(database: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run one statement (`?` placeholders; times as datetimes) on its own connection,
    committed; its rows."""
    path = sqlite_path(database)
    if path is not None:
        values = [ts(a) if isinstance(a, datetime) else a for a in args]
        with closing(sqlite3.connect(path)) as db, db:
            return [tuple(row) for row in db.execute(sql, values).fetchall()]
    conn = await asyncpg.connect(database)
    try:
        return [tuple(row) for row in await conn.fetch(_numbered(sql), *args)]
    finally:
        await conn.close()


async def corrupt(database: str, sid: int, **columns: Any) -> None:
    """Write straight into a shipment's row, as a bug, a hand edit or an old version could."""
    for column, value in columns.items():
        await execute(database, f"UPDATE shipments SET {column}=? WHERE id=?", value, sid)
