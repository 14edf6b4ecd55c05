"""The console's search on SQLite at scale: each of its terms read by an index."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from contextlib import closing
from pathlib import Path

from tests.backends import execute
from tests.postgres import Cluster, create_database, drop_database
from trackwatch.store import SqliteStore


def test_search_reads_by_index_not_every_shipment(tmp_path: Path) -> None:
    """SQLite: the search's order, tracking number and any-case email terms each by an
    index (a store's staff too), never a scan of every shipment (seconds at 100,000)."""
    asyncio.run(_closed(SqliteStore.open(tmp_path / "tw.db")))
    sql = ("SELECT * FROM shipments WHERE +store IN ('shop') AND (order_id='x' OR"
           " tracking_number='x' OR customer_email='X@Y' COLLATE NOCASE) ORDER BY id DESC")  # fmt: skip
    with closing(sqlite3.connect(tmp_path / "tw.db")) as db:
        plan = " ".join(str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "shipments_email_nocase" in plan and "shipments_order" in plan, plan
    assert "SCAN shipments" not in plan, plan


async def _closed(opened: Awaitable[SqliteStore]) -> None:
    await (await opened).close()


async def test_postgres_search_reads_by_index_not_every_shipment(postgres: Cluster) -> None:
    """PostgreSQL: the same over 20,000 analysed shipments; the any-case email term reads
    the lower() index (without it, every shipment was read, lower()ed and compared)."""
    name = await create_database(postgres)
    url = postgres.url(name)
    try:
        await execute(url, FILL)
        await execute(url, "ANALYZE shipments")
        plan = " ".join(row[0] for row in await execute(url, f"EXPLAIN {SEARCH}"))
    finally:
        await drop_database(postgres, name)
    assert "shipments_email_folded" in plan and "shipments_order" in plan, plan
    assert "Seq Scan" not in plan, plan


FILL = (
    "INSERT INTO shipments (store, carrier, tracking_number, order_id, customer_email,"
    " destination_country, shipped_at, created_at) SELECT 'shop' || (n % 10), 'ups', '1Z' || n,"
    " '#' || n, 'Customer' || n || '@Example.org', 'US', now(), now()"
    " FROM generate_series(1, 20000) AS n"
)
SEARCH = (
    "SELECT * FROM shipments WHERE store IN ('shop1') AND (order_id='x' OR tracking_number='x'"
    " OR lower(customer_email)=lower('customer11@example.org')) ORDER BY id DESC LIMIT 50"
)
