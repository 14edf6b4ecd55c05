"""The only place with SQL."""

from trackwatch.store.sqlite import DuplicateShipment, SqliteStore

__all__ = ["DuplicateShipment", "SqliteStore"]
