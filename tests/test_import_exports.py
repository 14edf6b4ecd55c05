"""Issue 22, item 1: real exports import as they are (ShipStation shipments, WooCommerce
Shipment Tracking, Shopify fulfillments via Matrixify), with the rows a merchant expects and
no wrong carrier; a mapping file for others; every bad field of a row at once; --dry-run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import both_backends
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.config import load_settings
from trackwatch.store import open_store, sqlite_path

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def run(*args: str) -> int:
    return main(list(args), clock=FrozenClock(NOW))


@pytest.fixture
def config(tmp_path: Path, database: str) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{database}"\n[stores.shop]\nname = "Shop"\n')
    return path


def stored(config: Path) -> dict[str, dict[str, Any]]:
    """The stored shipments by order number."""

    async def read() -> dict[str, dict[str, Any]]:
        store = await open_store(load_settings(config).daemon.database)
        try:
            shipments = (await store.list_shipments()).shipments
            return {s.order_id: s.model_dump() for s in shipments}
        finally:
            await store.close()

    return asyncio.run(read())


def carriers(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {order: (r["carrier"], r["tracking_number"]) for order, r in rows.items()}


@both_backends
def test_a_shipstation_shipments_export_imports_as_it_is(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "shipstation-shipments.csv"
    assert run("import", str(path), "--store", "shop", "--config", str(config)) == 0
    out, err = capsys.readouterr()
    assert ("shipstation format: 6 added, 0 already watched, 0 bad row(s), 1 skipped (no "
            "tracking number, or not shipped), 1 repeated row(s) of the same shipment") in out  # fmt: skip
    rows = stored(config)
    assert carriers(rows) == {
        "1046": ("usps", "9400111230972151340599"),  # Stamps.com, USPS Priority Mail
        "1047": ("ups", "1Z5R89390326058066"),  # two item rows, one parcel
        "1048": ("fedex", "998886861174"),
        "1049": ("dhl", "7320865252"),  # DHL Express
        "1050": ("usps", "9400111286090944632191"),  # ShipStation's code stamps_com
        "1051": ("ups", "1Z5R89390348486624"),  # ups_walleted
    }
    # `11/21/2026 4:00:00 AM` in the store's zone (US: New York, EST).
    assert rows["1046"]["shipped_at"] == datetime(2026, 11, 21, 9, tzinfo=UTC)
    assert rows["1046"]["ordered_at"] == datetime(2026, 11, 20, 2, 12, 44, tzinfo=UTC)
    assert (rows["1046"]["destination_postal_code"], rows["1050"]["destination_postal_code"]) \
        == ("02139", "04101")  # fmt: skip
    assert (rows["1049"]["destination_country"], rows["1049"]["destination_postal_code"]) == (
        "GB", "SW1A 2AA")  # fmt: skip
    assert rows["1047"]["customer_email"] == "bo@example.com"
    lines = err.strip().splitlines()
    assert f"{path}:2: warning: destination_postal_code: ZIP code 2139 read as 02139 (leading " \
        "zero restored)" in lines  # fmt: skip
    assert [line for line in lines if "ignored column(s)" in line] == [
        f"{path}: warning: ignored column(s) 'Shipment - Package Count', 'Ship To - Company', "
        "'Ship To - Address 1', 'Ship To - Address 2', 'Ship To - Address 3', 'Item - SKU', "
        "'Item - Name', 'Item - Qty', 'Item - Price', 'Amount - Order Total', 'Amount - Paid "
        "by Customer', 'Notes - From Buyer' and 2 more"]  # fmt: skip


@both_backends
def test_a_woocommerce_shipment_tracking_file_imports_as_it_is(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "woocommerce-shipment-tracking.csv"
    assert run("import", str(path), "--store", "shop", "--config", str(config)) == 0
    assert "woocommerce format: 5 added, 0 already watched, 0 bad row(s)" in \
        capsys.readouterr().out  # fmt: skip
    rows = stored(config)
    assert carriers(rows) == {
        "18401": ("usps", "9400111890595426482440"),
        "18402": ("ups", "1Z5R89390349569042"),
        "18403": ("fedex", "516603836012"),
        "18404": ("dhl", "5370182311"),
        "18405": ("usps", "9261290113185417468510"),  # DHL eCommerce: USPS delivers it
    }
    assert rows["18405"]["sender_carrier"] == "dhl"
    assert rows["18401"]["shipped_at"] == datetime(2026, 11, 21, 5, tzinfo=UTC)  # 21-11-2026


@both_backends
def test_a_shopify_fulfillments_export_imports_as_it_is(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "shopify-matrixify-orders.csv"
    assert run("import", str(path), "--store", "shop", "--config", str(config)) == 0
    assert "shopify-fulfillments format: 3 added, 0 already watched, 0 bad row(s), 5 skipped" \
        in capsys.readouterr().out  # fmt: skip
    rows = stored(config)
    # #1002's cancelled fulfillment ships nothing; #1004 is not fulfilled.
    assert carriers(rows) == {"#1001": ("usps", "9400111230972151340599"),
                              "#1002": ("ups", "1Z5R89390326058066"),
                              "#1003": ("dhl", "7320865252")}  # fmt: skip
    first = rows["#1001"]  # the order's own columns are on its top row only
    assert (first["customer_email"], first["customer_name"], first["destination_postal_code"]) \
        == ("ann@example.com", "Ann Lee", "02139")  # fmt: skip
    assert first["shipped_at"] == datetime(2026, 11, 21, 15, 15, tzinfo=UTC)
    assert (rows["#1003"]["destination_country"], rows["#1003"]["customer_email"]) == ("DE", "")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SHIPSTATION_HEADER = ("Order - Number,Date - Shipped Date,Shipment - Carrier,Shipment - Service,"
                      "Shipment - Tracking Number,Ship To - Country,Customer - Email")  # fmt: skip


def test_every_bad_field_of_a_row_is_reported_at_once_and_nothing_stored_is_lost(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(tmp_path, "first.csv", SHIPSTATION_HEADER + "\n"
                  "1,11/21/2026 4:00:00 AM,UPS,UPS Ground,1Z5R89390326058066,US,a@example.com\n")  # fmt: skip
    assert run("import", str(first), "--store", "shop", "--config", str(config)) == 0
    path = write(tmp_path, "orders.csv", "\n".join([
        SHIPSTATION_HEADER,
        "2,11/22/2026 4:00:00 AM,FedEx,,998886861174,United States,b@example.com",
        "3,31/31/2026,Royal Mail,Tracked 48,RR123456785GB,Atlantis,nobody",
        "1,11/21/2026 4:00:00 AM,UPS,UPS Ground,1Z5R89390326058066,US,a@example.com",
    ]) + "\n")  # fmt: skip
    assert run("import", str(path), "--store", "shop", "--config", str(config)) == 1
    out, err = capsys.readouterr()
    assert "1 added, 1 already watched, 1 bad row(s)" in out
    lines = err.strip().splitlines()
    bad = {line.split(": ")[1]: line for line in lines if line.startswith(f"{path}:3: ")}
    assert sorted(bad) == ["carrier", "customer_email", "destination_country", "shipped_at"]
    assert "Royal Mail is not supported" in bad["carrier"]  # never taken for USPS
    assert "'31/31/2026' is not a date in the format" in bad["shipped_at"]
    assert "'Atlantis' is not a country name" in bad["destination_country"]
    assert sorted(stored(config)) == ["1", "2"]


def test_a_mapping_file_names_which_column_is_which(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = write(tmp_path, "columns.toml", '''date_format = "%d.%m.%Y"
[columns]
order_id = "Bestellung"
tracking_number = ["Sendungsnummer", "Tracking"]
carrier = "Versand"
shipped_at = "Versanddatum"
destination_country = "Land"
destination_postal_code = "PLZ"
''')  # fmt: skip
    path = write(tmp_path, "export.csv", "Bestellung,Versand,Tracking,Versanddatum,Land,PLZ,Notiz\n"
                 "A-1,Pirate Ship,9400111890595426482440,21.11.2026,United States,2139,x\n"
                 "A-2,DHL Express,5370182311,22.11.2026,Germany,10115,y\n")  # fmt: skip
    assert run("import", str(path), "--mapping", str(mapping), "--store", "shop",
               "--config", str(config)) == 0  # fmt: skip
    out, err = capsys.readouterr()
    assert "mapping columns.toml format: 2 added" in out
    assert "ignored column(s) 'Notiz'" in err
    rows = stored(config)
    assert carriers(rows) == {"A-1": ("usps", "9400111890595426482440"),
                              "A-2": ("dhl", "5370182311")}  # fmt: skip
    assert (rows["A-1"]["destination_postal_code"], rows["A-2"]["destination_country"]) == (
        "02139", "DE")  # fmt: skip


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("store,order_id,tracking_number,shipped_at,tracking_provider,date_shipped",
         "header: fits both the woocommerce and trackwatch formats: give --format"),
        ("Order - Number,Shipment - Carrier,Item - SKU",
         "header: missing column(s) Date - Shipped Date, Shipment - Tracking Number for the "
         "shipstation format (the closest; also known:"),
    ],
)  # fmt: skip
def test_an_ambiguous_or_unknown_header_names_the_candidates(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], header: str, message: str
) -> None:
    path = write(tmp_path, "x.csv", header + "\n")
    assert run("import", str(path), "--store", "shop", "--config", str(config)) == 2
    assert message in capsys.readouterr().err


def test_a_format_given_wins_over_detection(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "x.csv", "store,order_id,tracking_number,shipped_at,tracking_provider,"
                 "date_shipped\nshop,7,1Z5R89390326058066,2026-11-21,UPS,21-11-2026\n")  # fmt: skip
    assert run("import", str(path), "--format", "woocommerce", "--store", "shop",
               "--config", str(config)) == 0  # fmt: skip
    assert "woocommerce format: 1 added" in capsys.readouterr().out


def test_an_export_without_a_store_column_needs_store(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "woocommerce-shipment-tracking.csv"
    assert run("import", str(path), "--config", str(config)) == 2
    assert "--store: the woocommerce format names no store: give --store ID (shop)" in \
        capsys.readouterr().err  # fmt: skip


def test_a_date_format_for_other_exports(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "w.csv", "order_id,tracking_provider,tracking_number,date_shipped\n"
                 "9,UPS,1Z5R89390326058066,11-21-2026\n")  # fmt: skip
    assert run("import", str(path), "--store", "shop", "--date-format", "%m-%d-%Y",
               "--config", str(config)) == 0  # fmt: skip
    assert stored(config)["9"]["shipped_at"] == datetime(2026, 11, 21, 5, tzinfo=UTC)


@both_backends
def test_a_dry_run_reports_and_changes_nothing(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "shipstation-shipments.csv"
    args = ("import", str(path), "--store", "shop", "--config", str(config))
    assert run(*args, "--dry-run") == 0
    assert "6 would be added, 0 already watched" in capsys.readouterr().out
    sqlite = sqlite_path(load_settings(config).daemon.database)
    assert sqlite is None or not sqlite.exists()  # not even created
    assert run(*args) == 0
    before = stored(config)
    assert run(*args, "--dry-run") == 0
    assert "0 would be added, 6 already watched" in capsys.readouterr().out
    assert stored(config) == before
