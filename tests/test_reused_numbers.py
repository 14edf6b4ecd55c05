"""Reused tracking numbers: an answer that cannot be attributed to one shipment is refused
(issue 16, finding 5), and scans dated before our label are another parcel's (finding 6).

The payloads are the carriers' published ones (tests/fixtures/<carrier>/, provenance in each
README), read with a ship date years after their scans: exactly what a carrier answers for
a number it has recycled before our parcel's first scan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from carriers.assemble import LABEL_SLACK, rekeyed, without_earlier_parcels
from carriers.base import HttpResponse, Query
from carriers.dhl import client as dhl
from carriers.fedex import client as fedex
from carriers.ups import client as ups
from carriers.usps import client as usps
from tests.golden import FIXTURES
from trackwatch.model import Outcome, Status, TrackingEvent, TrackingResult

Reader = Callable[[HttpResponse, Query], TrackingResult]
READERS: dict[str, Reader] = {
    "ups": ups.read_track,
    "dhl": dhl.read_track,
    "usps": lambda r, q: usps.read_track(r, [q])[q.number],
    "fedex": lambda r, q: fedex.read_track(r, [q])[q.number],
}
# (carrier, published payload, the number it answers for)
PUBLISHED = [
    ("fedex", "fedex-track-delivered-mixed-timestamp-formats.json", "738488882438"),
    ("ups", "ups-track-schema-example-exception-X.json", "1Z023E2X0214323462"),
    ("usps", "usps-v3-detail-accepted-readme-example.json", "XXXXXXXXXXXXXXXXXXXX"),
    ("dhl", "dhl-track-ecommerce-in-transit-customs-spec-example.json", "GMDBD8E9CCE94842E495B7"),
]
OUR_SHIP_DATE = date(2026, 11, 20)


def read(carrier: str, name: str, query: Query) -> TrackingResult:
    response = HttpResponse(200, {}, (FIXTURES / carrier / name).read_bytes())
    return READERS[carrier](response, query)


@pytest.mark.parametrize(("carrier", "name", "number"), PUBLISHED)
def test_scans_from_years_before_the_ship_date_are_another_parcels(
    carrier: str, name: str, number: str
) -> None:
    earlier = read(carrier, name, Query(number))  # what the carrier knows under the number
    assert earlier.events and earlier.ignored_events == 0
    result = read(carrier, name, Query(number, OUR_SHIP_DATE))
    assert result.outcome is Outcome.NO_INFO_YET and result.status is Status.UNKNOWN
    assert result.events == [] and result.delivered_at is None and result.eta is None
    assert not result.photo_available
    assert result.ignored_events == len(earlier.events)
    assert result.message is not None
    assert f"{len(earlier.events)} " in result.message and "2026-11-20" in result.message
    assert "earlier parcel" in result.message


def test_a_delivery_years_before_the_label_does_not_mark_ours_delivered() -> None:
    """The finding itself: FedEx's published delivered capture (August 2024) read for a
    parcel shipped in November 2026 must not stop polling as "delivered"."""
    name = "fedex-track-delivered-mixed-timestamp-formats.json"
    assert read("fedex", name, Query("738488882438")).status is Status.DELIVERED
    result = read("fedex", name, Query("738488882438", OUR_SHIP_DATE))
    assert result.status is not Status.DELIVERED and result.delivered_at is None


def test_only_the_scans_before_the_label_are_dropped_and_the_status_is_recomputed() -> None:
    """DHL's published example has a label scan on 11 January 2023 and the parcel's own
    from the 18th on; shipped on the 20th, the 11th is beyond the slack, the 18th is not."""
    name = "dhl-track-ecommerce-in-transit-customs-spec-example.json"
    number = "GMDBD8E9CCE94842E495B7"
    full = read("dhl", name, Query(number))
    result = read("dhl", name, Query(number, date(2023, 1, 20)))
    assert result.outcome is Outcome.FOUND and result.ignored_events == 1
    assert result.events == full.events[1:]
    assert result.status is Status.IN_TRANSIT
    assert result.message is not None and "1 " in result.message


def event(when: datetime, status: Status) -> TrackingEvent:
    return TrackingEvent(occurred_at=when, status=status, code="X", description=status.value)


def test_an_old_delivery_before_our_scans_leaves_our_status() -> None:
    old = event(datetime(2023, 5, 2, 15, tzinfo=UTC), Status.DELIVERED)
    ours = event(datetime(2026, 11, 19, 15, tzinfo=UTC), Status.LABEL_CREATED)
    merged = TrackingResult(tracking_number="1", outcome=Outcome.FOUND, events=[old, ours],
                            status=Status.DELIVERED, delivered_at=old.occurred_at,
                            photo_available=True, message="carrier summary")  # fmt: skip
    result = without_earlier_parcels(merged, OUR_SHIP_DATE)
    assert result.events == [ours] and result.status is Status.LABEL_CREATED
    assert result.delivered_at is None and not result.photo_available
    assert result.ignored_events == 1
    assert result.message is not None and result.message.endswith("carrier summary")


def test_the_slack_allows_a_label_printed_days_before_the_ship_date() -> None:
    edge = datetime.combine(OUR_SHIP_DATE - LABEL_SLACK, datetime.min.time(), tzinfo=UTC)
    kept = event(edge, Status.LABEL_CREATED)
    result = TrackingResult(tracking_number="1", outcome=Outcome.FOUND, events=[kept],
                            status=Status.LABEL_CREATED)  # fmt: skip
    assert without_earlier_parcels(result, OUR_SHIP_DATE) == result
    assert without_earlier_parcels(result, None) == result


def test_a_batch_that_repeats_a_number_is_refused() -> None:
    """Two shipments watching one number (two stores, a reused number) in one batch: the
    answers are keyed by number, so the second would get the first's parcel."""
    answer = TrackingResult(tracking_number="738488882438", outcome=Outcome.NO_INFO_YET)
    queries = [Query("738488882438", date(2026, 8, 3)), Query("738488882438", OUR_SHIP_DATE)]
    with pytest.raises(ValueError, match="twice"):
        rekeyed([answer], queries)
