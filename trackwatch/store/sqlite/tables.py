"""SQLite's tables as plain values (see trackwatch.store.tables)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiosqlite

from trackwatch.errors import InputError
from trackwatch.store.records import parse_ts, ts
from trackwatch.store.sqlite.base import SqliteBase
from trackwatch.store.tables import FLAGS, TABLES, TIMES, Loader, Row


def _value(table: str, column: str, value: Any, row_id: Any) -> Any:
    if value is None:
        return None
    if column in FLAGS.get(table, ()):
        return bool(value)
    if column not in TIMES[table]:
        return value
    try:
        found = parse_ts(str(value))
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise InputError(f"{table}.{column}", f"row {row_id}: {value!r} is not a time with "
                         "its offset; mend the row, then migrate again")  # fmt: skip
    return found


def _stored(value: Any) -> Any:
    if isinstance(value, datetime):
        return ts(value)
    return int(value) if isinstance(value, bool) else value


class SqliteTables(SqliteBase):
    async def table_rows(self, table: str, batch: int) -> AsyncIterator[list[Row]]:
        assert table in TABLES, table
        async with self._db.execute(
            f"SELECT rowid AS _rowid, * FROM {table} ORDER BY rowid"
        ) as cur:
            while rows := await cur.fetchmany(batch):
                yield [self._plain(table, row) for row in rows]

    @staticmethod
    def _plain(table: str, row: aiosqlite.Row) -> Row:
        data = dict(row)
        row_id = data.pop("_rowid")
        return {k: _value(table, k, v, data.get("id", row_id)) for k, v in data.items()}

    async def row_counts(self) -> dict[str, int]:
        counts = {}
        for table in TABLES:
            rows = await self._all(f"SELECT COUNT(*) FROM {table}")
            counts[table] = int(rows[0][0])
        return counts

    @asynccontextmanager
    async def loading(self) -> AsyncIterator[Loader]:
        async with self._tx() as db:

            async def load(table: str, rows: list[Row]) -> None:
                if not rows:
                    return
                columns = list(rows[0])
                upsert = (
                    " ON CONFLICT (key) DO UPDATE SET value=excluded.value"
                    if table == "meta"
                    else ""
                )
                await db.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' * len(columns))}){upsert}",
                    [[_stored(row[c]) for c in columns] for row in rows],
                )

            yield load
