"""When a customer notice may go out: in the customer's daytime, and no sooner than the
store's window after the shipment's previous customer notice (nobody is spammed)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


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


def staff_time(instant: datetime, zone: ZoneInfo, days: frozenset[int], hours: tuple[int, int]
               ) -> datetime:  # fmt: skip
    """`instant` if it falls in staff hours (on one of `days`, Monday = 0), else the next
    start of staff hours."""
    starts, ends = hours
    local = instant.astimezone(zone)
    if local.weekday() in days and starts <= local.hour < ends:
        return instant
    day = local.date() if local.hour < starts else local.date() + timedelta(days=1)
    while day.weekday() not in days:
        day += timedelta(days=1)
    return datetime.combine(day, time(starts), tzinfo=zone)
