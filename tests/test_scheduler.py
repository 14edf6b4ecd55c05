"""scheduler.plan: when a shipment is polled next, from its state, its deadlines and the
carrier's working hours. Pure, so every case is a plain call."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from trackwatch.config import CarrierSettings, DaemonSettings
from trackwatch.model import Status
from trackwatch.scheduler import CarrierHours, PollState, plan

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SMART = DaemonSettings()
UPS = CarrierSettings(base_url="http://127.0.0.1")
HOURS = CarrierHours.of(UPS, NY)  # Monday to Saturday, 08:00-20:00


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=NY)  # 2026-12-07 is a Monday


def moving(polled: datetime | None = None) -> PollState:
    """A parcel in transit, polled at `polled` (or some days before the tests' times)."""
    return PollState(Status.IN_TRANSIT, polled or ny(1, 12), None)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ny(7, 9), ny(7, 14, 5)),  # morning: the end of the first half of the carrier day
        (ny(7, 14, 5), ny(7, 20, 5)),  # just polled at the first slot: the evening one
        (ny(7, 21), ny(8, 14, 5)),  # evening: nothing is scanned at night
        (ny(12, 21), ny(14, 14, 5)),  # Saturday evening: Sunday is not a carrier day
    ],
)
def test_a_moving_parcel_is_polled_twice_per_carrier_day(now: datetime, expected: datetime) -> None:
    assert plan(moving(now), [], now, HOURS, SMART).next_poll_at == expected


def test_the_carrier_day_is_the_destination_s() -> None:
    berlin = CarrierHours.of(UPS, BERLIN)
    now = ny(7, 9)  # 15:00 in Berlin
    assert plan(moving(), [], now, berlin, SMART).next_poll_at == datetime(
        2026, 12, 7, 20, 5, tzinfo=BERLIN
    )


def test_before_the_first_scan_once_a_day_at_the_end_of_the_carrier_day() -> None:
    state = PollState(Status.LABEL_CREATED, ny(7, 10), None)
    assert plan(state, [], ny(7, 10), HOURS, SMART).next_poll_at == ny(7, 20, 5)
    assert plan(state, [], ny(7, 20, 5), HOURS, SMART).next_poll_at == ny(8, 20, 5)


def test_a_deadline_sooner_than_the_next_slot_is_verified_just_before_it() -> None:
    deadline = ny(8, 0)  # a stall due at midnight
    chosen = plan(moving(), [deadline, ny(11, 0)], ny(7, 21), HOURS, SMART)
    assert chosen.next_poll_at == deadline - timedelta(minutes=SMART.poll_lead_minutes)
    assert chosen.deadline_at == deadline  # the poller's priority


def test_a_deadline_later_than_the_next_slot_waits_for_the_slot() -> None:
    chosen = plan(moving(), [ny(9, 0)], ny(7, 9), HOURS, SMART)
    assert chosen.next_poll_at == ny(7, 14, 5)
    assert chosen.deadline_at == ny(9, 0)


def test_never_sooner_than_the_minimum_gap() -> None:
    now = ny(7, 9)
    chosen = plan(moving(), [now + timedelta(minutes=12)], now, HOURS, SMART)
    assert chosen.next_poll_at == now + timedelta(minutes=SMART.min_poll_minutes)


def test_after_delivery_one_confirming_poll_then_polling_stops() -> None:
    delivered = ny(7, 13)
    state = PollState(Status.DELIVERED, delivered, delivered)
    first = plan(state, [], ny(7, 13, 30), HOURS, SMART)
    assert first.next_poll_at == delivered + timedelta(hours=SMART.delivered_confirm_hours)
    assert first.stop is None
    last = plan(state, [], delivered + timedelta(hours=48), HOURS, SMART)
    assert (last.next_poll_at, last.stop) == (None, "delivered")


def test_a_restart_by_hand_gives_a_delivered_parcel_another_window() -> None:
    delivered, restarted = ny(1, 13), ny(7, 9)
    state = PollState(Status.DELIVERED, delivered, delivered, restarted_at=restarted)
    chosen = plan(state, [], ny(7, 9, 30), HOURS, SMART)
    assert chosen.stop is None
    assert chosen.next_poll_at == restarted + timedelta(hours=48)


def test_a_stop_from_the_rules_or_an_earlier_stop_ends_polling() -> None:
    assert plan(moving(), [], ny(7, 9), HOURS, SMART, stop="expired").stop == "expired"
    stopped = PollState(Status.IN_TRANSIT, None, None, stopped="lost")
    assert plan(stopped, [], ny(7, 9), HOURS, SMART).next_poll_at is None


def test_fixed_schedule_ignores_hours_and_deadlines() -> None:
    fixed = DaemonSettings(schedule="fixed", transit_poll_hours=4)
    now = ny(7, 21)
    assert plan(moving(), [ny(7, 22)], now, HOURS, fixed).next_poll_at == now + timedelta(hours=4)


def test_carrier_hours_are_validated() -> None:
    with pytest.raises(ValueError, match="day_starts must be before day_ends"):
        CarrierSettings(base_url="http://x", day_starts=20, day_ends=8)


def test_a_shipment_never_polled_stays_due_now_whatever_its_slots() -> None:
    # A judgement can come before the first poll (after a crash, the rules loop may win
    # the race): it must not move that first poll to the evening's slot, nor bring forward
    # one the poller deferred (its carrier's quota or health).
    never = PollState(Status.UNKNOWN, None, None)
    now = ny(7, 21)  # after the carrier's day: the routine slot would be tomorrow 20:05
    chosen = plan(never, [ny(9, 0)], now, HOURS, SMART)
    assert chosen.next_poll_at == now and chosen.deadline_at == ny(9, 0)
    due = PollState(Status.UNKNOWN, None, None, next_poll_at=now - timedelta(hours=2))
    assert plan(due, [], now, HOURS, SMART).next_poll_at == now - timedelta(hours=2)
    deferred = PollState(Status.UNKNOWN, None, None, next_poll_at=now + timedelta(hours=1))
    assert plan(deferred, [], now, HOURS, SMART).next_poll_at == now + timedelta(hours=1)
    assert plan(PollState(Status.UNKNOWN, None, None, stopped="lost"), [], now, HOURS,
                SMART).next_poll_at is None  # fmt: skip
