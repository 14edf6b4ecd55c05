"""A delivery pushed without where the parcel was left waits, for a while, for the poll that
says it (trackwatch.monitor): the customer is told the place, a risky place is judged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rules.base import ShipmentView
from tests.rulekit import at, ev, view
from trackwatch.model import DeliveryLocation, Status
from trackwatch.monitor import PLACE_WAIT, awaits_place

DELIVERED = at(11, 25, 11, 7)
PUSHED_ONLY: dict[str, Any] = {"push_until": at(11, 27), "last_polled_at": at(11, 24, 9)}


def _delivered(location: DeliveryLocation | None = None, **fields: Any) -> ShipmentView:
    return view([ev(at(11, 24, 8)), ev(DELIVERED, Status.DELIVERED, "Delivered",
                                       location=location)], **fields)  # fmt: skip


def test_a_pushed_delivery_without_its_place_waits_for_the_poll_then_no_longer() -> None:
    v = _delivered(**PUSHED_ONLY)
    soon = DELIVERED + timedelta(minutes=3)
    assert awaits_place("delivered", v, soon) and awaits_place("risky_delivery", v, soon)
    assert not awaits_place("stalled", v, soon)
    assert not awaits_place("delivered", v, DELIVERED + PLACE_WAIT)  # the poll never came


def test_no_wait_once_polled_or_when_the_place_is_known_or_without_push() -> None:
    soon = DELIVERED + timedelta(minutes=3)
    polled: dict[str, Any] = {**PUSHED_ONLY, "last_polled_at": DELIVERED + timedelta(minutes=2)}
    assert not awaits_place("delivered", _delivered(**polled), soon)
    assert not awaits_place("delivered", _delivered(DeliveryLocation.FRONT_DOOR, **PUSHED_ONLY),
                             soon)  # fmt: skip
    assert not awaits_place("delivered", _delivered(last_polled_at=at(11, 24, 9)), soon)
