"""Tracking numbers: every valid and invalid test vector in the jkeen files, plus the traps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carriers.numbers import (
    InvalidTrackingNumber,
    check_failures,
    detect,
    formats,
    normalize,
    s10_country,
    usps_impb,
    validate,
)

DATA = Path(__file__).parent.parent / "carriers" / "data" / "tracking_numbers"
FILES = {"ups": "ups", "fedex": "fedex", "usps": "usps", "dhl": "dhl", "s10": "usps"}


def vectors(kind: str) -> list[tuple[str, str, str]]:
    found = []
    for file, carrier in FILES.items():
        document = json.loads((DATA / f"{file}.json").read_text())
        for entry in document["tracking_numbers"]:
            for number in entry["test_numbers"].get(kind, []):
                found.append((carrier, entry["name"], number))
    return found


VALID = vectors("valid")
INVALID = vectors("invalid")


def test_the_data_is_the_shared_copy() -> None:
    shared = Path(__file__).parent.parent.parent / "shared" / "carriers" / "tracking_number_data"
    if not shared.exists():
        pytest.skip("shared reference data not present on this machine")
    for file in FILES:
        assert (DATA / f"{file}.json").read_bytes() == (shared / f"{file}.json").read_bytes()


def test_every_format_is_loaded_and_has_vectors() -> None:
    assert len(formats()) == 18  # UPS 2, FedEx 7, USPS 4, DHL 4, S10 1
    assert len(VALID) >= 90 and len(INVALID) >= 40


@pytest.mark.parametrize(("carrier", "name", "number"), VALID)
def test_valid_vector_is_accepted_and_detected(carrier: str, name: str, number: str) -> None:
    fmt = next(f for f in formats() if f.name == name)
    match = fmt.match(normalize(number))
    assert match is not None and fmt.check_failure(match) is None
    accepted = validate(carrier, number)
    found = detect(number)
    assert found is not None and found.carrier == carrier and found.number == accepted


@pytest.mark.parametrize(("carrier", "name", "number"), INVALID)
def test_invalid_vector_is_refused_by_its_format(carrier: str, name: str, number: str) -> None:
    fmt = next(f for f in formats() if f.name == name)
    match = fmt.match(normalize(number))
    assert match is None or fmt.check_failure(match) is not None


def test_usps_routing_prefix_is_stripped() -> None:
    assert validate("usps", "420 22153 9400 1112 0620 6406 2607 87") == "9400111206206406260787"
    assert validate("usps", "4201028200009261290113185417468510") == "9261290113185417468510"


def test_usps_22_digits_and_fedex_96_are_told_apart() -> None:
    usps, fedex = "9400111206206406260787", "9611020987654312345672"
    assert detect(usps) is not None and detect(usps).carrier == "usps"  # type: ignore[union-attr]
    assert detect(fedex) is not None and detect(fedex).carrier == "fedex"  # type: ignore[union-attr]
    with pytest.raises(InvalidTrackingNumber, match="looks like a FedEx number"):
        validate("usps", fedex)


def test_reasons_name_the_problem() -> None:
    with pytest.raises(
        InvalidTrackingNumber, match=r"fails the UPS check digit \(check digit is 8, expected 7\)"
    ):
        validate("ups", "1Z5R89390357567128")
    with pytest.raises(
        InvalidTrackingNumber, match="does not match any DHL tracking-number format"
    ):
        validate("dhl", "hello")
    with pytest.raises(InvalidTrackingNumber, match="empty"):
        validate("fedex", " - ")
    with pytest.raises(InvalidTrackingNumber, match="not supported"):
        validate("ontrac", "C11111111111111")


def test_s10_needs_a_real_country_code() -> None:
    assert validate("usps", "RB123456785US") == "RB123456785US"
    with pytest.raises(InvalidTrackingNumber):
        validate("usps", "RB123456785XX")


def test_usps_barcodes_other_carriers_hand_over() -> None:
    """The IMpb on a SurePost/SmartPost/DHL eCommerce label, routing prefix cut; not S10."""
    assert usps_impb("4201028200009261290113185417468510") == "9261290113185417468510"
    assert usps_impb("9400111206206406260787") == "9400111206206406260787"
    assert usps_impb("9400111206206406260788") is None  # check digit
    assert usps_impb("RB123456785US") is None
    assert usps_impb("1Z5R89390357567127") is None


def test_s10_country_and_check_failures() -> None:
    assert s10_country("RR123456785GB") == "GB"
    assert s10_country("rb 123 456 785 us") == "US"
    assert s10_country("9400111206206406260787") is None
    assert check_failures("1Z5R89390357567128") == [
        "fails the UPS check digit (check digit is 8, expected 7)"]  # fmt: skip
    assert check_failures("1Z5R89390357567127") == []
