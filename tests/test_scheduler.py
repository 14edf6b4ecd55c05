"""scheduler.plan: when a shipment is polled next, from its state, its deadlines and the
carrier's working hours. Pure, so every case is a plain call."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SettingsFactory
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import CarrierSettings, DaemonSettings, Settings
from trackwatch.model import Place, Shipment, Status
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.scheduler import QUIET, CarrierHours, PollState, plan

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


# Cadence from state and headroom (issue 21, item 2).
HEADROOM = CarrierHours.of(CarrierSettings(base_url="http://x", transit_polls_per_day=4), NY)


def test_a_carrier_with_headroom_polls_a_moving_parcel_in_more_parts_of_its_day() -> None:
    # Four parts of 08:00-20:00: an exception scanned in the morning is seen by 11:05.
    now = ny(7, 9)
    chosen = plan(moving(now), [], now, HEADROOM, SMART)
    assert chosen.next_poll_at == ny(7, 11, 5)
    assert chosen.reason == "moving: 4 polls a carrier day"
    assert plan(moving(ny(7, 11, 5)), [], ny(7, 11, 5), HEADROOM, SMART).next_poll_at == ny(
        7, 14, 5
    )


def test_a_slot_minutes_after_a_poll_is_skipped() -> None:
    # Polled at 14:00 (its first poll, or a deadline's): the 14:05 slot would ask again
    # what was just answered, and the minimum gap would only push it to 14:15.
    now = ny(7, 14)
    assert plan(moving(now), [], now, HEADROOM, SMART).next_poll_at == ny(7, 17, 5)


def test_each_carrier_s_default_rate_follows_its_headroom() -> None:
    carriers = Settings().carriers
    rates = {
        name: carriers.get(name).transit_polls_per_day for name in ("ups", "fedex", "usps", "dhl")
    }
    assert rates == {"ups": 4, "fedex": 4, "usps": 4, "dhl": 3}  # DHL: 250 calls a day


def test_out_for_delivery_is_polled_through_the_day_until_the_delivery_scan() -> None:
    out = PollState(Status.OUT_FOR_DELIVERY, ny(7, 11, 5), None)
    slots = [plan(out, [], at, HOURS, SMART).next_poll_at for at in (ny(7, 11, 5), ny(7, 14, 5))]
    assert slots == [ny(7, 14, 5), ny(7, 17, 5)]
    assert plan(out, [], ny(7, 11, 5), HOURS, SMART).reason.startswith("out for delivery")
    # After the day's last slot: tomorrow's first (a parcel out that did not arrive).
    assert plan(out, [], ny(7, 20, 5), HOURS, SMART).next_poll_at == ny(8, 11, 5)


def test_a_parcel_scanned_at_its_destination_waits_for_the_next_carrier_day() -> None:
    # Arrived at the destination's facility in the afternoon: it goes out for delivery the
    # next morning, so nothing is asked until that day's first delivery slot.
    here = PollState(Status.IN_TRANSIT, ny(7, 14, 5), None, last_event_at=ny(7, 13),
                     at_destination=True)  # fmt: skip
    chosen = plan(here, [], ny(7, 14, 5), HEADROOM, SMART)
    assert chosen.next_poll_at == ny(8, 11, 5)
    assert chosen.reason.startswith("at its destination: out for delivery the next carrier day")
    saturday = PollState(Status.IN_TRANSIT, ny(12, 14, 5), None, last_event_at=ny(12, 13),
                         at_destination=True)  # fmt: skip
    assert plan(saturday, [], ny(12, 14, 5), HEADROOM, SMART).next_poll_at == ny(14, 11, 5)


def test_a_judgement_just_after_midnight_keeps_the_delivery_day() -> None:
    # Found in simulate: a late parcel's deadline woke the rules at midnight, and "the next
    # carrier day" counted from then skipped the day it went out and was delivered.
    here = PollState(Status.IN_TRANSIT, ny(7, 23, 50), None, last_event_at=ny(7, 13),
                     at_destination=True)  # fmt: skip
    assert plan(here, [], ny(8, 0, 0), HEADROOM, SMART).next_poll_at == ny(8, 11, 5)
    # Not out for delivery at that day's first slot: the rest of its slots follow.
    assert plan(here, [], ny(8, 11, 5), HEADROOM, SMART).next_poll_at == ny(8, 14, 5)


def test_a_parcel_silent_for_days_is_polled_once_a_carrier_day() -> None:
    now = ny(7, 9)
    stuck = PollState(Status.IN_TRANSIT, ny(7, 8), None, last_event_at=now - QUIET)
    chosen = plan(stuck, [], now, HEADROOM, SMART)
    assert chosen.next_poll_at == ny(7, 20, 5)
    assert "silent" in chosen.reason
    recent = PollState(Status.IN_TRANSIT, ny(7, 8), None, last_event_at=now - QUIET / 2)
    assert plan(recent, [], now, HEADROOM, SMART).next_poll_at == ny(7, 11, 5)


def test_a_deadline_before_the_slot_says_so() -> None:
    chosen = plan(moving(), [ny(8, 0)], ny(7, 21), HEADROOM, SMART)
    assert chosen.next_poll_at == ny(8, 0) - timedelta(minutes=SMART.poll_lead_minutes)
    assert chosen.reason == "just before a deadline a rule must verify on fresh data"


def test_delivery_polls_per_day_is_a_setting() -> None:
    out = PollState(Status.OUT_FOR_DELIVERY, ny(7, 9), None)
    twice = DaemonSettings(delivery_polls_per_day=2)
    assert plan(out, [], ny(7, 9), HOURS, twice).next_poll_at == ny(7, 14, 5)


async def test_the_rules_loop_plans_from_where_the_last_scan_was(
    make_settings: SettingsFactory, world: World, clock: FrozenClock
) -> None:
    # Two UPS parcels polled at 14:00 on Monday: one scanned at the New York depot it is
    # going to waits for Tuesday's first delivery slot; one at a hub is polled again at the
    # end of the next part of the day (UPS: four a day).
    nyc = Place(city="New York", state="NY", postal_code="10001", country="US")
    hub = Place(city="Memphis", state="TN", postal_code="38118", country="US")
    numbers = {"1Z5R89390357567127": nyc, "1Z5R89390357567136": hub}
    for number, place in numbers.items():
        scans = [Milestone(datetime(2026, 11, 23, 9, tzinfo=NY), "label", nyc),
                 Milestone(datetime(2026, 11, 23, 13, tzinfo=NY), "arrived", place)]  # fmt: skip
        world.add(Parcel("ups", number, scans, nyc))
    clock.set(datetime(2026, 11, 23, 14, tzinfo=NY))
    async with open_daemon(make_settings(), clock) as daemon:
        ids = {}
        for index, number in enumerate(numbers):
            shipment = Shipment(store="shop", carrier="ups", tracking_number=number,
                                order_id=f"A{index}", customer_email="c@example.com",
                                destination_postal_code="10001", destination_city="New York",
                                shipped_at=datetime(2026, 11, 23, 9, tzinfo=NY))  # fmt: skip
            ids[number] = await daemon.store.add_shipment(shipment, clock.now())
        await daemon.poller.poll_due()
        await daemon.monitor.run_once()
        planned = {n: (await daemon.store.get_shipment(i)) for n, i in ids.items()}
    at_depot, at_hub = (planned[n] for n in numbers)
    assert at_depot is not None and at_hub is not None
    assert at_depot.next_poll_at == datetime(2026, 11, 24, 11, 5, tzinfo=NY)
    assert at_hub.next_poll_at == datetime(2026, 11, 23, 17, 5, tzinfo=NY)
