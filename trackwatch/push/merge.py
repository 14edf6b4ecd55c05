"""Pure: a push's scans merged into what a shipment already has, and how long push covers a
shipment before its silence means a push may have been lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from carriers.assemble import SCAN_AHEAD, in_order, label_cutoff, overall_status
from trackwatch.config import PushSettings
from trackwatch.model import Status, TrackingEvent, TrackingResult
from trackwatch.store.push_records import PushTarget, PushUpdate

_WAITING = frozenset({Status.UNKNOWN, Status.LABEL_CREATED})


def quiet_after(status: Status, settings: PushSettings) -> timedelta:
    """How long a parcel in `status` may go without a push before it is polled for: a
    label waiting for pickup may sit for days, a moving parcel is scanned daily."""
    hours = settings.quiet_pre_transit_hours if status in _WAITING else settings.quiet_hours
    return timedelta(hours=hours)


def _same_scan(event: TrackingEvent, known: Sequence[TrackingEvent]) -> bool:
    """A scan stored already, polled or pushed: the same instant and status (a push can name
    the place with fewer fields than Track does, so the place is not compared)."""
    return any(k.occurred_at == event.occurred_at and k.status is event.status for k in known)


def merge(
    target: PushTarget,
    results: Sequence[TrackingResult],
    now: datetime,
    settings: PushSettings,
    after_delivery: bool = False,
) -> PushUpdate | None:
    """What the pushes `results` (one number's, in the order received) change of `target`;
    None when they bring no scan it does not have (a duplicate, a replay; a scan dated
    past `now` + SCAN_AHEAD is none). Order does not
    matter: scans are ordered by their instants, and the status is over all of them.
    `after_delivery`: the carrier keeps pushing once the parcel is delivered; otherwise a
    delivery ends the push cover (its subscription is deleted)."""
    cutoff, ahead = label_cutoff(target.shipped_at.date()), now + SCAN_AHEAD
    known = list(target.events)
    new: list[TrackingEvent] = []
    eta = None
    for result in results:
        eta = result.eta or eta
        for event in result.events:
            if cutoff <= event.occurred_at <= ahead and not _same_scan(event, known):
                known.append(event)
                new.append(event)
    if not new:
        return None
    merged = in_order(known)
    status = overall_status(merged)
    covered = after_delivery or status is not Status.DELIVERED
    until = now + quiet_after(status, settings) if covered else None
    return PushUpdate(target.shipment_id, target.revision, tuple(new), status,
                      merged[-1].occurred_at, eta, until, now)  # fmt: skip
