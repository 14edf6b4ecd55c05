"""When to poll each shipment next. Pure: a shipment's state, its deadlines and settings in,
a plan (with the reason for it, in words) out.

Quota, not CPU, limits this daemon (USPS about 60 calls an hour, DHL 250 a day), and calls
per shipment are what a merchant pays for, so a parcel is polled when an answer can change
what we do, and when a scan is likely, not on a fixed beat:

- just before each deadline a rule must verify (a stall, a late parcel, a missing pickup),
  so that an alert is raised on data fetched after the quiet spell, never on a stale copy;
- while it moves, at the end of each part of the carrier's working day, in as many parts as
  the carrier's headroom affords (`transit_polls_per_day`, per carrier: UPS, FedEx and USPS
  can afford four, DHL's 250 calls a day three): an exception scanned during the day is
  seen within a part of it; never at night or on the carrier's days off, when nothing is
  scanned by people; once a parcel has been silent for QUIET (a stalled parcel) only at the
  end of the carrier day, its deadlines being verified anyway;
- once scanned at its destination, not until the next carrier day, when it goes out for
  delivery: then at that day's first delivery slot;
- out for delivery, at the end of each part of the carrier day cut into
  `delivery_polls_per_day` parts, until the delivery scan is seen;
- once a day, at the end of the carrier day, before the first scan (a label not yet
  accepted cannot go wrong in any way a merchant must hear of), and once at the end of the
  confirmation window after delivery, after which polling stops;
- while it has never been polled, when it is due already: a judgement never moves a first
  poll later;
- while a carrier's push covers the parcel (`push_until`, trackwatch.push), no routine poll:
  the next one is when the pushes would have gone quiet, deadlines are still verified.

`fixed` scheduling (the simulator's baseline) polls every `transit_poll_hours` regardless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from trackwatch.config import CarrierSettings, DaemonSettings
from trackwatch.model import Status

_PRE_TRANSIT = frozenset({Status.LABEL_CREATED, Status.UNKNOWN})
# Scans reach the tracking API a few minutes after they happen.
_GRACE = timedelta(minutes=5)
# Silent this long, a parcel is not between two scans of a journey but stuck (longer than
# any dwell at a hub or a customs office that ends in a scan the same week): polled once a
# carrier day, its stall and loss deadlines verified by their own polls.
QUIET = timedelta(days=5)


@dataclass(frozen=True)
class CarrierHours:
    """When a carrier scans parcels, in the local time of where the parcel is going, and
    how often its headroom lets a moving parcel be polled (None: the daemon's setting)."""

    zone: ZoneInfo
    days: frozenset[int]  # Monday = 0
    starts: int
    ends: int
    transit_polls: int | None = None

    @classmethod
    def of(cls, settings: CarrierSettings, zone: ZoneInfo) -> CarrierHours:
        return cls(zone, settings.days(), settings.day_starts, settings.day_ends,
                   settings.transit_polls_per_day)  # fmt: skip

    def next_slot(self, after: datetime, parts: int) -> datetime:
        """The first end of a part of a working day strictly after `after`, when the day
        is cut into `parts` equal parts (plus a few minutes for scans to show)."""
        local = after.astimezone(self.zone)
        span = (self.ends - self.starts) / max(1, parts)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            start = datetime.combine(day, time(self.starts), tzinfo=self.zone)
            for part in range(1, max(1, parts) + 1):
                slot = start + timedelta(hours=span * part) + _GRACE
                if slot > after:
                    return slot
        return after + timedelta(days=1)  # no working day configured: daily

    def day_after(self, instant: datetime) -> datetime:
        """The local midnight that ends `instant`'s day."""
        day = instant.astimezone(self.zone).date() + timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=self.zone)


@dataclass(frozen=True)
class PollState:
    """What the scheduler reads of a shipment."""

    status: Status
    last_polled_at: datetime | None
    delivered_at: datetime | None
    restarted_at: datetime | None = None
    stopped: str | None = None
    next_poll_at: datetime | None = None  # as stored: the poller may have deferred it
    last_event_at: datetime | None = None
    at_destination: bool = False  # its last scan was at its destination (not delivered)
    push_until: datetime | None = None  # a carrier's push covers it until then
    # A push told of the delivery without where the parcel was left (UPS's does not say):
    # one poll fetches it.
    details_missing: bool = False


@dataclass(frozen=True)
class Plan:
    next_poll_at: datetime | None  # None: polling stops
    deadline_at: datetime | None  # the nearest deadline to verify: the poller's priority
    stop: str | None = None
    reason: str = ""  # why the next poll is when it is, in words


def plan(
    state: PollState,
    verify_at: Iterable[datetime],
    now: datetime,
    hours: CarrierHours,
    settings: DaemonSettings,
    stop: str | None = None,
) -> Plan:
    """The next poll of one shipment. `verify_at` are the deadlines rules want verified;
    `stop` is a reason from the rules (expired, declared lost) to stop polling."""
    future = sorted(d for d in verify_at if d > now)
    deadline = future[0] if future else None
    stop = state.stopped or stop or _delivered_stop(state, now, settings)
    if stop is not None:
        return Plan(None, deadline, stop, f"polling stopped: {stop}")
    if state.last_polled_at is None:
        # Never polled: due as it is (now, unless the poller deferred it for its carrier's
        # quota or health), whatever a judgement, perhaps the first after a crash, thinks of
        # routine slots; nothing is known until the carrier has been asked.
        return Plan(state.next_poll_at or now, deadline, reason="never polled yet")
    if settings.schedule == "fixed":
        every = settings.transit_poll_hours
        return Plan(now + timedelta(hours=every), deadline, reason=f"fixed: every {every:g} h")
    routine, why = _routine(state, now, hours, settings)
    lead = timedelta(minutes=settings.poll_lead_minutes)
    verify = [d - lead for d in future if d - lead > now]
    chosen, reason = routine, why
    if verify and verify[0] < routine:
        chosen, reason = verify[0], "just before a deadline a rule must verify on fresh data"
    floor = now + timedelta(minutes=settings.min_poll_minutes)
    if chosen < floor:
        chosen, reason = floor, f"{reason} (no sooner than min_poll_minutes)"
    return Plan(chosen, deadline, reason=reason)


def _delivered_stop(state: PollState, now: datetime, settings: DaemonSettings) -> str | None:
    """Delivered and confirmed: the confirmation window is over, or the carrier's push,
    which goes on after delivery, would bring a correction (no poll needed to see one)."""
    if state.delivered_at is None or state.status is not Status.DELIVERED:
        return None
    pushed = state.push_until is not None and state.push_until > now
    if pushed and not state.details_missing and settings.schedule == "smart":
        return "delivered"
    return "delivered" if now >= _confirm_until(state, settings) else None


def _confirm_until(state: PollState, settings: DaemonSettings) -> datetime:
    """The end of the window in which carriers correct a delivery scan (or of the same
    window after a restart by hand)."""
    start = max(filter(None, (state.delivered_at, state.restarted_at)))
    return start + timedelta(hours=settings.delivered_confirm_hours)


def _routine(
    state: PollState, now: datetime, hours: CarrierHours, s: DaemonSettings
) -> tuple[datetime, str]:
    """The next routine poll for the parcel's phase, and the reason in words."""
    if state.status is Status.DELIVERED and state.delivered_at is not None:
        if state.details_missing:
            return now, "delivered: the push said not where it was left; one poll fetches it"
        return _confirm_until(state, s), "delivered: once more when the confirmation window ends"
    if state.push_until is not None and state.push_until > now:
        # The carrier pushes its scans: no routine poll while pushes come. When they go
        # quiet (none by `push_until`), the parcel is polled in case one was lost.
        return state.push_until, "the carrier pushes its scans: polled only if they go quiet"
    # A slot minutes after the last poll would ask again what was just answered: the next.
    gap = timedelta(minutes=s.min_poll_minutes)
    after = max(now, state.last_polled_at or now) + gap
    delivery = s.delivery_polls_per_day
    if state.status in _PRE_TRANSIT:
        return hours.next_slot(after, 1), "label only: once at the end of the carrier day"
    if state.status is Status.OUT_FOR_DELIVERY:
        why = f"out for delivery: {delivery} polls a carrier day until the delivery scan"
        return hours.next_slot(after, delivery), why
    if state.at_destination and state.status is Status.IN_TRANSIT and state.last_event_at:
        # Out for delivery the carrier day after the scan's (not after now's: a judgement
        # just past midnight must not skip that day).
        why = (
            "at its destination: out for delivery the next carrier day, polled from its first slot"
        )
        return hours.next_slot(max(after, hours.day_after(state.last_event_at)), delivery), why
    if state.last_event_at is not None and now - state.last_event_at >= QUIET:
        return hours.next_slot(after, 1), "silent for days: once at the end of the carrier day"
    parts = hours.transit_polls or s.transit_polls_per_day
    return hours.next_slot(after, parts), f"moving: {parts} polls a carrier day"


def next_poll(status: Status, now: datetime, settings: DaemonSettings) -> datetime:
    """A provisional next poll, stored with a poll's answer until the rules loop plans the
    real one from the shipment's deadlines (moments later)."""
    hours = (
        settings.pre_transit_poll_hours if status in _PRE_TRANSIT else settings.transit_poll_hours
    )
    return now + timedelta(hours=hours)


def is_fresh(last_polled_at: datetime | None, deadline: datetime, settings: DaemonSettings) -> bool:
    """Whether data polled at `last_polled_at` can confirm a condition due at `deadline`."""
    tolerance = timedelta(minutes=settings.fresh_data_minutes)
    return last_polled_at is not None and last_polled_at >= deadline - tolerance
