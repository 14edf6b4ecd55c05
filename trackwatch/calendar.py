"""Business days as carriers count them, at the parcel's destination.

A business day is a day that is not a weekend day (as the `holidays` package defines the
weekend for that country) and not a day the carrier is closed. In the US each carrier closes
on its own subset of federal holidays (kept below as data); elsewhere every public holiday of
the destination country counts. A store's "3 business days" therefore means three of the
carrier's working days, counted in the destination's local dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

import holidays

from trackwatch.zones import zone_for

K = TypeVar("K")
V = TypeVar("V")

# Carrier closure days at US destinations, by the holiday's name in `holidays.US`.
# None means every federal holiday. Sources: each carrier's published holiday schedule
# (USPS closes on all federal holidays; UPS, FedEx and DHL Express on six).
_SIX_MAJOR = frozenset(
    {
        "New Year's Day",
        "Memorial Day",
        "Independence Day",
        "Labor Day",
        "Thanksgiving Day",
        "Christmas Day",
    }
)
US_CARRIER_CLOSURES: dict[str, frozenset[str] | None] = {
    "usps": None,
    "ups": _SIX_MAJOR,
    "fedex": _SIX_MAJOR,
    "dhl": _SIX_MAJOR,
}

OBSERVED_SUFFIX = " (observed)"
# How many answers each of a calendar's memos keeps before it starts again: judging asks
# about the same few hundred days, and a long-running daemon must not grow.
MEMO_LIMIT = 4096
_TICK = timedelta(microseconds=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BusinessSpan:
    """How many business days lie between two instants, and which days were skipped."""

    business_days: int
    weekend_days: int
    holidays: tuple[tuple[date, str], ...] = field(default=())

    def holidays_text(self) -> str:
        if not self.holidays:
            return "none"
        return "; ".join(f"{d.isoformat()} {name}" for d, name in self.holidays)


class BusinessCalendar:
    def __init__(self, country: str, zone: ZoneInfo, carrier: str | None = None) -> None:
        self.country = country.upper()
        self.zone = zone
        self.carrier = carrier
        self._holidays = _holidays_for(self.country)
        self._closures = US_CARRIER_CLOSURES.get(carrier or "") if self.country == "US" else None
        # Rules ask about the same few days again and again (every deadline of every
        # judgement, most of them the same as at the shipment's last judgement): each answer
        # is pure, so it is kept (up to MEMO_LIMIT per memo). Keyed by local dates only: an
        # instant is no key (two in one zone that differ only in `fold` compare equal).
        # Which days are business days does not depend on the zone: every calendar of the
        # same country and closures (one per postal code) shares those answers.
        days = _days_for(self.country, self._closures)
        self._business = days.business
        self._nth = days.nth
        self._closed = days.closed
        self._spans = days.spans
        self._ends: dict[date, datetime] = {}  # the zone's own

    def closure(self, day: date) -> str | None:
        """The holiday's name if the carrier does not work on `day` for that reason."""
        try:
            return self._closed[day]
        except KeyError:
            pass
        found = None
        for name in self._holidays.get_list(day):
            base = name.removesuffix(OBSERVED_SUFFIX)
            if self._closures is None or base in self._closures:
                found = name
                break
        return _keep(self._closed, day, found)

    def is_weekend(self, day: date) -> bool:
        return day.weekday() in self._holidays.weekend

    def is_business_day(self, day: date) -> bool:
        known = self._business.get(day)
        if known is None:
            known = not self.is_weekend(day) and self.closure(day) is None
            _keep(self._business, day, known)
        return known

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)

    def end_of(self, day: date) -> datetime:
        """The instant `day` ends at the destination (the next local midnight)."""
        found = self._ends.get(day)
        if found is None:
            found = _keep(self._ends, day, self.start_of(day + _DAY))
        return found

    def due_date(self, instant: datetime) -> date:
        """The local day a deadline falls on: an ETA of 'by midnight' belongs to the day
        that midnight ends, as carriers' end-of-day ETAs do."""
        return self.local_date(instant - _TICK)

    def nth_business_day(self, day: date, n: int) -> date:
        """The n-th business day after `day` (`day` itself when n is 0)."""
        if n < 0:
            raise ValueError("n must not be negative")
        known = self._nth.get((day, n))
        if known is not None:  # every judgement asks again for the same few days
            return known
        found, counted = day, 0
        while counted < n:
            found += timedelta(days=1)
            if self.is_business_day(found):
                counted += 1
        return _keep(self._nth, (day, n), found)

    def add_business_days(self, start: datetime, n: int) -> datetime:
        """The instant at which `n` whole business days have passed since `start`.

        Days are counted from the day after `start`'s local date; the result is local
        midnight at the end of the n-th such business day. A scan on Monday with n=3 gives
        Friday 00:00 (Tuesday, Wednesday, Thursday have passed).
        """
        return self.end_of(self.nth_business_day(self.local_date(start), n))

    def span(self, start: datetime, end: datetime) -> BusinessSpan:
        """Whole local days strictly after `start`'s date and before `end`'s date."""
        first, last = self.local_date(start), self.local_date(end)
        found = self._spans.get((first, last))
        if found is None:
            found = _keep(self._spans, (first, last), self._count(first, last))
        return found

    def _count(self, first: date, last: date) -> BusinessSpan:
        """span's count: the days strictly between two local dates, one at a time."""
        day = first + timedelta(days=1)
        business = weekend = 0
        skipped: list[tuple[date, str]] = []
        while day < last:
            if self.is_weekend(day):
                weekend += 1
            elif (name := self.closure(day)) is not None:
                skipped.append((day, name))
            else:
                business += 1
            day += timedelta(days=1)
        return BusinessSpan(business, weekend, tuple(skipped))


@dataclass(frozen=True)
class _DayMemos:
    """The answers about days kept for one country's calendars with the same closures."""

    business: dict[date, bool] = field(default_factory=dict)
    nth: dict[tuple[date, int], date] = field(default_factory=dict)
    closed: dict[date, str | None] = field(default_factory=dict)
    spans: dict[tuple[date, date], BusinessSpan] = field(default_factory=dict)


@lru_cache(maxsize=256)
def _days_for(country: str, closures: frozenset[str] | None) -> _DayMemos:
    return _DayMemos()


def _keep(memo: dict[K, V], key: K, value: V) -> V:
    """Remember `value` under `key` and return it; a full memo starts again (the days in
    use move on, and the few still asked for come back at once)."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


@lru_cache(maxsize=256)
def _holidays_for(country: str) -> holidays.HolidayBase:
    """The country's holiday table, one per country: every calendar of that country (one
    per carrier and postal code) shares it, so it is built, and each year filled, once."""
    try:
        return holidays.country_holidays(country)
    except NotImplementedError:
        # A country the package does not know: weekends still count, no public holidays.
        return holidays.HolidayBase()


@lru_cache(maxsize=1024)
def calendar_for(carrier: str, country: str, postal_code: str = "") -> BusinessCalendar:
    """The calendar a rule uses for a shipment: the carrier's, at its destination."""
    return BusinessCalendar(country, zone_for(country, postal_code), carrier)


def warm(countries: Iterable[str], years: Iterable[int]) -> None:
    """Build the holiday tables and time zones of `countries` and fill them for `years` now,
    so that no judgement pays for it: a first country costs 0.1 to 0.2 s (the `holidays`
    package loads its module, tzdata its zone table), long enough to hold up the event loop
    or miss a test's deadline. Blocking: the daemon calls it off the loop at start, before
    its first pass, `await asyncio.to_thread(warm, countries, years)`."""
    wanted = list(years)
    for country in countries:
        for carrier in US_CARRIER_CLOSURES:
            calendar = calendar_for(carrier, country)
            for year in wanted:
                calendar.closure(date(year, 1, 1))  # fills the table for `year`
