"""The only place with SQL. Consumers are typed against the narrow protocols of
trackwatch.store.contract; `open_store` is the one place that picks a backend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trackwatch.store.contract import Store
from trackwatch.store.rows import DuplicateShipment, UnreadableShipment
from trackwatch.store.sqlite import SqliteStore
from trackwatch.store.sqlite.base import StoreInUse
from trackwatch.store.versions import SchemaAhead, SchemaBehind, SchemaMismatch

if TYPE_CHECKING:
    from trackwatch.store.postgres import PostgresStore

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def sqlite_path(database: str | Path) -> Path | None:
    """The file of a SQLite database setting (a plain path, or `sqlite:///path`, where a
    fourth slash makes the path absolute); None for another backend's URL."""
    text = str(database)
    if text.startswith(SQLITE_PREFIX):
        return Path(text.removeprefix(SQLITE_PREFIX))
    return None if "://" in text else Path(text)


def redacted(database: str | Path) -> str:
    """A `database` setting fit to print: a URL's password replaced by ***."""
    return re.sub(r"^([a-z]+://[^:/@]*):[^@/]*@", r"\1:***@", str(database))


async def open_store(database: str | Path, daemon: bool = False, upgrade: bool = False) -> Store:
    """The store a `database` setting names: a path or `sqlite:///…` is SQLite, a
    `postgresql://…` (or `postgres://…`) URL PostgreSQL. `daemon`: the daemon's own (a second
    daemon on one SQLite file is refused: StoreInUse; PostgreSQL takes several). A database
    of a newer release is refused (SchemaAhead), one of an older release too (SchemaBehind)
    unless `upgrade`: then SQLite backs it up beside itself and both migrate it."""
    text = str(database)
    if text.startswith(POSTGRES_SCHEMES):
        # PostgreSQL's store and asyncpg load only for a PostgreSQL database: a daemon on
        # SQLite would keep them resident for nothing (issue 21: the daemon's RSS).
        from trackwatch.store.postgres import PostgresStore  # noqa: PLC0415

        return await PostgresStore.open(text, upgrade=upgrade)
    path = sqlite_path(database)
    if path is None:
        raise ValueError(f"{text.split('://', 1)[0]}:// databases are not supported "
                         "(use a path, sqlite:///path or postgresql://…)")  # fmt: skip
    return await SqliteStore.open(path, daemon=daemon, upgrade=upgrade)


def __getattr__(name: str) -> Any:
    """`PostgresStore`, loaded when first asked for (see open_store)."""
    if name == "PostgresStore":
        from trackwatch.store.postgres import PostgresStore  # noqa: PLC0415

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DuplicateShipment",
    "PostgresStore",
    "SchemaAhead",
    "SchemaBehind",
    "SchemaMismatch",
    "SqliteStore",
    "Store",
    "StoreInUse",
    "UnreadableShipment",
    "open_store",
    "redacted",
    "sqlite_path",
]
