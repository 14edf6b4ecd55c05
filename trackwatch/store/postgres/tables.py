"""PostgreSQL's tables as plain values (see trackwatch.store.tables)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from trackwatch.store.postgres.base import PostgresBase
from trackwatch.store.tables import TABLES, Loader, Row

# Tables whose ids PostgreSQL hands out: after rows are loaded with their own ids, the next
# id handed out must come after them.
_IDENTITIES = ("shipments", "events", "alerts", "notices", "staff", "staff_actions")


class PostgresTables(PostgresBase):
    async def table_rows(self, table: str, batch: int) -> AsyncIterator[list[Row]]:
        assert table in TABLES, table
        order = "id" if table in _IDENTITIES else "ctid"
        async with self._pool.acquire() as conn, conn.transaction():
            cursor = await conn.cursor(f"SELECT * FROM {table} ORDER BY {order}")
            while rows := await cursor.fetch(batch):
                yield [dict(row) for row in rows]

    async def row_counts(self) -> dict[str, int]:
        counts = {}
        for table in TABLES:
            counts[table] = int(await self._pool.fetchval(f"SELECT COUNT(*) FROM {table}") or 0)
        return counts

    @asynccontextmanager
    async def loading(self) -> AsyncIterator[Loader]:
        async with self._tx() as c:

            async def load(table: str, rows: list[Row]) -> None:
                if not rows:
                    return
                columns = list(rows[0])
                marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
                upsert = (
                    " ON CONFLICT (key) DO UPDATE SET value=excluded.value"
                    if table == "meta"
                    else ""
                )
                await c.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){upsert}",
                    [[row[col] for col in columns] for row in rows],
                )

            yield load
            for table in _IDENTITIES:
                await c.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
