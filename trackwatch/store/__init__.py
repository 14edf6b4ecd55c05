"""The only place with SQL. Consumers are typed against the narrow protocols of
trackwatch.store.contract; `open_store` is the one place that picks a backend."""

from __future__ import annotations

from pathlib import Path

from trackwatch.store.contract import Store
from trackwatch.store.sqlite import DuplicateShipment, SqliteStore, UnreadableShipment
from trackwatch.store.sqlite.base import StoreInUse

SQLITE_PREFIX = "sqlite:///"


def sqlite_path(database: str | Path) -> Path | None:
    """The file of a SQLite database setting (a plain path, or `sqlite:///path`, where a
    fourth slash makes the path absolute); None for another backend's URL."""
    text = str(database)
    if text.startswith(SQLITE_PREFIX):
        return Path(text.removeprefix(SQLITE_PREFIX))
    return None if "://" in text else Path(text)


async def open_store(database: str | Path, daemon: bool = False) -> Store:
    """The store a `database` setting names: a path or `sqlite:///…` is SQLite. `daemon`:
    the daemon's own (a second daemon on one SQLite file is refused: StoreInUse)."""
    path = sqlite_path(database)
    if path is None:
        raise ValueError(f"{str(database).split('://', 1)[0]}:// databases are not supported "
                         "(use a path or sqlite:///path)")  # fmt: skip
    return await SqliteStore.open(path, daemon=daemon)


__all__ = [
    "DuplicateShipment",
    "SqliteStore",
    "Store",
    "StoreInUse",
    "UnreadableShipment",
    "open_store",
    "sqlite_path",
]
