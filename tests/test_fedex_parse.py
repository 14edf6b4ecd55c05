"""FedEx parsing: promised dates, receivers at a residence, and results that carry both
scans and an error (issue 16, findings 7, 12 and 14).

Every payload here is FedEx's published production capture
(tests/fixtures/fedex/fedex-track-delivered-mixed-timestamp-formats.json, karrio's
`InconsistentDateTimeResponse`), changed only in the fields a case is about, with values
taken from the FedEx Track OpenAPI (tests/fixtures/fedex/fedex-track-openapi.json): the
`DeliveryDetails.locationType` enum, the `CXSError` example, and the `ends` example
"2021-10-15T00:00:00-06:00" that shows FedEx writing a date as local midnight.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from carriers.base import Query
from carriers.fedex.parse import parse
from tests.golden import FIXTURES
from trackwatch.model import DeliveryLocation, Outcome, Place, Status, TrackingResult

NUMBER = "738488882438"
CAPTURE = json.loads(
    (FIXTURES / "fedex" / "fedex-track-delivered-mixed-timestamp-formats.json").read_text()
)
LA = ZoneInfo("America/Los_Angeles")


def capture() -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh copy of the capture, and its one trackResult to change."""
    body = copy.deepcopy(CAPTURE)
    return body, body["output"]["completeTrackResults"][0]["trackResults"][0]


def read(body: dict[str, Any], query: Query | None = None) -> TrackingResult:
    query = query or Query(NUMBER)
    (result,) = parse(body, {NUMBER: query.zone})
    return result


def to_los_angeles(result: dict[str, Any]) -> None:
    """The capture's parcel, sent to Los Angeles instead of Blue Point, NY."""
    address = {"city": "LOS ANGELES", "stateOrProvinceCode": "CA", "postalCode": "90001",
               "countryCode": "US", "residential": True}  # fmt: skip
    result["recipientInformation"]["address"] = address
    result["lastUpdatedDestinationAddress"] = address


def test_a_date_written_as_midnight_is_the_end_of_that_day_at_the_destination() -> None:
    """Finding 12: "2024-04-26T00:00:00-06:00" read as an instant is 23:00 on the 25th in
    California; the promise is the 26th, which ends at midnight Pacific."""
    body, result = capture()
    to_los_angeles(result)
    result["standardTransitTimeWindow"] = {"window": {"ends": "2024-04-26T00:00:00-06:00"}}
    assert read(body).eta == datetime(2024, 4, 27, 0, 0, tzinfo=LA)


def test_without_a_destination_in_the_answer_the_shipments_own_decides() -> None:
    body, result = capture()
    del result["recipientInformation"], result["lastUpdatedDestinationAddress"]
    result["standardTransitTimeWindow"] = {"window": {"ends": "2024-04-26T00:00:00-06:00"}}
    query = Query(NUMBER, destination=Place(country="US", postal_code="90001"))
    assert read(body, query).eta == datetime(2024, 4, 27, 0, 0, tzinfo=LA)


def test_the_published_capture_promises_the_whole_day_in_new_york() -> None:
    """Its standard window ends "2024-08-21T00:00:00-06:00": all of the 21st in Blue Point."""
    (result,) = parse(CAPTURE)
    assert result.eta == datetime(2024, 8, 22, 4, 0, tzinfo=UTC)


def test_a_window_that_ends_at_a_time_is_that_instant() -> None:
    body, result = capture()
    to_los_angeles(result)
    result["estimatedDeliveryTimeWindow"] = {
        "window": {"begins": "2024-04-26T08:00:00", "ends": "2024-04-26T20:00:00-07:00"}
    }
    assert read(body).eta == datetime(2024, 4, 26, 20, 0, tzinfo=LA)


def test_a_named_receiver_at_a_residence_was_handed_the_parcel() -> None:
    """Finding 7: RESIDENCE says what kind of address it is; a receiver's name says the
    parcel was handed over, not left at the door."""
    body, result = capture()
    result["deliveryDetails"]["locationType"] = "RESIDENCE"
    delivered = read(body).events[-1]
    assert delivered.status is Status.DELIVERED and delivered.signed_by == "CREILLY"
    assert delivered.delivery_location is DeliveryLocation.WITH_INDIVIDUAL
    del result["deliveryDetails"]["receivedByName"]
    assert read(body).events[-1].delivery_location is DeliveryLocation.FRONT_DOOR


def test_a_result_with_scans_and_an_error_keeps_both() -> None:
    """Finding 14: the spec lets a trackResult carry an `error` beside its data."""
    body, result = capture()
    result["error"] = {"code": "TRACKING.TRACKINGNUMBER.EMPTY",
                       "message": "Please provide tracking number."}  # fmt: skip
    parsed = read(body)
    assert parsed.outcome is Outcome.FOUND and parsed.status is Status.DELIVERED
    assert len(parsed.events) == len(read(capture()[0]).events)
    assert parsed.unique_id == "12028~738488882438~FDEG"
    assert parsed.message == "Please provide tracking number."


def test_an_error_without_data_is_still_a_per_number_outcome() -> None:
    body = {"output": {"completeTrackResults": [{"trackingNumber": NUMBER, "trackResults": [
        {"trackingNumberInfo": {"trackingNumber": NUMBER},
         "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                   "message": "Tracking number cannot be found."}}]}]}}  # fmt: skip
    parsed = read(body)
    assert parsed.outcome is Outcome.NO_INFO_YET and parsed.events == []
    assert parsed.message == "Tracking number cannot be found."
