"""The Rule contract and the view of a shipment a rule reads.

A rule is pure: it gets everything in a ShipmentView and `now` as an argument, does no I/O
and reads no clock. `deadline` says when it would first fire if nothing new happens, and
`deadlines` every instant its verdict could change on its own (fire, escalate, expire), so
the scheduler can poll just before them and the rules loop can wake at them. A rule never
fires before its `deadline`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property, lru_cache
from typing import Any, ClassVar, Protocol, TypeVar
from zoneinfo import ZoneInfo

from carriers.names import label
from trackwatch.calendar import BusinessCalendar
from trackwatch.model import Direction, ExceptionKind, Finding, Shipment, Status, TrackingEvent
from trackwatch.policy import StorePolicy
from trackwatch.promises import source_text
from trackwatch.zones import iso_country

# Statuses that only say a label exists: a stall clock starts at the first real scan.
PRE_TRANSIT = frozenset({Status.LABEL_CREATED, Status.UNKNOWN})

# Words carriers use for the customs and cross-border handover stretch of a journey.
_CUSTOMS_WORDS = re.compile(
    r"customs|clearance|import|export|international|border|departed .* country|in transit to "
    r"destination country",
    re.IGNORECASE,
)


T = TypeVar("T")


@lru_cache(maxsize=16384)
def local_text(instant: datetime, zone: tzinfo) -> str:
    """`instant` as `zone`'s wall time ("2026-11-23 09:00 EST"). Cached: every judgement
    words the same few deadlines again (strftime was most of judging's time)."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class ShipmentView:
    shipment: Shipment
    events: Sequence[TrackingEvent]  # oldest first, no duplicates
    policy: StorePolicy
    policy_name: str
    calendar: BusinessCalendar

    @property
    def last_event(self) -> TrackingEvent | None:
        return self.events[-1] if self.events else None

    @cached_property
    def has_real_scan(self) -> bool:
        return any(e.status not in PRE_TRANSIT for e in self.events)

    @cached_property
    def _memo(self) -> dict[Any, Any]:
        return {}

    def once(self, compute: Callable[[ShipmentView], T]) -> T:
        """`compute(self)`, worked out once per view: what several rules (or one rule's
        `deadlines` and `evaluate`) read of the same view. `compute` must read nothing but
        the view: the view never changes, so neither does the answer."""
        memo = self._memo
        try:
            return memo[compute]  # type: ignore[no-any-return]
        except KeyError:
            found = memo[compute] = compute(self)
            return found

    @cached_property
    def delivered_event(self) -> TrackingEvent | None:
        """The delivery scan, if any: the latest one (a parcel is delivered once)."""
        return delivery_scan(self.events)

    @property
    def delivered(self) -> bool:
        return self.delivered_event is not None or self.shipment.status is Status.DELIVERED

    @cached_property
    def international(self) -> bool:
        """The parcel crosses a border: bound abroad, or scanned in another country."""
        destination = self.shipment.destination_country
        if destination != self.policy.origin_country:
            return True
        return any(_country(e) not in (None, destination) for e in self.events)

    @cached_property
    def in_customs_phase(self) -> bool:
        """Between countries: customs, or scanned last outside the destination country."""
        last = self.last_event
        if last is None or not self.international:
            return False
        if last.exception is ExceptionKind.CUSTOMS_HOLD or _CUSTOMS_WORDS.search(last.description):
            return True
        country = _country(last)
        return country is not None and country != self.shipment.destination_country

    def exception_events(self, kind: ExceptionKind) -> list[TrackingEvent]:
        """The scans of `kind`, oldest first (one list per view: do not change it)."""
        return self._exceptions.get(kind, [])

    @cached_property
    def _exceptions(self) -> dict[ExceptionKind, list[TrackingEvent]]:
        found: dict[ExceptionKind, list[TrackingEvent]] = {}
        for event in self.events:
            if event.exception is not None:
                found.setdefault(event.exception, []).append(event)
        return found

    def local(self, instant: datetime) -> str:
        """An instant as the destination's local time, for explanations."""
        return local_text(instant, self.calendar.zone)

    def day_end(self, instant: datetime) -> str:
        """A deadline that falls at midnight as the day it ends: 'end of 2026-12-25'."""
        local = instant.astimezone(self.calendar.zone)
        if (local.hour, local.minute, local.second) == (0, 0, 0):
            return f"end of {self.calendar.due_date(instant).isoformat()}"
        return self.local(instant)

    @property
    def carrier(self) -> str:
        """The carrier's name as people write it: USPS, UPS, FedEx, DHL."""
        return label(self.shipment.carrier)

    @cached_property
    def store_calendar(self) -> BusinessCalendar:
        """The store's own business days (its origin country's public holidays, in the
        staff's zone), for what the store counts itself, such as its refund deadline."""
        return calendar_of_store(self.policy.origin_country, self.policy.staff_zone())

    def promised(self, key: str) -> bool:
        """Whether the store's page gives the setting `key`: only then may a customer
        message rest on it."""
        return self.policy.promised(key) is not None

    def source(self, key: str) -> str:
        """Whose number `key` is, for an explanation line ("set by")."""
        return source_text(key, self.policy.promised(key))

    def remedy(self, situation: str) -> str:
        """The store's own terms for `situation` (promises.SITUATIONS), "" for none."""
        return self.policy.remedies.of(situation)

    def offer_text(self, situation: str) -> str:
        """What staff may offer the customer, a sentence to end an action with: the store's
        words, led by the task that keeps them when they promise an act (remedies.
        staff_tasks), or that it offers nothing (then the customer was offered only help)."""
        words = self.remedy(situation)
        task = self.policy.remedies.task(situation)
        if words and task:
            return f"{task} The store's page promises: “{words}”"
        if words:
            return f"The store's page offers: “{words}”"
        return (f"The store's page offers nothing for this (remedies.{situation}): the "
                "customer was offered only help, so promise only what the store decides.")  # fmt: skip

    def parcel(self) -> str:
        s = self.shipment
        return f"{self.carrier} {s.tracking_number} (order {s.order_id})"

    def calendar_text(self) -> str:
        s = self.shipment
        where = f"{s.destination_country} {s.destination_postal_code}".rstrip()
        return f"{self.carrier} working days at {where} ({self.calendar.zone.key})"

    def scan_text(self, event: TrackingEvent) -> str:
        where = event.place.label()
        return f"{self.local(event.occurred_at)}: {event.description}" + (
            f" ({where})" if where else ""
        )

    def business_days_between(self, start: datetime, end: datetime) -> dict[str, str]:
        """The explanation lines for a count of business days: counted, skipped, calendar."""
        span = self.calendar.span(start, end)
        return {
            "business days elapsed": str(span.business_days),
            "holidays skipped": span.holidays_text(),
            "weekend days skipped": str(span.weekend_days),
            "calendar": self.calendar_text(),
        }


@lru_cache(maxsize=256)
def calendar_of_store(country: str, zone: ZoneInfo) -> BusinessCalendar:
    """A store's calendar (no carrier's closures), one per country and zone: every view of
    the store's parcels shares it and what it has worked out."""
    return BusinessCalendar(country, zone)


def delivery_scan(events: Sequence[TrackingEvent]) -> TrackingEvent | None:
    """The latest "delivered" scan of `events` (oldest first), if any."""
    return next((e for e in reversed(events) if e.status is Status.DELIVERED), None)


def _country(event: TrackingEvent) -> str | None:
    """The scan's country as ISO alpha-2, or None when the carrier gave none we can read
    (a name such as "United States" is not guessed at: it must not make a parcel abroad)."""
    code = iso_country(event.place.country or "")
    return code if len(code) == 2 and code.isalpha() else None


class Rule(Protocol):
    name: ClassVar[str]
    directions: ClassVar[frozenset[Direction]]
    # Whether the rule judges an absence (of scans, of delivery): such a rule fires only on
    # data polled after its deadline, so the scheduler polls just before it.
    verifies: ClassVar[bool]

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None: ...

    def deadline(self, view: ShipmentView) -> datetime | None: ...

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]: ...


OUTBOUND = frozenset({Direction.OUTBOUND})


class BaseRule:
    """Defaults: a rule watches parcels going to customers, reacts to what was scanned (so
    it needs no verifying poll), and its verdict changes at its deadline only."""

    directions: ClassVar[frozenset[Direction]] = OUTBOUND
    verifies: ClassVar[bool] = False

    def deadline(self, view: ShipmentView) -> datetime | None:
        raise NotImplementedError

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]:
        due = self.deadline(view)
        return () if due is None else (due,)
