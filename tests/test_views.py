"""The CLI's plain-text views print every stored row, whatever its dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trackwatch.model import (
    Alert,
    AlertState,
    Audience,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
)
from trackwatch.views import print_shipment, print_shipments

START = datetime(1, 1, 1, tzinfo=UTC)
END = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("country", "postal_code", "when", "shown"),
    [
        ("US", "10001", START, "0001-01-01 00:00 UTC"),  # New York is behind UTC: year 0
        ("JP", "", END, "9999-12-31 23:59 UTC"),  # Tokyo is ahead: year 10000
    ],
)
def test_dates_at_the_ends_of_time_are_printed_in_utc(
    capsys: pytest.CaptureFixture[str], country: str, postal_code: str, when: datetime,
    shown: str,
) -> None:  # fmt: skip
    """Finding 1: rows that older versions let in made `list` and `show` crash."""
    shipment = Shipment(
        id=1, store="shop", carrier="ups", tracking_number="1Z5R89390357567127", order_id="X",
        customer_email="c@example.com", destination_country=country,
        destination_postal_code=postal_code, shipped_at=when, ordered_at=when,
        promised_by=when, eta=when, last_event_at=when, last_polled_at=when,
    )  # fmt: skip
    event = TrackingEvent(occurred_at=when, status=Status.IN_TRANSIT, code="X",
                          description="Arrived")  # fmt: skip
    alert = Alert(id=1, shipment_id=1, rule="late", episode="e", state=AlertState.RESOLVED,
                  severity=Severity.WARNING, summary="late", action="look",
                  explanation={}, audiences=(Audience.STAFF,), opened_at=when,
                  resolved_at=when, resolved_by="hand", resolution="ok")  # fmt: skip
    print_shipments([shipment])
    print_shipment(shipment, [event], [alert])
    out = capsys.readouterr().out
    assert out.count(shown) >= 8, out


def test_a_normal_date_is_shown_in_the_destination_zone(capsys: pytest.CaptureFixture[str]) -> None:
    shipment = Shipment(store="shop", carrier="ups", tracking_number="1Z5R89390357567127",
                        order_id="X", customer_email="c@example.com",
                        destination_postal_code="10001",
                        shipped_at=datetime(2026, 11, 23, 17, tzinfo=UTC))  # fmt: skip
    print_shipment(shipment, [], [])
    assert "shipped 2026-11-23 12:00 EST" in capsys.readouterr().out
