"""Reaching past the store into the database, on either backend, as another program would: a
bug, a hand edit, an older version."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from typing import Any

import asyncpg

from trackwatch.store import sqlite_path

# What each driver raises when a write breaks a constraint.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, …"""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


async def execute(database: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run one statement (`?` placeholders) on its own connection, committed; its rows."""
    path = sqlite_path(database)
    if path is not None:
        with closing(sqlite3.connect(path)) as db, db:
            return [tuple(row) for row in db.execute(sql, args).fetchall()]
    conn = await asyncpg.connect(database)
    try:
        return [tuple(row) for row in await conn.fetch(_numbered(sql), *args)]
    finally:
        await conn.close()
