"""Steps every parser shares once its events are normalized: order, dedupe, overall status,
and logging each unmapped code once; and what every client does with an answer before it is
ours: one parcel per number asked for, without the scans of an earlier parcel."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter

from carriers.base import Query
from trackwatch.model import (
    DeliveryLocation,
    ExceptionKind,
    Outcome,
    Place,
    Status,
    TrackingEvent,
    TrackingResult,
    utc,
)

log = logging.getLogger("trackwatch.carriers")
REPORTED_AT_MOST = 1000
_reported: set[tuple[str, str]] = set()

# After "delivered", only these can change what happened to the parcel.
_AFTER_DELIVERY = frozenset(
    {ExceptionKind.RETURNED_TO_SENDER, ExceptionKind.DAMAGED, ExceptionKind.LOST}
)

# How long before the merchant's ship date our label can have been scanned. Labels are often
# printed a day or two (a weekend, a batch) before the date the merchant gives; a week is the
# slack FedEx itself asks for around a ship date, and a recycled number's earlier parcel is
# months or years older (carriers keep 90-120 days of history and reuse numbers after that).
LABEL_SLACK = timedelta(days=7)


_EVENT_FIELDS = frozenset(TrackingEvent.model_fields)
_new_event = TrackingEvent.__new__
_set = object.__setattr__


def event(
    occurred_at: datetime, status: Status, code: str, description: str, place: Place, *,
    exception: ExceptionKind | None = None, delayed: bool = False,
    delivery_location: DeliveryLocation | None = None, signed_by: str | None = None,
    zone_inferred: bool = False, date_only: bool = False,
) -> TrackingEvent:  # fmt: skip
    """A TrackingEvent of fields a parser made itself, without validating them again
    (validation was a fifth of a parse). Only for values of exactly the declared types (the
    parsers' own: cleaned str, enums, bool, a Place); `occurred_at` is made UTC here, as the
    model's validator does, and a naive one still raises. Equal, field by field and type by
    type, to the validated model (tests/test_fast_paths.py)."""
    built = _new_event(TrackingEvent)
    _set(built, "__dict__", {
        "occurred_at": occurred_at if occurred_at.tzinfo is UTC else utc(occurred_at), "status": status, "code": code,
        "description": description, "place": place, "exception": exception,
        "delayed": delayed, "delivery_location": delivery_location, "signed_by": signed_by,
        "zone_inferred": zone_inferred, "date_only": date_only,
    })  # fmt: skip
    _set(built, "__pydantic_fields_set__", set(_EVENT_FIELDS))
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built


def report_unmapped(carrier: str, code: str) -> None:
    """Log an unmapped carrier code the first time it is seen in this process, the first
    REPORTED_AT_MOST of them: a carrier (or a push) sending a new code in every answer must
    not grow the set without end. Only the code: a carrier's words may name a person ("left
    with J SMITH"); they are in the shipment's events, for `show`."""
    if (carrier, code) in _reported or len(_reported) >= REPORTED_AT_MOST:
        return
    _reported.add((carrier, code))
    log.warning("%s: unmapped status code %s kept as unknown (`trackwatch show` has the "
                "carrier's words)", carrier, code)  # fmt: skip
    if len(_reported) == REPORTED_AT_MOST:
        log.warning("%d unmapped codes logged: no more are, until a restart", REPORTED_AT_MOST)


_occurred_at = attrgetter("occurred_at")


def in_order(listed: Sequence[TrackingEvent]) -> list[TrackingEvent]:
    """Events oldest first by UTC instant, duplicates merged.

    Carriers list events newest first "in practice", but not always: the listing order only
    breaks ties between events at the same instant (a later position is older).
    """
    # A stable sort of the reversed listing: at one instant, a later position comes first
    # (and the newest-first listing carriers send is already in order: one pass).
    ranked = sorted(reversed(listed), key=_occurred_at)
    seen: set[tuple[object, ...]] = set()
    events: list[TrackingEvent] = []
    for event in ranked:
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


def require_distinct(queries: Sequence[Query]) -> None:
    """Refuse a batch that asks for one number twice (two shipments watching it).

    Answers are keyed by number, so both shipments would get the parcel picked for one
    ship date: an answer that cannot be attributed must never be applied. The poller never
    builds such a batch; this is a programming error, raised before any call is made.
    """
    first: dict[str, int] = {}
    for index, query in enumerate(queries):
        if query.number in first:
            raise ValueError(f"a batch asks for one number twice (queries {first[query.number]} "
                             f"and {index}); each shipment needs its own call")  # fmt: skip
        first[query.number] = index


def rekeyed(
    results: Sequence[TrackingResult], queries: Sequence[Query]
) -> dict[str, TrackingResult]:
    """A batch answer keyed by the numbers asked for (never by position), with our parcel
    picked by ship date where a reused number brought several, and without any earlier
    parcel's scans."""
    require_distinct(queries)
    by_number: dict[str, list[TrackingResult]] = defaultdict(list)
    for result in results:
        by_number[result.tracking_number].append(result)
    answers: dict[str, TrackingResult] = {}
    for query in queries:
        chosen = pick_by_ship_date(by_number.get(query.number, []), query.shipped_on)
        if chosen is not None:
            answers[query.number] = without_earlier_parcels(chosen, query.shipped_on)
    return answers


# How far past our clock a scan may be dated: a local time read in a zone guessed wrong,
# and clocks that differ. One dated later is no scan (a carrier's error, or a push forged
# with a leaked secret): as the newest scan it would fix the parcel's status and last scan
# for as long, so that no later scan moved it and no stall was ever seen.
SCAN_AHEAD = timedelta(days=1)


def label_cutoff(shipped_on: date) -> datetime:
    """The earliest instant a scan of a parcel shipped on `shipped_on` can bear."""
    return datetime.combine(shipped_on - LABEL_SLACK, time(0), tzinfo=UTC)


def without_earlier_parcels(result: TrackingResult, shipped_on: date | None) -> TrackingResult:
    """`result` without the scans dated before our label (beyond LABEL_SLACK).

    A recycled number comes back with the parcel it carried before, often delivered years
    ago; taken as ours, that delivery would stop polling and silence every alert. What is
    kept decides the status; with nothing kept the carrier has nothing on our parcel yet
    (no information yet: its ETA, summary and photo were the earlier parcel's too).
    `ignored_events` and `message` say how many scans were dropped and why.
    """
    if shipped_on is None or result.outcome is not Outcome.FOUND:
        return result
    cutoff = label_cutoff(shipped_on)
    kept = [e for e in result.events if e.occurred_at >= cutoff]
    ignored = len(result.events) - len(kept)
    if not ignored:
        return result
    remark = (f"ignored {ignored} carrier scan(s) dated before {cutoff.date()}, more than "
              f"{LABEL_SLACK.days} days before the ship date {shipped_on}: they belong to an "
              "earlier parcel with the same number")  # fmt: skip
    return _keeping(result, kept, remark, cutoff)


def without_scans_after(result: TrackingResult, latest: datetime) -> TrackingResult:
    """`result` without the scans dated after `latest` (the poller's clock and SCAN_AHEAD)."""
    if result.outcome is not Outcome.FOUND:
        return result
    kept = [e for e in result.events if e.occurred_at <= latest]
    ignored = len(result.events) - len(kept)
    if not ignored:
        return result
    remark = (f"ignored {ignored} carrier scan(s) dated after {latest.date()}, in the future: "
              "a carrier's error")  # fmt: skip
    return _keeping(result, kept, remark, None)


def _keeping(
    result: TrackingResult, kept: list[TrackingEvent], remark: str, cutoff: datetime | None
) -> TrackingResult:
    """`result` with only the scans `kept`, the rest said in its message; its ETA too must
    not be before `cutoff` (the earlier parcel's)."""
    ignored = len(result.events) - len(kept) + result.ignored_events
    if not kept:
        return TrackingResult(tracking_number=result.tracking_number, outcome=Outcome.NO_INFO_YET,
                              message=remark, ignored_events=ignored)  # fmt: skip
    delivered = [e.occurred_at for e in kept if e.status is Status.DELIVERED]
    return result.model_copy(
        update={
            "events": kept,
            "status": overall_status(kept),
            "delivered_at": delivered[-1] if delivered else None,
            "photo_available": result.photo_available and bool(delivered),
            "eta": result.eta
            if result.eta is None or cutoff is None or result.eta >= cutoff
            else None,
            "message": "; ".join(m for m in (remark, result.message) if m),
            "ignored_events": ignored,
        }
    )
