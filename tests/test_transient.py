"""Which store errors say nothing of the rows (trackwatch.store.transient): work that met one
is tried again as it was, not counted against what it was working on."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from trackwatch.store.transient import is_transient


@pytest.mark.parametrize(
    ("error", "transient"),
    [(sqlite3.OperationalError("database is locked"), True),
     (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), True),
     (asyncpg.exceptions.SerializationError("could not serialize access"), True),
     (ConnectionResetError(), True),
     (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
     (asyncpg.exceptions.DataError("invalid input"), False),
     (ValueError("a row that cannot be read"), False)],
)  # fmt: skip
def test_only_a_busy_or_lost_store_is_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
