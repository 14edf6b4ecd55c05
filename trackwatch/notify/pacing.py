"""When a notice may go out: customer notices in the customer's daytime, and no sooner than
the store's window after the shipment's previous customer notice (nobody is spammed); staff
chat in staff hours, which are off on the staff's public holidays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from trackwatch.policy import StorePolicy

Closed = Callable[[date], bool]


def daytime(instant: datetime, zone: ZoneInfo, starts: int, ends: int) -> datetime:
    """`instant` if it falls between `starts`:00 and `ends`:00 local time, else the next
    `starts`:00 local time."""
    local = instant.astimezone(zone)
    if starts <= local.hour < ends:
        return instant
    day = local.date() if local.hour < starts else local.date() + timedelta(days=1)
    return datetime.combine(day, time(starts), tzinfo=zone)


def customer_send_time(
    now: datetime,
    previous: datetime | None,
    window: timedelta,
    zone: ZoneInfo,
    hours: tuple[int, int],
) -> datetime:
    earliest = now if previous is None else max(now, previous + window)
    return daytime(earliest, zone, *hours)


def _never(day: date) -> bool:
    return False


def staff_time(
    instant: datetime,
    zone: ZoneInfo,
    days: frozenset[int],
    hours: tuple[int, int],
    closed: Closed = _never,
) -> datetime:
    """`instant` if it falls in staff hours (on one of `days`, Monday = 0, and not a day
    `closed` names), else the next start of staff hours."""
    starts, ends = hours
    local = instant.astimezone(zone)
    if _working(local.date(), days, closed) and starts <= local.hour < ends:
        return instant
    day = local.date() if local.hour < starts else local.date() + timedelta(days=1)
    for _ in range(366):  # a year of holidays on every working day is a broken calendar
        if _working(day, days, closed):
            break
        day += timedelta(days=1)
    return datetime.combine(day, time(starts), tzinfo=zone)


def _working(day: date, days: frozenset[int], closed: Closed) -> bool:
    return day.weekday() in days and not closed(day)


def staff_closed(policy: StorePolicy) -> Closed:
    """The days staff are off for a public holiday: the origin country's (or the country
    and subdivision `staff.holidays` names), none when it says "none"."""
    calendar = policy.staff.holidays
    if calendar == "none":
        return _never
    country, _, subdivision = (policy.origin_country if calendar == "origin" else calendar
                               ).partition("-")  # fmt: skip
    return _public_holidays(country, subdivision).__contains__


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    """One table per calendar (each year is filled on first use, then kept); a country the
    package does not know has no holidays."""
    try:
        return holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        return holidays.HolidayBase()
