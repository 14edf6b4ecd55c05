"""Properties of the rules over generated histories (hypothesis)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import RULES
from tests.rulekit import BY_NAME, at, ev, policy, view
from trackwatch.calendar import warm
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import (
    Audience,
    DeliveryLocation,
    ExceptionKind,
    Outcome,
    Place,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.render import Renderer
from trackwatch.store import SqliteStore
from trackwatch.store.records import PollUpdate

BASE = at(11, 16, 0)
PLACES = [
    Place(city="Chicago", state="IL", postal_code="60601", country="US"),
    Place(city="New York", state="NY", postal_code="10001", country="US"),
    Place(city="Leipzig", postal_code="04109", country="DE"),
]
MOVING = [Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.LABEL_CREATED, Status.UNKNOWN]


@pytest.fixture(scope="module", autouse=True)
def warm_calendars() -> None:
    """Holiday tables and zones built before the first timed example: a cold first country
    costs 0.1 to 0.2 s, which Hypothesis would count against the example's 200 ms. So does
    the first policy checked against every country's calendar (trackwatch.worst_case)."""
    warm(["US", "DE"], [2026, 2027])
    policy()


@st.composite
def events(draw: st.DrawFn, *, statuses: list[Status] = MOVING) -> list[TrackingEvent]:
    count = draw(st.integers(min_value=1, max_value=6))
    found = []
    for _ in range(count):
        when = BASE + timedelta(minutes=draw(st.integers(min_value=0, max_value=60 * 24 * 20)))
        status = draw(st.sampled_from(statuses))
        exception = draw(st.sampled_from(list(ExceptionKind))) if status is Status.EXCEPTION \
            else None  # fmt: skip
        location = draw(st.sampled_from(list(DeliveryLocation))) \
            if status is Status.DELIVERED else None  # fmt: skip
        found.append(ev(when, status, "Scan", draw(st.sampled_from(PLACES)), exception, location))
    return sorted(found, key=lambda e: e.occurred_at)


instants = st.integers(min_value=0, max_value=60 * 24 * 40).map(
    lambda m: BASE + timedelta(minutes=m)
)
stall_days = st.integers(min_value=1, max_value=6)


# The expected stall deadline, computed without the rule or the daemon's calendar: the
# destination's local dates, Saturdays and Sundays off, and the carrier's closures from the
# holidays package. UPS closes on six US federal holidays (its published schedule); in
# Germany every national public holiday counts.
ZONES = {"US": ZoneInfo("America/New_York"), "DE": ZoneInfo("Europe/Berlin")}
UPS_US_CLOSED = ("New Year's Day", "Memorial Day", "Independence Day", "Labor Day",
                 "Thanksgiving Day", "Christmas Day")  # fmt: skip
CLOSED = {
    "US": {day for day, name in holidays.country_holidays("US", years=2026).items()
           if name.removesuffix(" (observed)") in UPS_US_CLOSED},
    "DE": set(holidays.country_holidays("DE", years=2026)),
}  # fmt: skip


def test_the_expectation_knows_the_closures_in_the_examples_window() -> None:
    # Scans fall in the 20 days from BASE (Monday 16 November 2026), judgements in the 40.
    def window(days: set[date]) -> set[date]:
        return {day for day in days if BASE.date() <= day}

    assert window(CLOSED["US"]) == {date(2026, 11, 26), date(2026, 12, 25)}
    assert window(CLOSED["DE"]) == {date(2026, 12, 25), date(2026, 12, 26)}


def stall_due(country: str, last: datetime, days: int) -> datetime:
    """When `days` whole working days at the destination have passed since `last`: the
    local midnight that ends the `days`-th working day after `last`'s local date."""
    zone = ZONES[country]
    day, counted = last.astimezone(zone).date(), 0
    while counted < days:
        day += timedelta(days=1)
        counted += day.weekday() < 5 and day not in CLOSED[country]
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


@given(events(), instants, stall_days, st.sampled_from(["US", "DE"]))
def test_a_stall_fires_exactly_when_enough_business_days_have_passed(
    history: list[TrackingEvent], now: datetime, days: int, country: str
) -> None:
    pol = policy(stall={"domestic_business_days": days, "international_business_days": days,
                        "customs_business_days": days + 2})  # fmt: skip
    postal = {"US": "10001", "DE": "10115"}[country]
    v = view(history, pol, destination_country=country, destination_postal_code=postal)
    stalled = BY_NAME["stalled"]
    last = history[-1]
    if all(e.status in (Status.LABEL_CREATED, Status.UNKNOWN) for e in history):
        assert stalled.evaluate(v, now) is None  # no real scan yet: not_picked_up's business
        return
    # Scanned last outside the destination country: the cross-border stretch's allowance.
    due = stall_due(country, last.occurred_at, days + 2 if last.place.country != country else days)
    assert stalled.evaluate(v, due - timedelta(minutes=1)) is None
    assert stalled.evaluate(v, due) is not None
    assert (stalled.evaluate(v, now) is not None) == (now >= due)


@given(events(statuses=[*MOVING, Status.EXCEPTION, Status.DELIVERY_ATTEMPTED]), instants,
       stall_days)  # fmt: skip
def test_no_rule_fires_before_its_deadline(
    history: list[TrackingEvent], now: datetime, days: int
) -> None:
    v = view(history, policy(stall={"domestic_business_days": days}), ordered_at=BASE)
    for rule in RULES:
        due = rule.deadline(v)
        if due is None or now < due:
            assert rule.evaluate(v, now) is None, rule.name


@given(events(statuses=[*MOVING, Status.EXCEPTION]), st.data(), instants)
def test_a_delivered_shipment_never_gets_a_stall_or_late_alert(
    history: list[TrackingEvent], data: st.DataObject, now: datetime
) -> None:
    delivered_at = data.draw(instants)
    done = ev(delivered_at, Status.DELIVERED, "Delivered", PLACES[1],
              location=DeliveryLocation.MAILBOX)  # fmt: skip
    v = view([*history, done], eta=BASE + timedelta(days=1), status=Status.DELIVERED)
    for name in ("stalled", "late", "not_picked_up", "lost"):
        assert BY_NAME[name].evaluate(v, now + timedelta(days=60)) is None, name
        assert BY_NAME[name].evaluate(v, now) is None, name


# Every setting a customer message can rest on, promised in (made-up) store words.
ALL_PROMISED = {
    "stall": {k: "the store's words" for k in ("domestic_business_days",
                                               "international_business_days",
                                               "customs_business_days")},
    "lost": {k: "the store's words" for k in ("domestic_business_days",
                                              "international_business_days")},
    "promise": {"transit": "the store's words"},
}  # fmt: skip


@given(events(statuses=[*MOVING, Status.EXCEPTION]), instants, st.booleans(), st.booleans())
def test_a_customer_hears_of_silence_or_delay_only_on_a_promise(
    history: list[TrackingEvent], now: datetime, promised: bool, carrier_eta: bool
) -> None:
    """Issue 17 finding 4: a stall, a presumed loss or a late parcel measured against the
    store's delivery times reaches the customer exactly when the store promised the number;
    staff hear either way. A carrier's estimate is the customer's own to be told of."""
    pol = policy(promises=ALL_PROMISED) if promised else policy()
    eta = {"eta": BASE + timedelta(days=4)} if carrier_eta else {"ordered_at": BASE}
    v = view(history, pol, **eta)
    for name in ("stalled", "lost", "late"):
        finding = BY_NAME[name].evaluate(v, now)
        if finding is None:
            continue
        told = Audience.CUSTOMER in finding.audiences
        if name == "lost" and finding.facts["declared"]:
            assert told
        elif name == "late":
            assert not told or promised or carrier_eta
        else:
            assert told is promised, name
            assert Audience.STAFF in finding.audiences


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(statuses=[*MOVING, Status.EXCEPTION, Status.DELIVERED,
                        Status.AVAILABLE_FOR_PICKUP]), instants)  # fmt: skip
def test_evaluating_twice_at_the_same_instant_opens_nothing_new(
    history: list[TrackingEvent], now: datetime
) -> None:
    asyncio.run(_twice(history, now))


async def _twice(history: list[TrackingEvent], now: datetime) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings_ = build_settings({
            "daemon": {"database": str(Path(tmp) / "p.db")},
            "stores": {"shop": {"name": "Shop",
                                "channels": {"staff_chat": ["json://127.0.0.1:9/x"]}}},
        })  # fmt: skip
        store = await SqliteStore.open(settings_.daemon.database)
        try:
            shipment = Shipment(store="shop", carrier="ups", tracking_number="1Z5R89390357567127",
                                order_id="A1", customer_email="c@example.com",
                                shipped_at=BASE, eta=BASE + timedelta(days=3))  # fmt: skip
            sid = await store.add_shipment(shipment, BASE)
            result = TrackingResult(tracking_number=shipment.tracking_number,
                                    outcome=Outcome.FOUND, events=history,
                                    status=history[-1].status)  # fmt: skip
            monitor = Monitor(store, RULES, FrozenClock(now), settings_,
                              ChannelDirectory(settings_.stores), Renderer())  # fmt: skip
            snapshots = []
            for _ in range(2):
                await store.apply_polls([PollUpdate(sid, now, now, result)])  # fresh, dirty
                await monitor.run_once()
                snapshots.append((await store.all_alerts(), await store.notices()))
            assert snapshots[0] == snapshots[1]
        finally:
            await store.close()
