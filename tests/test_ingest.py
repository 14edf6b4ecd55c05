"""The one validator every way in shares (`trackwatch add`, CSV, the API, Shopify): each field
checked, every problem of an input reported (not only the first), the carrier the sender named
outranking the number's shape, and what the sender should know about an accepted shipment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trackwatch.config import build_settings
from trackwatch.errors import InputError
from trackwatch.ingest import accept

NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)
SETTINGS = build_settings({"stores": {"shop": {"name": "Shop"}}})
ORDER: dict[str, Any] = {
    "store": "shop", "order_id": "1001", "tracking_number": "1Z5R89390357567127",
    "shipped_at": "2026-11-23T09:00-05:00", "customer_name": "Ann Lee",
    "customer_email": "ann@example.com", "destination_country": "US",
    "destination_postal_code": "10001",
}  # fmt: skip
SUREPOST = "9261290113185417468510"  # a USPS IMpb (jkeen's USPS IMpb C vector, routing cut)


def problems(change: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        accept({**ORDER, **change}, SETTINGS, NOW)
    return {p.field: p.reason for p in caught.value.problems}


def test_a_good_order_is_accepted_as_given() -> None:
    accepted = accept(ORDER, SETTINGS, NOW)
    s = accepted.shipment
    assert (s.store, s.carrier, s.tracking_number, s.order_id) == (
        "shop", "ups", "1Z5R89390357567127", "1001")  # fmt: skip
    assert s.shipped_at == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert s.customer_email == "ann@example.com" and s.sender_carrier is None
    assert accepted.notes == ()


# --- finding 1: dates within a plausible window of now ------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("shipped_at", "0001-01-01", "0001-01-01 is more than 365 days ago"),
        ("shipped_at", "9999-12-31", "9999-12-31 is more than 7 days ahead"),
        ("shipped_at", "2025-11-22", "more than 365 days ago"),
        ("shipped_at", "2026-12-01T00:00+00:00", "more than 7 days ahead"),
        ("ordered_at", "0001-01-01T00:00+14:00", "more than 365 days ago"),
        ("ordered_at", "2026-11-25", "more than 1 day ahead"),
        ("promised_by", "9999-12-31T23:59:59-12:00", "more than 365 days ahead"),
        ("promised_by", "1970-01-01", "more than 365 days ago"),
    ],
)
def test_dates_outside_a_plausible_window_are_refused(field: str, value: str, reason: str) -> None:
    found = problems({field: value})
    assert list(found) == [field] and reason in found[field]


def test_dates_at_the_edges_of_the_window_are_accepted() -> None:
    edges = {"shipped_at": "2026-11-30T17:00+00:00", "ordered_at": "2025-11-23T17:00Z",
             "promised_by": "2027-11-23"}  # fmt: skip
    shipment = accept({**ORDER, **edges}, SETTINGS, NOW).shipment
    assert shipment.shipped_at == NOW + timedelta(days=7)
    assert shipment.ordered_at == NOW - timedelta(days=365)


# --- finding 15: one validator, every field, every problem --------------------------------


@pytest.mark.parametrize(
    "email",
    ["a@x.com,evil@y.com", "a@x.com evil@y.com", "Ann <ann@example.com>", "a@x.com;b@y.com",
     "nobody", "@example.com", "ann@", "ann@localhost"],
)  # fmt: skip
def test_customer_email_is_exactly_one_valid_address(email: str) -> None:
    assert list(problems({"customer_email": email})) == ["customer_email"]


def test_the_email_is_kept_normalized() -> None:
    shipment = accept({**ORDER, "customer_email": "Ann@Example.COM"}, SETTINGS, NOW).shipment
    assert shipment.customer_email == "Ann@example.com"


@pytest.mark.parametrize("phone", ["5550001111", "+1555000111", "+15550001111", "call me"])
def test_phone_numbers_must_be_e164(phone: str) -> None:
    found = problems({"customer_phone": phone})
    assert list(found) == ["customer_phone"] and "E.164" in found["customer_phone"]


def test_a_phone_number_is_stored_in_e164() -> None:
    shipment = accept({**ORDER, "customer_phone": "+1 (201) 555-0123"}, SETTINGS, NOW).shipment
    assert shipment.customer_phone == "+12015550123"


@pytest.mark.parametrize("country", ["XX", "ZZ", "UK", "USA", "U1", "EU"])
def test_countries_are_iso_3166_codes(country: str) -> None:
    found = problems({"destination_country": country})
    assert list(found) == ["destination_country"] and "ISO 3166" in found["destination_country"]


def test_a_country_code_in_lower_case_is_accepted() -> None:
    shipment = accept({**ORDER, "destination_country": "gb"}, SETTINGS, NOW).shipment
    assert shipment.destination_country == "GB"


TEXT_FIELDS = ["store", "order_id", "carrier", "tracking_number", "customer_name",
               "customer_email", "customer_phone", "destination_postal_code", "destination_city",
               "shipped_at"]  # fmt: skip


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028",
                                  "\ud800"])  # fmt: skip
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_control_characters_and_line_breaks_are_refused_in_every_text_field(
    field: str, char: str
) -> None:
    value = f"{ORDER.get(field) or 'x'}{char}y"
    found = problems({field: value})
    assert field in found, found
    assert f"U+{ord(char):04X}" in found[field]


def test_every_bad_field_of_an_input_is_reported() -> None:
    bad = {"customer_email": "a@x.com,evil@y.com", "destination_country": "XX",
           "shipped_at": "9999-12-31", "tracking_number": "1Z5R89390357567128",
           "customer_phone": "555", "order_id": "", "colour": "red"}  # fmt: skip
    with pytest.raises(InputError) as caught:
        accept({**ORDER, **bad}, SETTINGS, NOW)
    fields = [p.field for p in caught.value.problems]
    assert sorted(fields) == sorted(["customer_email", "destination_country", "shipped_at",
                                     "tracking_number", "customer_phone", "order_id",
                                     "colour"])  # fmt: skip
    # Callers that read one problem still get the first, and the message lists them all.
    assert (caught.value.field, caught.value.reason) == (
        caught.value.problems[0].field, caught.value.problems[0].reason)  # fmt: skip
    assert str(caught.value).count(": ") >= len(fields)


def test_the_required_fields_are_exactly_four() -> None:
    found = problems({k: None for k in ORDER})
    assert sorted(found) == ["order_id", "shipped_at", "store", "tracking_number"]
    assert set(found.values()) == {"is required"}


# --- finding 16: the sender's carrier name outranks the number's shape ----------------------


@pytest.mark.parametrize(
    ("name", "number", "carrier"),
    [
        ("USPS", "9400111206206406260787", "usps"),
        ("United States Postal Service", "9400111206206406260787", "usps"),
        ("U.S. Postal Service", "9400111206206406260787", "usps"),
        ("UPS", "1Z5R89390357567127", "ups"),
        ("United Parcel Service", "1Z5R89390357567127", "ups"),
        ("ups", "1Z5R89390357567127", "ups"),
        ("FedEx", "232860129044", "fedex"),
        ("Federal Express", "232860129044", "fedex"),
        ("FedEx Ground", "232860129044", "fedex"),
        ("DHL Express", "0479666972", "dhl"),
        ("DHL eCommerce", "GM2951173225174494", "dhl"),
        ("dhl", "0479666972", "dhl"),
        ("Other", "9400111206206406260787", "usps"),  # no carrier named: the number decides
    ],
)
def test_common_spellings_of_our_carriers(name: str, number: str, carrier: str) -> None:
    shipment = accept({**ORDER, "carrier": name, "tracking_number": number}, SETTINGS, NOW).shipment
    assert shipment.carrier == carrier and shipment.sender_carrier is None


@pytest.mark.parametrize(
    ("name", "number"),
    [("Royal Mail", "RR123456785GB"), ("Canada Post", "RB123456785US"),
     ("OnTrac", "1Z5R89390357567127"), ("pigeon", "9400111206206406260787")],
)  # fmt: skip
def test_an_unsupported_carrier_is_refused_by_name(name: str, number: str) -> None:
    found = problems({"carrier": name, "tracking_number": number})
    assert list(found) == ["carrier"]
    assert found["carrier"].startswith(f"{name} is not supported")


def test_a_foreign_post_number_is_not_taken_for_usps_abroad() -> None:
    found = problems({"tracking_number": "RR123456785GB", "destination_country": "GB"})
    assert list(found) == ["carrier"] and "give the carrier" in found["carrier"]
    # Bound for the US, USPS carries its last leg and tracks it.
    inbound = accept({**ORDER, "tracking_number": "RR123456785GB"}, SETTINGS, NOW).shipment
    assert inbound.carrier == "usps"


def test_a_number_of_another_carrier_than_the_one_named_is_refused() -> None:
    found = problems({"carrier": "FedEx", "tracking_number": "1Z5R89390357567127"})
    assert list(found) == ["tracking_number"] and "looks like a UPS number" in found[
        "tracking_number"]  # fmt: skip


# --- finding 17: labels another carrier hands to USPS -----------------------------------


@pytest.mark.parametrize(
    ("name", "sender", "service"),
    [
        ("UPS", "ups", "UPS SurePost or Mail Innovations label"),
        ("UPS SurePost", "ups", "UPS SurePost or Mail Innovations label"),
        ("UPS Mail Innovations", "ups", "UPS SurePost or Mail Innovations label"),
        ("FedEx", "fedex", "FedEx SmartPost or Ground Economy label"),
        ("FedEx Ground Economy", "fedex", "FedEx SmartPost or Ground Economy label"),
        ("DHL eCommerce", "dhl", "DHL eCommerce label"),
        ("DHL", "dhl", "DHL eCommerce label"),
    ],
)
def test_a_usps_delivered_label_is_tracked_with_usps(name: str, sender: str, service: str) -> None:
    accepted = accept({**ORDER, "carrier": name, "tracking_number": f"420 10282 {SUREPOST}"},
                      SETTINGS, NOW)  # fmt: skip
    s = accepted.shipment
    assert (s.carrier, s.tracking_number, s.sender_carrier) == ("usps", SUREPOST, sender)
    (note,) = accepted.notes
    assert note == f"{service}: tracked with USPS, which delivers it"


# --- finding 18: an order without an email ---------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   "])
def test_an_order_without_email_is_watched_for_staff_only(email: str | None) -> None:
    order = {k: v for k, v in {**ORDER, "customer_email": email}.items() if v is not None}
    accepted = accept(order, SETTINGS, NOW)
    assert accepted.shipment.customer_email == ""
    (note,) = accepted.notes
    assert "no customer email" in note and "staff alerts only" in note
