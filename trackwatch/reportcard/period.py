"""The period a report card covers, from what a person typed (the command's options, the
page's query): days in UTC, `until` included."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from trackwatch.errors import InputError
from trackwatch.store.lanes import Period

DEFAULT_DAYS = 30  # the page's period when none is asked for


def day_of(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(field, f"{text!r} is not a day as YYYY-MM-DD") from None


def period_of(
    since: str | None, until: str | None, stores: Iterable[str] | None, now: datetime
) -> Period:
    """Parcels shipped from the start of `since` to the end of `until` (default: today;
    `since` defaults to DEFAULT_DAYS before `until`), of `stores` (None: every store)."""
    last = day_of(until, "until") if until else now.astimezone(UTC).date()
    first = day_of(since, "since") if since else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InputError("since", f"{first.isoformat()} is after until ({last.isoformat()})")
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
    return Period(start, end, None if stores is None else frozenset(stores))
