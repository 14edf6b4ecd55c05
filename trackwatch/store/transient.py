"""Store errors that say nothing of the rows: the database busy or locked, a deadlock or a
serialization failure between daemons, a lost connection. Work that failed with one is
tried again as it was; it must not count against what it was working on (a push set
aside as failed for a lock held by the poller)."""

from __future__ import annotations

import sqlite3
import sys


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is such an error. asyncpg's are looked up only when it is loaded: a
    daemon on SQLite never imports it (its memory, tests/test_daemon_memory.py)."""
    if isinstance(exc, sqlite3.OperationalError | ConnectionError | TimeoutError):
        return True
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return False
    errors = asyncpg.exceptions
    return isinstance(exc, errors.TransactionRollbackError  # deadlock, serialization
                      | errors.PostgresConnectionError | errors.InterfaceError)  # fmt: skip
