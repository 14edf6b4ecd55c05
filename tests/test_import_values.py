"""Issue 22: values as exports write them. Carrier names as label tools write them map to
the carrier that carries the parcel, and an unknown one is refused, never guessed; country
names and codes; US ZIP codes a spreadsheet shortened; dates in the exports' formats, read
in the store's zone when they carry none."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carriers.names import UnsupportedCarrier, carrier_named
from trackwatch.cli.parsers import IMPORT_FORMATS
from trackwatch.errors import InputError
from trackwatch.importing.mapping import load_mapping
from trackwatch.importing.presets import PRESETS, SHIPSTATION, SHOPIFY, WOOCOMMERCE
from trackwatch.importing.values import carrier_text, country_code, instant, us_zip

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("carrier", "service", "expected"),
    [
        ("Stamps.com", "USPS Priority Mail", "usps"),
        ("Stamps.com", "", "usps"),  # Stamps.com sells USPS postage
        ("Stamps.com", "UPS® Ground", "ups"),  # ... and UPS labels: the service says so
        ("stamps_com", "usps_first_class_mail", "usps"),  # ShipStation's carrier code
        ("Endicia", "Priority Mail Express", "usps"),
        ("Pirate Ship", "Ground Advantage", "usps"),
        ("PirateShip", "UPS Ground Saver", "ups"),
        ("ups_walleted", "ups_ground", "ups"),
        ("ups", "", "ups"),
        ("fedex", "fedex_home_delivery", "fedex"),
        ("fedex_walleted", "", "fedex"),
        ("dhl_express_worldwide", "", "dhl"),
        ("DHL Express", "DHL Express Worldwide", "dhl"),
        ("dhl_global_mail", "", "dhl"),  # DHL eCommerce: its USPS numbers go to USPS
        ("usps_walleted", "", "usps"),
        ("FedEx SmartPost", "", "fedex"),
    ],
)  # fmt: skip
def test_carrier_names_as_label_tools_write_them(carrier: str, service: str, expected: str) -> None:
    assert carrier_named(carrier_text(carrier, service)) == expected


@pytest.mark.parametrize("carrier", ["Royal Mail", "canada_post", "globalpost", "apc", "OnTrac"])
def test_an_unknown_carrier_is_refused_by_its_name(carrier: str) -> None:
    with pytest.raises(UnsupportedCarrier):
        carrier_named(carrier_text(carrier, "Priority"))


@pytest.mark.parametrize(
    ("text", "code"),
    [("United States", "US"), ("US", "US"), ("USA", "US"), ("us", "US"),
     ("United States of America", "US"), ("Germany", "DE"), ("DEU", "DE"), ("de", "DE"),
     ("UK", "GB"), ("United Kingdom", "GB"), ("Great Britain", "GB"), ("Canada", "CA")],
)  # fmt: skip
def test_country_names_and_codes(text: str, code: str) -> None:
    assert country_code(text) == code


def test_an_unknown_country_is_a_field_error() -> None:
    with pytest.raises(InputError) as caught:
        country_code("Atlantis")
    assert caught.value.field == "destination_country"


@pytest.mark.parametrize(
    ("given", "restored", "warned"),
    [("2139", "02139", True), ("501", "00501", True), ("2139-4307", "02139-4307", True),
     ("02139", "02139", False), ("10001", "10001", False), ("10001-1234", "10001-1234", False)],
)  # fmt: skip
def test_a_us_zip_a_spreadsheet_shortened_is_restored_with_a_warning(
    given: str, restored: str, warned: bool
) -> None:
    value, warning = us_zip(given)
    assert value == restored
    assert (warning is not None) == warned
    if warning:
        assert given in warning and restored in warning


@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("11/21/2026 4:00:00 AM", SHIPSTATION.date_formats, "2026-11-21T04:00:00-05:00"),
        ("11/21/2026 4:00:00 PM", SHIPSTATION.date_formats, "2026-11-21T16:00:00-05:00"),
        ("11/21/2026", SHIPSTATION.date_formats, "2026-11-21T00:00:00-05:00"),
        ("21-11-2026", WOOCOMMERCE.date_formats, "2026-11-21T00:00:00-05:00"),
        ("2026-11-21 10:15:00 -0800", SHOPIFY.date_formats, "2026-11-21T10:15:00-08:00"),
        ("2026-11-21T10:15:00Z", (), "2026-11-21T10:15:00+00:00"),  # ISO, with its offset
        ("2026-11-21", (), "2026-11-21T00:00:00-05:00"),
        ("21.11.2026", ("%d.%m.%Y",), "2026-11-21T00:00:00-05:00"),  # --date-format
    ],
)  # fmt: skip
def test_dates_as_exports_write_them_in_the_stores_zone(
    text: str, formats: tuple[str, ...], expected: str
) -> None:
    assert instant(text, "shipped_at", formats, NEW_YORK) == expected


def test_a_date_in_no_known_format_names_the_formats() -> None:
    with pytest.raises(InputError) as caught:
        instant("2026/21/11", "shipped_at", WOOCOMMERCE.date_formats, NEW_YORK)
    assert caught.value.field == "shipped_at"
    assert "'%d-%m-%Y' or 'ISO 8601'" in caught.value.reason


def test_the_commands_format_choices_are_the_presets() -> None:
    assert set(IMPORT_FORMATS) == set(PRESETS)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[columns]\norder_id = 'A'\ntracking_number = 'B'\n", "[columns] must name shipped_at"),
        ("[columns]\norder_id = 'A'\ntracking_number = 'B'\nshipped_at = 'C'\ncolour = 'D'\n",
         "unknown field(s) colour"),
        ("[columns]\norder_id = 'A'\ntracking_number = 'B'\nshipped_at = 3\n",
         "shipped_at: give a column name or a list of them"),
        ("order_id = 'A'\n", "unknown key(s) order_id"),
        ("[columns\n", "is not a TOML file"),
    ],
)  # fmt: skip
def test_a_bad_mapping_file_says_what_is_wrong(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_mapping(path)
    assert caught.value.field == "--mapping" and reason in caught.value.reason
