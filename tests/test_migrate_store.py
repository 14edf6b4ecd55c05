"""`trackwatch migrate-store FROM TO`: a SQLite database moved to PostgreSQL (and back) keeps
every row of every table, ids and notice keys included (an email's Message-ID is made of its
key: a copy that changed them would let a mailbox keep a duplicate), and a database that
cannot be copied whole is not copied at all. Real SQLite files, the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.backends import corrupt
from tests.postgres import Cluster, give_back, take_database
from tests.test_store import DRAFT, NOW, finding, scanned, shipment
from trackwatch.cli import main
from trackwatch.errors import InputError
from trackwatch.store import StoreInUse, open_store
from trackwatch.store.records import AlertOpen, Evaluation, PollUpdate
from trackwatch.store.tables import RELEASED, TABLES, Row


@pytest.fixture
async def pg_url(postgres: Cluster) -> AsyncIterator[str]:
    name = await take_database(postgres)
    yield postgres.url(name)
    await give_back(postgres, name)


async def _filled(database: str) -> None:
    """A database as a daemon leaves it: parcels polled and claimed, an alert with its
    notice, calls in the ledger, a parked carrier, a secret."""
    store = await open_store(database)
    first = await store.add_shipment(shipment(), NOW)
    second = await store.add_shipment(shipment("1Z5R89390357567128"), NOW)
    await store.apply_polls([PollUpdate(first, NOW, NOW, scanned("1Z5R89390357567127", 3, 30, 20))])
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(first, finding(), (DRAFT,))]), NOW)
    await store.due_shipments(NOW + timedelta(days=1), 10)  # claimed by a daemon since gone
    assert await store.take("usps", NOW, 60, NOW - timedelta(hours=1))
    await store.park_carrier("dhl", NOW + timedelta(minutes=30))
    await store.report_missing(second, "customer (link)", NOW)
    await store.close()


async def _dump(database: str) -> dict[str, list[Row]]:
    store = await open_store(database)
    found: dict[str, list[Row]] = {}
    for table in TABLES:
        found[table] = [row async for rows in store.table_rows(table, 2) for row in rows]
    await store.close()
    return found


def _released(dump: dict[str, list[Row]]) -> dict[str, list[Row]]:
    return {t: [{**row, **RELEASED.get(t, {})} for row in rows] for t, rows in dump.items()}


async def test_sqlite_to_postgres_and_back_keeps_every_row(tmp_path: Path, pg_url: str) -> None:
    lite = str(tmp_path / "tw.db")
    await _filled(lite)
    before = await _dump(lite)
    assert before["shipments"][0]["poll_lease"] is not None  # there was a claim to let go
    assert all(before[t] for t in ("events", "alerts", "notices", "carrier_calls"))

    copied = await _migrate(lite, pg_url)
    assert copied == {t: len(rows) for t, rows in before.items()}
    assert await _dump(pg_url) == _released(before)
    back = str(tmp_path / "back.db")
    await _migrate(pg_url, f"sqlite:///{back}")
    assert await _dump(back) == _released(before)

    moved = await open_store(pg_url)
    old = await open_store(lite)
    assert moved.instance == old.instance  # so notice keys and Message-IDs carry on
    assert [n.idempotency_key for n in await moved.notices()] == [
        n.idempotency_key for n in await old.notices()
    ]
    newest = max(s.id or 0 for s in (await old.list_shipments()).shipments)
    assert await moved.add_shipment(shipment("1Z5R89390357567129"), NOW) == newest + 1
    assert len((await moved.due_shipments(NOW + timedelta(days=1), 10)).shipments) == 3
    await moved.close()
    await old.close()


async def test_it_copies_into_an_empty_database_only(tmp_path: Path, pg_url: str) -> None:
    lite = str(tmp_path / "tw.db")
    await _filled(lite)
    await _filled(pg_url)
    with pytest.raises(InputError, match="already holds 2 shipments"):
        await _migrate(lite, pg_url)
    assert len((await _dump(pg_url))["shipments"]) == 2  # as it was


async def test_a_row_that_cannot_be_copied_copies_nothing(tmp_path: Path, pg_url: str) -> None:
    lite = str(tmp_path / "tw.db")
    await _filled(lite)
    await corrupt(lite, 2, shipped_at="last tuesday")
    with pytest.raises(InputError, match=r"shipments.shipped_at.*row 2: 'last tuesday'"):
        await _migrate(lite, pg_url)
    assert all(not rows for t, rows in (await _dump(pg_url)).items() if t != "meta")


async def test_a_database_a_daemon_runs_on_is_not_copied(tmp_path: Path, pg_url: str) -> None:
    lite = str(tmp_path / "tw.db")
    await _filled(lite)
    daemon = await open_store(lite, daemon=True)
    try:
        with pytest.raises(StoreInUse):
            await _migrate(lite, pg_url)
    finally:
        await daemon.close()


def test_the_command_never_prints_a_password(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_url = pg_url.replace("://tw@", "://tw:hunter2@")  # the test server trusts anyone
    assert secret_url != pg_url
    assert main(["migrate-store", str(tmp_path / "tw.db"), secret_url]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "tw:***@" in out and "0 shipments" in out


async def _migrate(source: str, target: str) -> dict[str, int]:
    from trackwatch.store.transfer import migrate_store

    return await migrate_store(source, target)
