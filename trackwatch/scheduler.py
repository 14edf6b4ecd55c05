"""When to poll each shipment next. Pure: status, deadlines and settings in, an instant out.

Rarely before the first scan and after delivery, every few hours in transit, and just before
each rule's deadline so that an alert is raised on data fetched after the quiet spell, not
on a stale copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from trackwatch.config import DaemonSettings
from trackwatch.model import Status

_PRE_TRANSIT = frozenset({Status.LABEL_CREATED, Status.UNKNOWN})


def base_interval(status: Status, settings: DaemonSettings) -> timedelta:
    if status is Status.DELIVERED:
        return timedelta(hours=settings.delivered_poll_hours)
    if status in _PRE_TRANSIT:
        return timedelta(hours=settings.pre_transit_poll_hours)
    return timedelta(hours=settings.transit_poll_hours)


def next_poll(status: Status, now: datetime, settings: DaemonSettings) -> datetime:
    return now + base_interval(status, settings)


def poll_before(deadlines: Iterable[datetime], now: datetime, settings: DaemonSettings
                ) -> datetime | None:  # fmt: skip
    """The poll that verifies the nearest future deadline, `poll_lead_minutes` before it."""
    lead = timedelta(minutes=settings.poll_lead_minutes)
    floor = now + timedelta(minutes=settings.min_poll_minutes)
    targets = [d - lead for d in deadlines if d - lead > now]
    return max(min(targets), floor) if targets else None


def is_fresh(last_polled_at: datetime | None, deadline: datetime, settings: DaemonSettings) -> bool:
    """Whether data polled at `last_polled_at` can confirm a condition due at `deadline`."""
    tolerance = timedelta(minutes=settings.fresh_data_minutes)
    return last_polled_at is not None and last_polled_at >= deadline - tolerance
