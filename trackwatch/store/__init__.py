"""The only place with SQL."""

from trackwatch.store.sqlite import DuplicateShipment, SqliteStore, UnreadableShipment

__all__ = ["DuplicateShipment", "SqliteStore", "UnreadableShipment"]
