"""The Rule contract and the view of a shipment a rule reads.

A rule is pure: it gets everything in a ShipmentView and `now` as an argument, does no I/O
and reads no clock. `deadline` says when it would fire if nothing new happens, so the
scheduler can poll just before it and the rules loop can wake at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from trackwatch.calendar import BusinessCalendar
from trackwatch.model import Finding, Shipment, Status, TrackingEvent
from trackwatch.policy import StorePolicy

# Statuses that only say a label exists: a stall clock starts at the first real scan.
PRE_TRANSIT = frozenset({Status.LABEL_CREATED, Status.UNKNOWN})


@dataclass(frozen=True)
class ShipmentView:
    shipment: Shipment
    events: Sequence[TrackingEvent]  # oldest first
    policy: StorePolicy
    policy_name: str
    calendar: BusinessCalendar

    @property
    def last_event(self) -> TrackingEvent | None:
        return self.events[-1] if self.events else None

    @property
    def has_real_scan(self) -> bool:
        return any(e.status not in PRE_TRANSIT for e in self.events)

    def local(self, instant: datetime) -> str:
        """An instant as the destination's local time, for explanations."""
        return instant.astimezone(self.calendar.zone).strftime("%Y-%m-%d %H:%M %Z")


class Rule(Protocol):
    name: ClassVar[str]

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None: ...

    def deadline(self, view: ShipmentView) -> datetime | None: ...
