"""The console's search on SQLite at scale: each of its terms read by an index."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from contextlib import closing
from pathlib import Path

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
