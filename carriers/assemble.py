"""Steps every parser shares once its events are normalized: order, dedupe, overall status,
and logging each unmapped code once."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from carriers.base import Query
from trackwatch.model import ExceptionKind, Status, TrackingEvent, TrackingResult

log = logging.getLogger("trackwatch.carriers")
_reported: set[tuple[str, str]] = set()

# After "delivered", only these can change what happened to the parcel.
_AFTER_DELIVERY = frozenset(
    {ExceptionKind.RETURNED_TO_SENDER, ExceptionKind.DAMAGED, ExceptionKind.LOST}
)


def report_unmapped(carrier: str, code: str) -> None:
    """Log an unmapped carrier code the first time it is seen in this process."""
    if (carrier, code) not in _reported:
        _reported.add((carrier, code))
        log.warning("%s: unmapped status code %s kept as unknown", carrier, code)


def in_order(listed: Sequence[TrackingEvent]) -> list[TrackingEvent]:
    """Events oldest first by UTC instant, duplicates merged.

    Carriers list events newest first "in practice", but not always: the listing order only
    breaks ties between events at the same instant (a later position is older).
    """
    ranked = sorted(enumerate(listed), key=lambda pair: (pair[1].occurred_at, -pair[0]))
    seen: set[tuple[object, ...]] = set()
    events: list[TrackingEvent] = []
    for _, event in ranked:
        key = event.dedupe_key()
        if key not in seen:
            seen.add(key)
            events.append(event)
    return events


def overall_status(events: Sequence[TrackingEvent]) -> Status:
    """The newest event's status, but a delivery stays delivered unless a later event says
    the parcel was returned, damaged or lost."""
    if not events:
        return Status.UNKNOWN
    delivered = [i for i, e in enumerate(events) if e.status is Status.DELIVERED]
    if not delivered:
        return events[-1].status
    later = events[delivered[-1] + 1 :]
    overriding = [e for e in later if e.exception in _AFTER_DELIVERY]
    return overriding[-1].status if overriding else Status.DELIVERED


def _reference_day(result: TrackingResult) -> date | None:
    if result.ship_date is not None:
        return result.ship_date
    return result.events[0].occurred_at.date() if result.events else None


def pick_by_ship_date(
    results: Sequence[TrackingResult], shipped_on: date | None
) -> TrackingResult | None:
    """Our parcel among the several a reused number returns: the one whose ship date (or
    first scan) is nearest our ship date; without a ship date, the newest."""
    if len(results) <= 1:
        return results[0] if results else None
    if shipped_on is None:
        return max(results, key=lambda r: _reference_day(r) or date.min)

    def distance(result: TrackingResult) -> tuple[int, int]:
        day = _reference_day(result)
        if day is None:
            return (1 << 30, 0)
        return (abs((day - shipped_on).days), -day.toordinal())

    return min(results, key=distance)


def rekeyed(
    results: Sequence[TrackingResult], queries: Sequence[Query]
) -> dict[str, TrackingResult]:
    """A batch answer keyed by the numbers asked for (never by position), with our parcel
    picked by ship date where a reused number brought several."""
    by_number: dict[str, list[TrackingResult]] = defaultdict(list)
    for result in results:
        by_number[result.tracking_number].append(result)
    answers: dict[str, TrackingResult] = {}
    for query in queries:
        chosen = pick_by_ship_date(by_number.get(query.number, []), query.shipped_on)
        if chosen is not None:
            answers[query.number] = chosen
    return answers
