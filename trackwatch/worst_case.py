"""How many calendar days N business days can last, at worst: for checking that a policy's
deadlines come before polling stops (policy.deadline_races).

A business day here is what `trackwatch.calendar.BusinessCalendar` counts: not a weekend day
of the country (as the `holidays` package defines its weekend) and not one of its public
holidays. A carrier in the US closes on fewer days than all federal holidays, so counting
every public holiday can only make the answer longer, never shorter: a worst case.

The worst case is measured, not guessed: every start day of a fixed span of years, in the
country's own calendar (a domestic parcel stays in the origin country), or in every
country the `holidays` package knows (an international parcel can be bound anywhere: Nepal's
Dashain and Myanmar's Thingyan close a carrier for a week or more). Lunar holidays move, so
a span of years is counted; it is fixed, not read from the clock, so that a configuration
accepted today is not refused next year (nor a racing one accepted).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from operator import sub

import holidays

# 2026 to 2035: from this code's year, as far as the `holidays` package has every country's
# holidays (it warns of missing data past 2035 for some). Move it on with the package.
YEARS = range(2026, 2036)


def _countries() -> tuple[str, ...]:
    # The package lists each country under its alpha-2 and alpha-3 codes: count it once.
    return tuple(sorted(c for c in holidays.list_supported_countries() if len(c) == 2))


@lru_cache(maxsize=512)
def _business_days(country: str, years: range) -> tuple[int, ...]:
    """The business days of `country` over `years`, as date ordinals."""
    try:
        closed = holidays.country_holidays(country, years=years)
    except NotImplementedError:  # a country the package does not know: weekends only
        closed = holidays.HolidayBase()
    shut = {day.toordinal() for day in closed}
    weekend = closed.weekend
    first = date(years.start, 1, 1).toordinal()
    last = date(years.stop - 1, 12, 31).toordinal()
    # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday, Monday = 0.
    return tuple(o for o in range(first, last + 1) if (o - 1) % 7 not in weekend and o not in shut)


def _longest(days: tuple[int, ...], n: int) -> int:
    """The most calendar days from the start of a day to the end of the n-th business day
    after it. Starting on business day i, that is the end of business day i + n; starting
    on a day off is never longer than starting on the business day before it."""
    if n == 0:
        return 1
    gaps: list[int] = list(map(sub, days[n:], days))
    return max(gaps) + 1


# worst_calendar_days(n, None) over YEARS for n = 0, 1, 2 …: measured (`measure_abroad()`),
# recorded here because measuring loads every country's calendar, about 280 modules and
# 34 MB the daemon would keep for as long as it runs (it checks each policy as it loads its
# settings). tests/test_store_promises.py measures it again and fails when the `holidays`
# package's calendars change: record the new figures then.
ABROAD = (
    1, 13, 14, 15, 19, 21, 22, 25, 26, 27, 28, 29, 32, 33, 34, 36, 40, 41, 42, 43, 46, 47, 48,
    49, 50, 53, 54, 55, 56, 57, 60, 61, 62, 63, 64, 67, 69, 70, 71, 74, 75, 76, 77, 81, 83, 84,
    85, 88, 89, 90, 91, 92, 95, 96, 97, 98, 99, 102, 103, 104, 105, 106, 109, 110, 111, 112,
    116, 117, 118, 119, 123, 124, 125, 126, 127, 130, 132, 133, 134, 137, 138, 139, 140, 141,
    144, 145, 146, 147, 148, 152, 153, 154, 155, 158, 159, 160, 161, 162, 165, 166, 169, 172,
    173, 174, 176, 179, 180, 181, 182, 183, 186, 187, 188, 189, 190, 193, 194, 195, 196, 197,
    200,
)  # fmt: skip


def measure_abroad(count: int = len(ABROAD)) -> tuple[int, ...]:
    """What ABROAD records, measured over every country's calendar (slow, memory-hungry)."""
    countries = _countries()
    return tuple(max(_longest(_business_days(c, YEARS), n) for c in countries)
                 for n in range(count))  # fmt: skip


@lru_cache(maxsize=1024)
def worst_calendar_days(n: int, country: str | None, years: range = YEARS) -> int:
    """The most calendar days `n` business days can take over `years`: in `country`'s
    calendar, or in any country's when `country` is None. The count runs from the start of
    the day of the last event to the end of the n-th business day after it, as
    `add_business_days` counts."""
    if country is None and years == YEARS and 0 <= n < len(ABROAD):
        return ABROAD[n]
    countries = (country.upper(),) if country else _countries()
    return max(_longest(_business_days(c, years), n) for c in countries)


def race_problems(checks: list[tuple[str, int, str | None, str, int]]) -> list[str]:
    """For each (key, business days, country or None for abroad, limit key, limit in days):
    a line naming both keys when the business days can outlast the limit. A deadline must
    fall at least a day before polling stops, for the poll that verifies it."""
    problems = []
    for key, n, country, limit_key, limit in checks:
        worst = worst_calendar_days(n, country)
        if worst < limit:
            continue
        where = f"in {country}" if country else "abroad"
        problems.append(
            f"{key} ({n} business days) can take {worst} calendar days {where} (weekends and "
            f"public holidays), but polling stops after {limit_key} ({limit} days): raise "
            f"{limit_key} to at least {worst + 1} or lower {key}"
        )
    return problems
