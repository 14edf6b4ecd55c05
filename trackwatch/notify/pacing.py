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
