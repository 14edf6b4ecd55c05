"""Carrier words read for what they state: a delivery only where one happened (issue 16,
finding 13), and a place's city, not its street (finding 7).

The DHL payload is DHL's published example (tests/fixtures/dhl/, see its README) with one
event's words or place replaced; the place is the 1.4.1 spec's own `Place` example.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from carriers.dhl.parse import classify as dhl_classify
from carriers.dhl.parse import parse as dhl_parse
from carriers.text import states_delivery
from carriers.usps.parse import classify as usps_classify
from tests.golden import FIXTURES
from trackwatch.model import Status

DHL_EXAMPLE = json.loads(
    (FIXTURES / "dhl" / "dhl-track-ecommerce-in-transit-customs-spec-example.json").read_text()
)
DHL_NUMBER = "GMDBD8E9CCE94842E495B7"

# Words that only announce, negate or hand over a delivery; and words that state one.
NOT_A_DELIVERY = [
    "Shipment will be delivered tomorrow",
    "Delivered to local post office for final delivery",
    "The shipment could not be delivered",
    "Shipment not delivered",
    "Your parcel is expected to be delivered on Friday",
]
A_DELIVERY = [
    "DELIVERED",
    "Delivered",
    "DELIVERED - PARCEL LOCKER",
    "The shipment has been successfully delivered",
    "Delivered, Front Door/Porch",
    "Shipment delivered to the neighbour",
]


@pytest.mark.parametrize("text", NOT_A_DELIVERY)
def test_words_that_do_not_state_a_delivery(text: str) -> None:
    assert not states_delivery(text)
    for code in ("transit", "unknown", "pre-transit"):
        assert dhl_classify(code, text)[0] is not Status.DELIVERED, (code, text)
    assert usps_classify("", text)[0] is not Status.DELIVERED


@pytest.mark.parametrize("text", A_DELIVERY)
def test_words_that_state_a_delivery(text: str) -> None:
    assert states_delivery(text)
    assert dhl_classify("transit", text)[0] is Status.DELIVERED
    assert usps_classify("", text)[0] is Status.DELIVERED


def test_a_handover_to_the_post_office_is_transit_whatever_dhls_code() -> None:
    text = "Delivered to local post office for final delivery"
    assert dhl_classify("delivered", text)[0] is Status.IN_TRANSIT
    assert dhl_classify("transit", text)[0] is Status.IN_TRANSIT


def example_with(**newest: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(DHL_EXAMPLE)
    body["shipments"][0]["events"][0].update(newest)
    return body


def test_an_announced_delivery_keeps_the_parcel_in_transit() -> None:
    body = example_with(statusCode="transit", status="Shipment will be delivered tomorrow",
                        description="Shipment will be delivered tomorrow")  # fmt: skip
    (result,) = dhl_parse(body, DHL_NUMBER)
    assert result.status is Status.IN_TRANSIT and result.delivered_at is None


def test_a_street_before_the_city_is_not_the_city() -> None:
    """DHL 1.4.1's Place example: addressLocality "Oderweg 2, AMSTERDAM"."""
    spec = yaml.safe_load(
        (FIXTURES / "dhl" / "dhl-unified-tracking-openapi-1.4.1.yaml").read_text()
    )
    place = spec["components"]["schemas"]["supermodelIoLogisticsSupportingPlace"]["example"]
    assert place["address"]["addressLocality"] == "Oderweg 2, AMSTERDAM"
    (result,) = dhl_parse(example_with(location=place), DHL_NUMBER)
    scanned = result.events[-1].place
    assert (scanned.city, scanned.postal_code, scanned.country) == ("AMSTERDAM", "1043 AG", "NL")


def test_the_published_localities_keep_their_cities() -> None:
    (result,) = dhl_parse(DHL_EXAMPLE, DHL_NUMBER)
    cities = {(e.place.city, e.place.state, e.place.country) for e in result.events}
    assert ("Whittier", "CA", "US") in cities and ("HEATHROW", None, "GB") in cities
