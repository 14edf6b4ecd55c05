"""UPS parsing against every shared UPS payload, plus the timestamp variants CARRIERS.md lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carriers.timeparse import parse_hms, parse_iso, parse_offset
from carriers.ups.parse import classify, parse
from trackwatch.errors import MalformedResponse
from trackwatch.model import ExceptionKind, Outcome, Status

FIXTURES = Path(__file__).parent / "fixtures" / "ups"


def activity(**status: str) -> dict[str, Any]:
    return {
        "date": "20261125",
        "time": "040000",
        "location": {
            "address": {"city": "Philadelphia", "stateProvince": "PA", "countryCode": "US"}
        },
        "status": status,
    }


def payload(*activities: dict[str, Any]) -> dict[str, Any]:
    package = {"trackingNumber": "1Z879E930346834440", "activity": list(activities)}
    return {
        "trackResponse": {
            "shipment": [{"inquiryNumber": "1Z879E930346834440", "package": [package]}]
        }
    }


def test_gmt_fields_win_over_local_time() -> None:
    act = activity(type="I", code="AR", statusCode="005", description="Arrived at Facility")
    act.update(gmtDate="20261125", gmtTime="09:00:00", gmtOffset="-05:00")
    (result,) = parse(payload(act))
    (event,) = result.events
    assert event.occurred_at == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert not event.zone_inferred


def test_gmt_time_with_its_leading_zero_dropped() -> None:
    act = activity(type="I", statusCode="005", description="On the Way")
    act.update(gmtDate="20210210", gmtTime="74700")
    (result,) = parse(payload(act))
    assert result.events[0].occurred_at == datetime(2021, 2, 10, 7, 47, tzinfo=UTC)


def test_local_time_takes_the_zone_of_the_scan_and_says_so() -> None:
    (result,) = parse(payload(activity(type="I", statusCode="005", description="On the Way")))
    (event,) = result.events
    assert event.occurred_at == datetime(2026, 11, 25, 9, tzinfo=UTC)  # 04:00 EST
    assert event.zone_inferred


def test_events_are_sorted_by_instant_and_duplicates_merged() -> None:
    older = activity(type="I", code="DP", statusCode="005", description="Departed from Facility")
    older.update(date="20261124")
    newer = activity(type="D", code="FS", statusCode="011", description="DELIVERED ")
    (result,) = parse(payload(older, newer, older))  # out of order, and repeated
    assert [e.status for e in result.events] == [Status.IN_TRANSIT, Status.DELIVERED]
    assert result.status is Status.DELIVERED
    assert result.events[1].description == "DELIVERED"  # trailing space trimmed


def test_delivery_place_and_signer_attach_to_the_delivery() -> None:
    act = activity(type="D", code="FS", statusCode="011", description="DELIVERED")
    body = payload(act)
    package = body["trackResponse"]["shipment"][0]["package"][0]
    package["deliveryInformation"] = {"location": "Front Door", "receivedBy": "JONES"}
    package["deliveryDate"] = [
        {"type": "DEL", "date": "20261125"},
        {"type": "SDD", "date": "20261124"},
    ]
    (result,) = parse(body)
    assert result.events[-1].delivery_location == "front_door"
    assert result.events[-1].signed_by == "JONES"
    assert result.delivered_at == result.events[-1].occurred_at


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"type": "M", "code": "MP", "statusCode": "003"}, (Status.LABEL_CREATED, None)),
        ({"type": "I", "code": "OT", "statusCode": "021"}, (Status.OUT_FOR_DELIVERY, None)),
        ({"type": "D", "statusCode": "161"}, (Status.AVAILABLE_FOR_PICKUP, None)),
        ({"type": "X", "statusCode": "022"}, (Status.DELIVERY_ATTEMPTED, None)),
        ({"type": "X", "statusCode": "050"}, (Status.EXCEPTION, ExceptionKind.ADDRESS_ISSUE)),
        ({"type": "X", "statusCode": "058"}, (Status.EXCEPTION, ExceptionKind.CUSTOMS_HOLD)),
        ({"type": "X", "statusCode": "034"}, (Status.EXCEPTION, ExceptionKind.RETURNED_TO_SENDER)),
        ({"type": "X", "statusCode": "059"}, (Status.EXCEPTION, ExceptionKind.DAMAGED)),
        ({"type": "X", "statusCode": "068"}, (Status.EXCEPTION, ExceptionKind.LOST)),
        ({"type": "X", "statusCode": "013", "description": "The address is incomplete"},
         (Status.EXCEPTION, ExceptionKind.ADDRESS_ISSUE)),
        ({"code": "005"}, (Status.UNKNOWN, None)),  # currentStatus shape: 3 digits in `code`
        ({"type": "Q", "code": "ZZ", "statusCode": "999"}, (Status.UNKNOWN, None)),
    ],
)  # fmt: skip
def test_code_table(status: dict[str, str], expected: tuple[Status, ExceptionKind | None]) -> None:
    mapped = classify(status)
    assert (mapped[0], mapped[1]) == expected


def test_delay_codes_flag_delayed() -> None:
    assert classify({"type": "X", "statusCode": "048"}) == (Status.IN_TRANSIT, None, True)


def test_tw0001_is_no_info_yet() -> None:
    body = json.loads((FIXTURES / "ups-track-not-found-200-warning-TW0001.json").read_text())
    (result,) = parse(body)
    assert result.outcome is Outcome.NO_INFO_YET


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"trackResponse": {"shipment": "nope"}},
        {"trackResponse": {"shipment": [{"warnings": [{"code": "X1"}]}]}},
        payload({"date": "2026-99-99", "status": {"type": "I"}}),
        # Not text where the spec says string: a clear error, not an AttributeError that
        # the poller can only log as a fault of ours.
        payload({"date": "20260101", "time": 74700, "status": {"type": "I"}}),
        payload({"gmtDate": 20260101, "gmtTime": "07:47:00", "status": {"type": "I"}}),
        payload({"date": "20260101", "time": "074700", "gmtOffset": -4, "status": {"type": "I"}}),
    ],
)
def test_malformed_responses_are_typed_errors(body: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponse):
        parse(body)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("-05:00", -300), ("-7:00", -420), ("+2:00", 120), ("-04.00", -240), ("+0530", 330)],
)
def test_offsets(text: str, minutes: int) -> None:
    assert parse_offset(text).total_seconds() == minutes * 60


def test_hms_forms() -> None:
    assert parse_hms("071356").hour == 7
    assert parse_hms("09:41:00").minute == 41
    assert parse_hms("74700").hour == 7


def test_iso_date_only_and_fake_z() -> None:
    ny = __import__("zoneinfo").ZoneInfo("America/New_York")
    assert parse_iso("2024-04-04", ny).date_only
    stamp = parse_iso("2023-08-02T07:31:00Z", ny, trust_z=False)
    assert stamp.at == datetime(2023, 8, 2, 11, 31, tzinfo=UTC) and stamp.zone_inferred
    assert parse_iso("2017-06-21T14:07:17+2:00", ny).at == datetime(
        2017, 6, 21, 12, 7, 17, tzinfo=UTC
    )
