"""Steps every parser shares once its events are normalized: order, dedupe, overall status,
and logging each unmapped code once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from trackwatch.model import ExceptionKind, Status, TrackingEvent

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
