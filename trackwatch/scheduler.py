"""When to poll each shipment next. Pure: a shipment's state, its deadlines and settings in,
a plan out.

Quota, not CPU, limits this daemon (USPS about 60 calls an hour, DHL 250 a day), so a
parcel is polled when an answer can change what we do, not on a fixed beat:

- just before each deadline a rule must verify (a stall, a late parcel, a missing pickup),
  so that an alert is raised on data fetched after the quiet spell, never on a stale copy;
- at the end of each part of the carrier's working day while the parcel moves (two parts
  by default: an exception scanned in the morning is seen by early afternoon, one scanned in
  the afternoon by the evening), never at night or on the carrier's days off, when nothing
  is scanned;
- once a day before the first scan, and once at the end of the confirmation window after
  delivery, after which polling stops;
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


@dataclass(frozen=True)
class CarrierHours:
    """When a carrier scans parcels, in the local time of where the parcel is going."""

    zone: ZoneInfo
    days: frozenset[int]  # Monday = 0
    starts: int
    ends: int

    @classmethod
    def of(cls, settings: CarrierSettings, zone: ZoneInfo) -> CarrierHours:
        return cls(zone, settings.days(), settings.day_starts, settings.day_ends)

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


@dataclass(frozen=True)
class PollState:
    """What the scheduler reads of a shipment."""

    status: Status
    last_polled_at: datetime | None
    delivered_at: datetime | None
    restarted_at: datetime | None = None
    stopped: str | None = None
    next_poll_at: datetime | None = None  # as stored: the poller may have deferred it
    push_until: datetime | None = None  # a carrier's push covers it until then
    # A push told of the delivery without where the parcel was left (UPS's does not say):
    # one poll fetches it.
    details_missing: bool = False


@dataclass(frozen=True)
class Plan:
    next_poll_at: datetime | None  # None: polling stops
    deadline_at: datetime | None  # the nearest deadline to verify: the poller's priority
    stop: str | None = None


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
        return Plan(None, deadline, stop)
    if state.last_polled_at is None:
        # Never polled: due as it is (now, unless the poller deferred it for its carrier's
        # quota or health), whatever a judgement, perhaps the first after a crash, thinks of
        # routine slots; nothing is known until the carrier has been asked.
        return Plan(state.next_poll_at or now, deadline)
    if settings.schedule == "fixed":
        return Plan(now + timedelta(hours=settings.transit_poll_hours), deadline)
    candidates = [_routine(state, now, hours, settings)]
    lead = timedelta(minutes=settings.poll_lead_minutes)
    candidates += [d - lead for d in future if d - lead > now]
    floor = now + timedelta(minutes=settings.min_poll_minutes)
    return Plan(max(min(candidates), floor), deadline)


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


def _routine(state: PollState, now: datetime, hours: CarrierHours, s: DaemonSettings) -> datetime:
    if state.status is Status.DELIVERED and state.delivered_at is not None:
        return now if state.details_missing else _confirm_until(state, s)
    if state.push_until is not None and state.push_until > now:
        # The carrier pushes its scans: no routine poll while pushes come. When they go
        # quiet (none by `push_until`), the parcel is polled in case one was lost.
        return state.push_until
    after = max(now, state.last_polled_at or now)
    if state.status in _PRE_TRANSIT:
        return hours.next_slot(after, 1)
    return hours.next_slot(after, s.transit_polls_per_day)


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
