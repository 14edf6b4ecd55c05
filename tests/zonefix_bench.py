"""How long migration 20 takes on a database of N shipments (default 10,000), each with eight
scans read from local times and two alerts, a third of them to Canada, a third to Australia,
a third to the US (whose scans do not move):

    .venv/bin/python -m tests.zonefix_bench [N] [--postgres]

Prints the time of the re-dating step alone, inside its transaction, on SQLite, and with
--postgres on a throwaway PostgreSQL (tests/postgres.py) too.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.postgres import create_database, start_cluster, stop_cluster
from trackwatch.model import Place, Status, TrackingEvent
from trackwatch.store.postgres.base import run_step
from trackwatch.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from trackwatch.store.schema import MIGRATIONS
from trackwatch.store.sqlite.base import run_migrations
from trackwatch.store.zonefix import REDATE

PLACES = (("CA", "M5V 3L9", "America/St_Johns"), ("AU", "2000", "Australia/Lord_Howe"),
          ("US", "10001", "America/New_York"))  # fmt: skip
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def rows(count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    shipments, events, alerts = [], [], []
    for sid in range(1, count + 1):
        country, postal, old = PLACES[sid % 3]
        shipped = START + timedelta(minutes=sid)
        shipments.append((sid, f"N{sid}", country, postal, shipped))
        place = Place(city="X", postal_code=postal, country=country)
        scans = []
        for n in range(8):
            wall = datetime.combine((shipped + timedelta(days=n)).date(), datetime.min.time())
            at = wall.replace(hour=8 + n, tzinfo=ZoneInfo(old))
            scan = TrackingEvent(occurred_at=at, status=Status.IN_TRANSIT, code=f"c{n}",
                                 description="PROCESSED", place=place, zone_inferred=True)  # fmt: skip
            scans.append(scan)
            events.append((sid, scan.occurred_at, scan.code, place.label(), scan.model_dump_json()))
        last = scans[-1].occurred_at.isoformat()
        alerts += [(sid, "stalled", last), (sid, "lost", f"silent@{last}")]
    return shipments, events, alerts


SHIPMENT = ("INSERT INTO shipments (id, store, carrier, tracking_number, order_id, customer_email,"
            " destination_country, destination_postal_code, shipped_at, created_at)"
            " VALUES (?, 'shop', 'dhl', ?, '1', 'c@example.com', ?, ?, ?, ?)")  # fmt: skip
EVENT = "INSERT INTO events (shipment_id, occurred_at, code, place, data) VALUES (?,?,?,?,?)"
ALERT = ("INSERT INTO alerts (shipment_id, store, rule, episode, state, severity, summary,"
         " action, explanation, opened_at) VALUES (?, 'shop', ?, ?, 'open', 'warning', '', '',"
         " '{}', ?)")  # fmt: skip


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, …"""
    count = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def text(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def on_sqlite(count: int) -> None:
    shipments, events, alerts = rows(count)
    with tempfile.TemporaryDirectory() as folder, closing(sqlite3.connect(Path(folder) / "b.db",
                                                                          isolation_level=None)) as db:  # fmt: skip
        db.execute("BEGIN")
        run_migrations(db, list(enumerate(MIGRATIONS[:19], start=1)))
        db.executemany(SHIPMENT, [(*s[:4], text(s[4]), text(s[4])) for s in shipments])
        db.executemany(EVENT, [(e[0], text(e[1]), *e[2:]) for e in events])
        db.executemany(ALERT, [(*a, text(START)) for a in alerts])
        db.execute("COMMIT")
        before = db.total_changes
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        run_migrations(db, [(20, REDATE)])
        db.execute("COMMIT")
        took = time.perf_counter() - started
        print(f"sqlite: {count} shipments, {len(events)} events, {len(alerts)} alerts: "
              f"{took:.2f} s ({db.total_changes - before} rows written)")  # fmt: skip


async def on_postgres(count: int, url: str) -> None:
    shipments, events, alerts = rows(count)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            for step in POSTGRES_MIGRATIONS[:10]:
                await run_step(conn, step)
            await conn.executemany(numbered(SHIPMENT), [(*s, s[4]) for s in shipments])
            await conn.copy_records_to_table(
                "events", records=events,
                columns=["shipment_id", "occurred_at", "code", "place", "data"])  # fmt: skip
            await conn.executemany(numbered(ALERT), [(*a, START) for a in alerts])
        started = time.perf_counter()
        async with conn.transaction():
            await run_step(conn, REDATE)
        took = time.perf_counter() - started
        print(f"postgres: {count} shipments, {len(events)} events, {len(alerts)} alerts: "
              f"{took:.2f} s")  # fmt: skip
    finally:
        await conn.close()


def with_postgres(count: int) -> None:
    cluster = start_cluster()
    try:
        name = asyncio.run(create_database(cluster, template="template0"))
        asyncio.run(on_postgres(count, cluster.url(name)))
    finally:
        stop_cluster(cluster)


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    size = numbers[0] if numbers else 10_000
    on_sqlite(size)
    if "--postgres" in sys.argv:
        with_postgres(size)
