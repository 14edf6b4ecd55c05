"""A generated world for the simulator: parcels across the four carriers, each following one
scenario, with scripted scans the sandbox serves as the real APIs would.

Routine scans (departures, arrivals) happen at any hour, as sorting hubs work at night;
scans made by people on the street or at a counter (deliveries, attempts, address problems,
damage, customs holds) fall in the carrier's working day at the destination, which is what
the scheduler's working-hours slots assume. DHL carries the international parcels.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from trackwatch.model import Place
from trackwatch.sandbox.world import Milestone, Parcel
from trackwatch.sim.declared import Declared, declare
from trackwatch.sim.numbers import make_number
from trackwatch.zones import zone_for

# The share of each scenario, and of each carrier (DHL's 250 calls a day watch about a
# hundred parcels in transit at two polls a day: it is the store's international carrier).
SCENARIOS = {"on_time": 0.50, "stalled": 0.05, "recovered": 0.06, "late": 0.07,
             "exception": 0.05, "address_problem": 0.05, "customs_hold": 0.03,
             "delivered_not_received": 0.06, "lost": 0.03, "not_picked_up": 0.04,
             "slow_but_fine": 0.06}  # fmt: skip
CARRIER_SHARE = {"usps": 0.36, "ups": 0.36, "fedex": 0.24, "dhl": 0.04}
TRANSIT_DAYS = {"usps": (2, 5), "ups": (1, 5), "fedex": (1, 4), "dhl": (3, 6)}

ORIGIN = Place(city="Chicago", state="IL", postal_code="60601", country="US")
DOMESTIC = (
    Place(city="New York", state="NY", postal_code="10001", country="US"),
    Place(city="Atlanta", state="GA", postal_code="30301", country="US"),
    Place(city="Dallas", state="TX", postal_code="75201", country="US"),
    Place(city="Denver", state="CO", postal_code="80202", country="US"),
    Place(city="Los Angeles", state="CA", postal_code="90001", country="US"),
    Place(city="Seattle", state="WA", postal_code="98101", country="US"),
)
ABROAD = (
    Place(city="Berlin", postal_code="10115", country="DE"),
    Place(city="London", postal_code="SW1A 1AA", country="GB"),
    Place(city="Toronto", postal_code="M5V 2T6", country="CA"),
)
HUB = Place(city="Memphis", state="TN", postal_code="38118", country="US")


@dataclass
class SimParcel:
    """One parcel of the world: what the sandbox serves and what the daemon is told."""

    key: int
    scenario: str
    parcel: Parcel
    shipped_at: datetime
    report_at: datetime | None = None  # the customer says "it is not here"

    def declared(self) -> list[Declared]:
        """The alerts this parcel's script promises the merchant, and by when."""
        return declare(self.parcel, self.shipped_at, self.report_at)


class _Script:
    """Builds one parcel's timeline, moving a cursor forward in time."""

    def __init__(self, rnd: random.Random, destination: Place) -> None:
        self.rnd = rnd
        self.destination = destination
        self.zone: ZoneInfo = zone_for(destination.country, destination.postal_code,
                                       destination.state)  # fmt: skip
        self.steps: list[Milestone] = []

    def scan(self, at: datetime, kind: str, place: Place, detail: str = "") -> datetime:
        self.steps.append(Milestone(at, kind, place, detail))
        return at

    def hop(self, after: datetime, hours: tuple[float, float]) -> datetime:
        return after + timedelta(hours=self.rnd.uniform(*hours))

    def working(self, day: date, first: int = 9, last: int = 18) -> datetime:
        """A time in the carrier's working day at the destination."""
        minutes = self.rnd.randrange(first * 60, last * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)

    def next_day(self, after: datetime, days: int = 1) -> date:
        """The local date `days` carrier days (Monday to Saturday) after `after`."""
        day = after.astimezone(self.zone).date()
        while days:
            day += timedelta(days=1)
            days -= day.weekday() != 6
        return day


def generate(count: int, start: datetime, ship_days: float, seed: int,
             carriers: tuple[str, ...] = tuple(CARRIER_SHARE)) -> list[SimParcel]:  # fmt: skip
    rnd = random.Random(seed)
    shares = [CARRIER_SHARE[c] for c in carriers]
    kinds, weights = list(SCENARIOS), list(SCENARIOS.values())
    parcels: list[SimParcel] = []
    numbers: set[str] = set()
    for key in range(count):
        carrier = rnd.choices(carriers, shares)[0]
        scenario = rnd.choices(kinds, weights)[0]
        if scenario == "customs_hold" and carrier != "dhl":
            scenario = "exception"
        elif carrier == "dhl" and scenario == "on_time" and rnd.random() < 0.4:
            scenario = "customs_hold"  # most of DHL's parcels cross a border
        shipped = _ship_time(rnd, start, ship_days)
        parcel = _parcel(key, carrier, scenario, shipped, rnd)
        while parcel.parcel.number in numbers:  # a store watches each number once
            parcel.parcel.number = make_number(carrier, rnd)
        numbers.add(parcel.parcel.number)
        parcels.append(parcel)
    return parcels


def _ship_time(rnd: random.Random, start: datetime, ship_days: float) -> datetime:
    """Labels are printed in the store's working day (Chicago, 09:00-17:00)."""
    while True:
        at = start + timedelta(days=rnd.uniform(0, ship_days))
        local = at.astimezone(zone_for(ORIGIN.country, ORIGIN.postal_code, ORIGIN.state))
        if local.weekday() < 5 and 9 <= local.hour < 17:
            return at


def _parcel(key: int, carrier: str, scenario: str, shipped: datetime, rnd: random.Random
            ) -> SimParcel:  # fmt: skip
    abroad = carrier == "dhl"
    destination = rnd.choice(ABROAD if abroad else DOMESTIC)
    s = _Script(rnd, destination)
    s.scan(shipped, "label", ORIGIN)
    if scenario == "not_picked_up":
        picked = s.working(s.next_day(shipped, rnd.randint(4, 6)), 16, 20)
    else:
        picked = s.hop(shipped, (5, 9))
    s.scan(picked, "picked_up", ORIGIN)
    late_days = rnd.randint(3, 4) if scenario == "late" else 0
    report_at, delivered = _journey(s, scenario, picked, late_days)
    if delivered is None:  # never delivered: the carrier's estimate stands
        low, high = TRANSIT_DAYS[carrier]
        eta = s.next_day(picked, rnd.randint(low, high) + 1)
    else:
        eta = delivered.astimezone(s.zone).date() - timedelta(days=late_days)
    parcel = Parcel(carrier, make_number(carrier, rnd), s.steps, destination,
                    scheduled_delivery=eta, shipped_on=shipped.date())  # fmt: skip
    return SimParcel(key, scenario, parcel, shipped, report_at)


def _journey(s: _Script, scenario: str, cursor: datetime, late_days: int
             ) -> tuple[datetime | None, datetime | None]:  # fmt: skip
    """The scans after pickup; returns when the customer reports it missing (if they do)
    and when it was delivered (if it was)."""
    cursor = s.scan(s.hop(cursor, (3, 6)), "departed", ORIGIN)
    cursor = s.scan(s.hop(cursor, (8, 16)), "arrived", HUB)
    if scenario in ("stalled", "lost"):
        if scenario == "lost":
            s.scan(s.working(s.next_day(cursor, s.rnd.randint(1, 3))), "lost", HUB)
        return None, None
    if scenario in ("recovered", "slow_but_fine"):
        # Silent past the stall threshold (recovered), or just under it (slow but fine).
        quiet = s.rnd.randint(6, 8) if scenario == "recovered" else 2
        cursor = s.scan(s.working(s.next_day(cursor, quiet), 2, 6), "departed", HUB)
    elif scenario == "exception":
        cursor = s.scan(s.working(s.next_day(cursor)), "damaged", HUB)
    elif scenario == "customs_hold":
        cursor = s.scan(s.working(s.next_day(cursor)), "customs_hold", s.destination)
        cursor = s.scan(s.working(s.next_day(cursor, s.rnd.randint(1, 2))), "in_transit",
                        s.destination)  # fmt: skip
    for _ in range(late_days):  # late but moving: a scan a day, so late, not stalled
        cursor = s.scan(s.hop(cursor, (20, 28)), "in_transit", HUB)
    cursor = s.scan(s.hop(cursor, (10, 20)), "arrived", s.destination)
    out = datetime.combine(s.next_day(cursor), time(7, 30), tzinfo=s.zone)
    cursor = s.scan(out, "out_for_delivery", s.destination)
    if scenario == "address_problem":
        cursor = s.scan(s.working(out.date(), 10, 18), "address_issue", s.destination)
        cursor = s.working(s.next_day(cursor, s.rnd.randint(2, 3)))
        return None, s.scan(cursor, "delivered", s.destination)
    delivered = s.scan(s.working(out.date(), 10, 19), "delivered", s.destination)
    if scenario == "delivered_not_received":
        return delivered + timedelta(hours=s.rnd.uniform(20, 40)), delivered
    return None, delivered
