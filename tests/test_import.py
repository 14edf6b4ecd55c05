"""`trackwatch import FILE`: bad rows named by line, good rows stored, a second run a no-op."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import both_backends
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.config import load_settings
from trackwatch.csv_import import import_csv
from trackwatch.store import open_store

HEADER = ("store,order_id,carrier,tracking_number,shipped_at,customer_name,customer_email,"
          "destination_country,destination_postal_code,promised_by")  # fmt: skip
GOOD = [
    "shop,1001,ups,1Z5R89390357567127,2026-11-20,Ann Lee,ann@example.com,US,10001,",
    # no carrier: the number's format names USPS
    "shop,1002,,9400111398259791907485,2026-11-20T10:00-05:00,Bo Ma,bo@example.com,US,94107,"
    "2026-11-27",
    'shop,1003,fedex,232860129044,2026-11-21,"Dee, Cy",cy@example.com,US,60601,',
]
BAD = [
    ("shop,2001,ups,1Z5R89390357567128,2026-11-20,X,x@example.com,US,10001,",
     "tracking_number: '1Z5R89390357567128' fails the UPS check digit"),
    ("shop,2002,ups,1Z5R89390333788764,2026-11-20,X,nobody,US,10001,",
     "customer_email: is not a valid email address"),
    ("other,2003,ups,1Z5R89390325102732,2026-11-20,X,x@example.com,US,10001,",
     "store: 'other' is not configured"),
    ("shop,2004,ups,1Z5R89390346468693,20/11/2026,X,x@example.com,US,10001,",
     "shipped_at: '20/11/2026' is not an ISO date or date-time"),
    ("shop,2005,ups,1Z5R89390346468693,2026-11-20,X,x@example.com,USA,10001,",
     "destination_country: 'USA' is not an ISO 3166 alpha-2 country code"),
    (",2006,ups,1Z5R89390346468693,2026-11-20,X,x@example.com,US,10001,",
     "store: is required"),
    ("shop,2007,,12345,2026-11-20,X,x@example.com,US,10001,",
     "carrier: '12345' does not identify one carrier"),
    ("shop,2008,ups,1Z5R89390346468693,2026-11-20,X,x@example.com,US,10001,,extra",
     "row: has more fields than the header"),
    # A quoted cell may span lines (the next row's number counts them), but a name may not.
    ('shop,2009,ups,1Z5R89390346468693,2026-11-20,"Cy\nDee",x@example.com,US,10001,',
     "customer_name: contains a control character (U+000A)"),
    ("shop,2010,ups,1Z5R89390346468693,0001-01-01,X,x@example.com,US,10001,",
     "shipped_at: 0001-01-01 is more than 365 days ago"),
    ("shop,2011,ups,1Z5R89390346468693,2026-11-20,X,x@example.com,US,10001,9999-12-31",
     "promised_by: 9999-12-31 is more than 365 days ahead"),
]  # fmt: skip
NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)


def run(*args: str) -> int:
    """The command, at the test's time: the dates above stay within a year of it."""
    return main(list(args), clock=FrozenClock(NOW))


pytestmark = both_backends


@pytest.fixture
def config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n[stores.shop]\nname = "Shop"\n')
    return path


def write_csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def stored(config: Path) -> list[dict[str, object]]:
    return asyncio.run(_stored(config))


async def _stored(config: Path) -> list[dict[str, object]]:
    store = await open_store(load_settings(config).daemon.database)
    try:
        return [s.model_dump() for s in (await store.list_shipments()).shipments]
    finally:
        await store.close()


def test_bad_rows_are_named_by_line_and_good_rows_stored(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Good rows first (the third spans two lines), then the bad ones.
    path = write_csv(tmp_path, GOOD + [line for line, _ in BAD])
    assert run("import", str(path), "--config", str(config)) == 1
    out, err = capsys.readouterr()
    assert f"3 added, 0 already watched, {len(BAD)} bad row(s)" in out
    bad_lines = err.strip().splitlines()
    assert len(bad_lines) == len(BAD)
    # Line 1 is the header, lines 2-4 the good rows, so bad rows start at 5; the row with a
    # line break in a quoted cell takes two lines.
    numbers = [*range(5, 5 + 9), 15, 16]
    for number, line, (_, reason) in zip(numbers, bad_lines, BAD, strict=True):
        assert line.startswith(f"{path}:{number}: "), line
        assert reason in line, line
    rows = stored(config)
    assert sorted((r["order_id"], r["carrier"]) for r in rows) == [
        ("1001", "ups"), ("1002", "usps"), ("1003", "fedex")]  # fmt: skip
    by_order = {r["order_id"]: r for r in rows}
    assert by_order["1003"]["customer_name"] == "Dee, Cy"
    assert by_order["1002"]["promised_by"] == datetime(2026, 11, 27, tzinfo=UTC)
    assert by_order["1002"]["shipped_at"] == datetime(2026, 11, 20, 15, tzinfo=UTC)


def test_importing_the_same_file_twice_changes_nothing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, GOOD)
    assert run("import", str(path), "--config", str(config)) == 0
    first = stored(config)
    assert run("import", str(path), "--config", str(config)) == 0
    assert "0 added, 3 already watched, 0 bad row(s)" in capsys.readouterr().out
    assert stored(config) == first


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("store,order_id,tracking_number", "header: missing column(s) shipped_at"),
        ("order_id,tracking_number,customer_email", "missing column(s) shipped_at, store"),
        ("", "header: the file is empty"),
    ],
)
def test_a_bad_header_imports_nothing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], header: str, message: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([header, *GOOD]) if header else "", encoding="utf-8")
    assert run("import", str(path), "--config", str(config)) == 2
    assert message in capsys.readouterr().err
    assert stored(config) == []


def test_extra_columns_are_ignored_with_one_warning(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22: a column trackwatch does not read was fatal; exports carry dozens."""
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([HEADER + ",colour,size", *(g + ",red,L" for g in GOOD)]) + "\n",
                    encoding="utf-8")  # fmt: skip
    assert run("import", str(path), "--config", str(config)) == 0
    out, err = capsys.readouterr()
    assert "3 added" in out
    assert err.strip().splitlines() == [f"{path}: warning: ignored column(s) 'colour', 'size'"]


async def test_a_terminal_gets_a_progress_bar(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, GOOD)
    settings = load_settings(config)
    store = await open_store(settings.daemon.database)
    try:
        report = await import_csv(path, settings, store, NOW, progress=True)
    finally:
        await store.close()
    assert report.added == 3
    assert "3/3" in capsys.readouterr().err


def test_no_bar_when_not_a_terminal(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, GOOD)
    assert run("import", str(path), "--config", str(config)) == 0
    assert "3/3" not in capsys.readouterr().err  # pytest's capture is not a TTY


def test_a_byte_order_mark_from_a_spreadsheet_is_not_part_of_the_header(
    tmp_path: Path, config: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + GOOD[0] + "\n").encode())
    # Read as plain UTF-8, the first column would be '\ufeffstore', an unknown column.
    assert run("import", str(path), "--config", str(config)) == 0


# --- issue 16 ------------------------------------------------------------------------------


def test_a_refused_row_reports_all_its_bad_fields(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 15: every problem of a row, one `FILE:LINE: field: reason` each."""
    row = "shop,3001,ups,1Z5R89390357567128,9999-12-31,X,a@x.com;b@y.com,XX,10001,"
    path = write_csv(tmp_path, [row])
    assert run("import", str(path), "--config", str(config)) == 1
    out, err = capsys.readouterr()
    assert "0 added, 0 already watched, 1 bad row(s)" in out
    lines = err.strip().splitlines()
    assert all(line.startswith(f"{path}:2: ") for line in lines)
    fields = sorted(line.removeprefix(f"{path}:2: ").split(":")[0] for line in lines)
    assert fields == ["customer_email", "destination_country", "shipped_at", "tracking_number"]
    assert stored(config) == []


def test_only_the_four_required_columns_are_required(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 18: the README said some columns were optional that the import required;
    a point-of-sale order has no email."""
    path = tmp_path / "orders.csv"
    path.write_text("store,order_id,tracking_number,shipped_at\n"
                    "shop,4001,1Z5R89390357567127,2026-11-20\n", encoding="utf-8")  # fmt: skip
    assert run("import", str(path), "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "1 added" in out and "1 row(s): no customer email: staff alerts only" in out
    (row,) = stored(config)
    assert (row["carrier"], row["customer_email"], row["destination_country"]) == ("ups", "", "US")


def test_the_summary_counts_labels_tracked_with_usps(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 17: a FedEx SmartPost label's USPS number is tracked with USPS."""
    path = write_csv(tmp_path, [
        "shop,5001,FedEx SmartPost,9261290113185417468510,2026-11-20,X,x@example.com,US,10001,"])  # fmt: skip
    assert run("import", str(path), "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert ("1 row(s): FedEx SmartPost or Ground Economy label: tracked with USPS, which "
            "delivers it") in out  # fmt: skip
    (row,) = stored(config)
    assert (row["carrier"], row["sender_carrier"]) == ("usps", "fedex")
