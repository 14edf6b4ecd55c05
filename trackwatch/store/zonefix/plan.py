"""What migration 20 changes in one shipment's rows: each instant a release before it made
from a local time in a zone its lookup got wrong, made again from the same wall time in the
zone today's lookup gives (datetime.combine with fold=0, as carriers.timeparse.combine
reads a local time). Pure: the backends read the rows and write the plan
(trackwatch.store.zonefix.sqlite and .postgres).

What is re-dated, for every shipment, watched or not:
- events read from a local time (`zone_inferred`), in the column and in the stored JSON;
- `eta` and `first_eta`: UPS's always (it gives dates and delivery windows as local times
  only), the others' when they are a day-end (local midnight) in the old zone of the
  destination, which is how each adapter makes a promised date an instant;
- `last_event_at` and `follow_up_after`, which hold event instants;
- alert episodes (open and closed) that name an event instant (delivered, risky_delivery,
  returns, exceptions, stalled, lost, expired) or an ETA (late: the carrier's, or the store
  promise's day-end in the destination's calendar zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo

from trackwatch.legacy_zones import legacy_zone_for
from trackwatch.model import TrackingEvent
from trackwatch.store.zonefix.choice import Lookup, Spot, eta_zone, query_zone, scan_zone
from trackwatch.zones import zone_for

OLD: Lookup = legacy_zone_for
NEW: Lookup = zone_for
# Rules whose episode is an event's instant, bare or after "<what>@".
EVENT_EPISODES = frozenset(
    {"delivered", "risky_delivery", "returns", "exceptions", "stalled", "lost", "expired"}
)
_INFERRED = '"zone_inferred":true'  # as TrackingEvent.model_dump_json writes it
EVENT_FILTER = f"%{_INFERRED}%"  # a LIKE pattern: the only events that may move


@dataclass(frozen=True)
class StoredShipment:
    id: int
    carrier: str
    destination: Spot
    eta: datetime | None = None
    first_eta: datetime | None = None
    last_event_at: datetime | None = None
    follow_up_after: datetime | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event read from a local time: its row (`data` is its TrackingEvent JSON)."""

    id: int
    occurred_at: datetime
    code: str
    place: str
    data: str


@dataclass(frozen=True)
class StoredAlert:
    id: int
    rule: str
    episode: str


@dataclass
class Plan:
    """One shipment's rewrites: events (id, new instant, new JSON), the shipment's time
    columns (all four, changed or not) and alert episodes (id, new episode). `rejudge`: its
    destination's calendar moved, so its deadlines (check_at, deadline_at, made with the old
    one) are worked out again by the next judgement (the row is made dirty)."""

    shipment_id: int
    events: list[tuple[int, datetime, str]] = field(default_factory=list)
    times: dict[str, datetime | None] = field(default_factory=dict)
    episodes: list[tuple[int, str]] = field(default_factory=list)
    rejudge: bool = False

    @property
    def empty(self) -> bool:
        return not (self.events or self.times or self.episodes or self.rejudge)


def same_wall_time(instant: datetime, old: tzinfo, new: tzinfo) -> datetime:
    """The instant whose wall time in `new` is `instant`'s wall time in `old` (fold=0)."""
    wall = instant.astimezone(old)
    return datetime.combine(wall.date(), wall.time().replace(fold=0), tzinfo=new).astimezone(UTC)


def day_end(instant: datetime | None, old: tzinfo, new: tzinfo) -> datetime | None:
    """A local midnight in `old` as the same midnight in `new`; None for anything else."""
    if instant is None or str(old) == str(new):
        return None
    if instant.astimezone(old).time() != time(0):
        return None
    return same_wall_time(instant, old, new)


def carrier_eta(carrier: str, instant: datetime | None, old: tzinfo, new: tzinfo
                ) -> datetime | None:  # fmt: skip
    """A carrier's stored ETA made again in the new zone; None where it stays. UPS gives
    its dates and delivery windows without an offset (a window's end is a local time), so
    any UPS ETA moves with its wall time; the others also give instants with an offset,
    told apart from a date only by being a local midnight (a day-end)."""
    if carrier == "ups" and instant is not None and str(old) != str(new):
        return same_wall_time(instant, old, new)
    return day_end(instant, old, new)


def _read(row: StoredEvent) -> TrackingEvent | None:
    try:
        return TrackingEvent.model_validate_json(row.data)
    except ValueError:
        return None


def _origin(events: Sequence[tuple[StoredEvent, TrackingEvent]]) -> Spot | None:
    """The earliest scan that names a country (of those read from local times: the only
    ones the migration reads): DHL's origin, as well as it can be told."""
    for _, event in sorted(events, key=lambda pair: pair[1].occurred_at):
        if event.place.country:
            return Spot(event.place.country, event.place.state, event.place.postal_code)
    return None


def _events(shipment: StoredShipment, rows: Sequence[StoredEvent], plan: Plan
            ) -> dict[datetime, datetime]:  # fmt: skip
    """Re-date the events; returns each moved instant's new one (the first event's, when
    two scans at one instant moved differently). A row that cannot be read is left as it is
    (the daemon reports such rows; the upgrade must not fail on one)."""
    read = [(row, event) for row in rows if (event := _read(row)) is not None]
    origin = _origin(read)
    moved: dict[datetime, datetime] = {}
    for row, event in read:
        if not event.zone_inferred:
            continue
        place = Spot(event.place.country, event.place.state, event.place.postal_code)
        old = scan_zone(shipment.carrier, place, shipment.destination, origin, OLD)
        new = scan_zone(shipment.carrier, place, shipment.destination, origin, NEW)
        if str(old) == str(new):
            continue
        at = same_wall_time(event.occurred_at, old, new)
        if at == event.occurred_at:
            continue
        data = event.model_copy(update={"occurred_at": at}).model_dump_json()
        plan.events.append((row.id, at, data))
        moved.setdefault(event.occurred_at, at)
    return moved


def _mapped(value: datetime | None, moved: dict[datetime, datetime]) -> datetime | None:
    return None if value is None else moved.get(value, value)


def plan_shipment(shipment: StoredShipment, events: Sequence[StoredEvent],
                  alerts: Sequence[StoredAlert]) -> Plan:  # fmt: skip
    plan = Plan(shipment.id)
    moved = _events(shipment, events, plan)
    old_eta = eta_zone(shipment.carrier, shipment.destination, OLD)
    new_eta = eta_zone(shipment.carrier, shipment.destination, NEW)
    etas = {value: redated for value in (shipment.eta, shipment.first_eta)
            if value is not None
            and (redated := carrier_eta(shipment.carrier, value, old_eta, new_eta))}  # fmt: skip
    times = {"eta": _mapped(shipment.eta, etas), "first_eta": _mapped(shipment.first_eta, etas),
             "last_event_at": _mapped(shipment.last_event_at, moved),
             "follow_up_after": _mapped(shipment.follow_up_after, moved)}  # fmt: skip
    if moved or etas:
        plan.times = times
    calendar = (query_zone(shipment.destination, OLD), query_zone(shipment.destination, NEW))
    plan.rejudge = str(calendar[0]) != str(calendar[1])
    episodes = Episodes(moved, etas, shipment.carrier, (old_eta, new_eta), calendar)
    taken = {(a.rule, a.episode) for a in alerts}
    for alert in alerts:
        episode = episodes.redate(alert.rule, alert.episode)
        if episode != alert.episode and (alert.rule, episode) not in taken:
            taken.add((alert.rule, episode))
            plan.episodes.append((alert.id, episode))
    return plan


@dataclass(frozen=True)
class Episodes:
    """How an alert's episode moves: the instant in it, as the rule made it."""

    events: dict[datetime, datetime]
    etas: dict[datetime, datetime]
    carrier: str
    eta_zones: tuple[tzinfo, tzinfo]
    calendar_zones: tuple[tzinfo, tzinfo]

    def redate(self, rule: str, episode: str) -> str:
        what, at, text = episode.rpartition("@")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return episode
        if when.tzinfo is None:
            return episode
        if rule in EVENT_EPISODES:
            new = self.events.get(when)
            return f"{what}{at}{new.isoformat()}" if new else episode
        if rule == "late" and not what:
            return self._late(when) or episode
        return episode

    def _late(self, when: datetime) -> str | None:
        """rules.late's episode is the ETA's isoformat: the carrier's (stored, in UTC) or the
        store promise's end of day (calendar.end_of: in the destination's zone)."""
        if when.utcoffset() == UTC.utcoffset(None):
            new = self.etas.get(when) or carrier_eta(self.carrier, when, *self.eta_zones)
            return new.isoformat() if new else None
        old, new_zone = self.calendar_zones
        if when.utcoffset() != when.astimezone(old).utcoffset():
            return None
        moved = day_end(when, old, new_zone)
        return moved.astimezone(new_zone).isoformat() if moved else None
