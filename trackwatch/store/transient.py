"""Store errors that say nothing of the rows: the database busy or locked, a deadlock or a
serialization failure between daemons, a lost connection. Work that failed with one is
tried again as it was; it must not count against what it was working on (a push set
aside as failed for a lock held by the poller)."""

from __future__ import annotations

import sqlite3

import asyncpg

TRANSIENT: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,
    asyncpg.exceptions.TransactionRollbackError,  # deadlock, serialization failure
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
    TimeoutError,
)
