"""Migration steps that are Python, not SQL: a data migration that needs what SQL lacks
(zoneinfo, the models). Each backend's MIGRATIONS holds SQL scripts and such steps; a step
runs inside the migration's one transaction, as a script does, so that it lands with the
version bump or not at all (SQLite: trackwatch.store.sqlite.base._migrate; PostgreSQL:
trackwatch.store.postgres.base.migrate)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PythonStep:
    """`sqlite` gets the sqlite3 connection inside the migration's transaction, `postgres`
    the asyncpg connection inside its transaction; neither may commit."""

    name: str
    sqlite: Callable[[sqlite3.Connection], None]
    postgres: Callable[[Any], Awaitable[None]]


Migration = str | PythonStep


def statements(script: str) -> Iterator[str]:
    """A SQLite script's statements one by one (sqlite3's executescript commits whatever
    transaction is open first, so a migration that must stay in one cannot use it)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\n;"):
                yield pending
            pending = ""
    if pending.strip(" \t\n;"):
        yield pending
