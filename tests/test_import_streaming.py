"""Issue 21/22: the import streams (rows are checked and stored in batches, nothing holds
them all) and writes through the store in a few statements per batch on both backends;
`trackwatch bench-import` measures it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import both_backends
from trackwatch.config import build_settings
from trackwatch.errors import InputError
from trackwatch.importing import run as importing
from trackwatch.importing.bench import measure_import, write_rows
from trackwatch.importing.run import ImportOptions, import_csv
from trackwatch.model import Shipment
from trackwatch.store import Store

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SETTINGS = build_settings({"stores": {"shop": {"name": "Shop"}}})


def shipment(number: str, order: str) -> Shipment:
    return Shipment(store="shop", carrier="ups", tracking_number=number, order_id=order,
                    customer_email="", shipped_at=NOW - timedelta(days=1))  # fmt: skip


@both_backends
async def test_a_batch_is_stored_once_per_key_with_the_right_flags(any_store: Store) -> None:
    [(old_id, _)] = await any_store.add_shipments([shipment("1Z5R89390326058066", "1")], NOW)
    batch = [shipment("1Z5R89390348486624", "2"), shipment("1Z5R89390326058066", "1"),
             shipment("1Z5R89390348486624", "2 again"), shipment("1Z5R89390349569042", "3")]  # fmt: skip
    out = await any_store.add_shipments(batch, NOW)
    assert [created for _, created in out] == [True, False, False, True]
    assert out[1][0] == old_id and out[0][0] == out[2][0] and len({i for i, _ in out}) == 3
    assert await any_store.watched([*batch, shipment("1Z5R89390357567127", "4")]) == [
        out[0][0], old_id, out[0][0], out[3][0], None]  # fmt: skip
    listed = (await any_store.list_shipments()).shipments
    assert sorted(s.order_id for s in listed) == ["1", "2", "3"]


@both_backends
async def test_rows_go_to_the_store_in_batches_and_bad_rows_are_not_kept(
    tmp_path: Path, any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH", 7)
    path = tmp_path / "orders.csv"
    write_rows(path, 30, today=NOW.date())
    with path.open("a", encoding="utf-8") as handle:
        handle.write("shop,X1,ups,1Z5R89390357567128,2026-11-28,X,x@example.com,US,10001\n")
    sizes: list[int] = []
    add = any_store.add_shipments

    async def counted(shipments: list[Shipment], now: datetime) -> list[tuple[int, bool]]:
        sizes.append(len(shipments))
        return await add(shipments, now)

    monkeypatch.setattr(any_store, "add_shipments", counted)
    seen: list[int] = []
    report = await import_csv(path, SETTINGS, any_store, NOW, False, ImportOptions(),
                              on_bad=lambda line, _: seen.append(line))  # fmt: skip
    assert (report.added, report.bad_rows, report.bad) == (30, 1, [])  # reported, not kept
    assert seen == [32]
    assert sizes == [7, 7, 7, 7, 2]


async def test_a_file_that_cannot_be_read_stores_nothing(tmp_path: Path, any_store: Store) -> None:
    """Streaming must not store the first rows of a file whose later bytes are not UTF-8."""
    path = tmp_path / "orders.csv"
    write_rows(path, 20, today=NOW.date())
    with path.open("ab") as handle:
        handle.write(b"shop,X,ups,1Z5R89390357567127,2026-11-28,\xff\xfe,x@example.com,US,1\n")
    with pytest.raises(InputError) as caught:
        await import_csv(path, SETTINGS, any_store, NOW, False)
    assert caught.value.field == "file"
    assert (await any_store.list_shipments()).shipments == []


def test_the_benchmark_measures_a_fresh_import_and_a_reimport() -> None:
    figures = measure_import(40)
    assert figures["fresh_exit"] == figures["reimport_exit"] == 0
    assert figures["rows"] == 40
    for run in ("fresh", "reimport"):
        assert figures[f"{run}_rows_per_s"] > 0 and figures[f"{run}_peak_rss_mb"] > 10


def test_the_benchmarks_peak_memory_is_the_imports_not_its_callers() -> None:
    """`trackwatch bench` holds hundreds of MB by its import section; Linux carries a
    forked child's peak across exec, so the import's own must not be read from such a
    child."""
    held = bytearray(256 * 1024 * 1024)
    for i in range(0, len(held), 4096):  # touched: resident, not only reserved
        held[i] = 1
    figures = measure_import(40)
    assert figures["fresh_peak_rss_mb"] < 200 and figures["reimport_peak_rss_mb"] < 200
    del held
