"""exceptions: what the carrier says went wrong, one alert per exception scan.

An address problem or a return to sender is urgent (seed 000: the post office holds a parcel
about a week before it goes back, and returned orders get lost): the customer is asked to fix
the address now. For each kind with a remedy situation, the customer's message and the staff
task state the store's own terms (`remedies.<kind>`: seed 003 offers 'a full refund or a
reshipment (with an additional phone case as compensation)' when customs stop a parcel; seed
004 returns parcels 'at your expense' for reshipping), or none. A missed delivery and a
parcel waiting at a pickup point tell the customer what to do; the date a parcel goes back is
told only when the store gave the hold time. What customs ask of a recipient is the store's
to say (seed 002: only the recipient can ask customs; 003 deals with customs itself), so a
customs hold is told in the store's terms alone. A return to sender stays open until staff
resolve it; the others clear when the parcel moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, ExceptionKind, Finding, Severity, Status, TrackingEvent

BOTH = (Audience.CUSTOMER, Audience.STAFF)


@dataclass(frozen=True)
class Kind:
    """`key` is also the remedy situation (remedies.<key>) when `remedy` is set; `action`
    is the staff task, a sentence the store's terms follow."""

    key: str
    severity: Severity
    audiences: tuple[Audience, ...]
    summary: str
    action: str
    supersedes: frozenset[str] = frozenset()
    remedy: bool = True


_ADDRESS = frozenset({"stalled", "late"})
KINDS = {
    ExceptionKind.ADDRESS_ISSUE: Kind(
        "address_issue", Severity.URGENT, BOTH, "has an address problem",
        "Fix the address with the carrier before the parcel goes back.", _ADDRESS),
    ExceptionKind.RETURNED_TO_SENDER: Kind(
        "returned_to_sender", Severity.URGENT, BOTH, "is being returned to the sender",
        "Confirm the address with the customer.", _ADDRESS | {"delivered", "risky_delivery"}),
    ExceptionKind.CUSTOMS_HOLD: Kind(
        "customs_hold", Severity.WARNING, BOTH, "is held in customs",
        "Ask the carrier what customs need to release the parcel.", frozenset({"stalled"})),
    ExceptionKind.DAMAGED: Kind(
        "damaged", Severity.WARNING, BOTH, "was reported damaged by the carrier",
        "File a damage claim with the carrier."),
    ExceptionKind.OTHER: Kind(
        "undeliverable", Severity.WARNING, BOTH, "cannot be delivered as things stand",
        "Ask the carrier what stops the delivery."),
}  # fmt: skip
ATTEMPTED = Kind("delivery_attempted", Severity.INFO, (Audience.CUSTOMER,),
                 "had a delivery attempt", "The customer is told how to arrange redelivery.",
                 remedy=False)  # fmt: skip
PICKUP = Kind("available_for_pickup", Severity.INFO, (Audience.CUSTOMER,),
              "is waiting at a pickup point", "The customer is told where to collect it.",
              remedy=False)  # fmt: skip


def current(view: ShipmentView) -> tuple[Kind, TrackingEvent] | None:
    """The exception the parcel is in now: a return to sender sticks; the rest are the
    newest scan's."""
    return view.once(_current)


def _current(view: ShipmentView) -> tuple[Kind, TrackingEvent] | None:
    returned = view.exception_events(ExceptionKind.RETURNED_TO_SENDER)
    if returned:
        return KINDS[ExceptionKind.RETURNED_TO_SENDER], returned[0]
    last = view.last_event
    if last is None:
        return None
    if last.exception is not None and last.exception in KINDS:
        return KINDS[last.exception], last
    if last.status is Status.EXCEPTION and last.exception is None:
        return KINDS[ExceptionKind.OTHER], last
    if last.status is Status.DELIVERY_ATTEMPTED:
        return ATTEMPTED, last
    if last.status is Status.AVAILABLE_FOR_PICKUP:
        return PICKUP, last
    return None


def _goes_back(view: ShipmentView, kind: Kind, event: TrackingEvent) -> tuple[str, str, bool]:
    """(the local date the parcel goes back, why, whether the store gave the hold time so
    that the customer may be told it), for kinds the carrier holds a while."""
    held = {
        "address_issue": ("exceptions.address_hold_days", view.policy.exceptions.address_hold_days),
        "available_for_pickup": ("exceptions.pickup_hold_days",
                                 view.policy.exceptions.pickup_hold_days),
    }.get(kind.key)  # fmt: skip
    if held is None:
        return "", "", False
    key, days = held
    back = view.calendar.local_date(event.occurred_at + timedelta(days=days)).isoformat()
    return back, f"{back} ({days} days after the scan, {key}; {view.source(key)})", \
        view.promised(key)  # fmt: skip


def _action(view: ShipmentView, kind: Kind) -> str:
    if not kind.remedy:
        return kind.action
    return f"{kind.action} {view.offer_text(kind.key)}"


class Exceptions(BaseRule):
    name: ClassVar[str] = "exceptions"

    def deadline(self, view: ShipmentView) -> datetime | None:
        found = current(view)
        return found[1].occurred_at if found else None

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        found = current(view)
        if found is None or now < found[1].occurred_at:
            return None
        kind, event = found
        back_on, why, tell = _goes_back(view, kind, event)
        when = f" (goes back around {date.fromisoformat(back_on):%a %d %b})" if back_on else ""
        return Finding(
            rule=self.name,
            episode=f"{kind.key}@{event.occurred_at.isoformat()}",
            severity=kind.severity,
            audiences=kind.audiences,
            summary=f"{view.parcel()} {kind.summary}{when}",
            action=_action(view, kind),
            explanation={
                "kind": kind.key,
                "carrier says": view.scan_text(event),
                "carrier code": event.code,
                **({"goes back around": why} if why else {}),
                **({"remedy": view.remedy(kind.key) or "none promised"} if kind.remedy else {}),
                "policy": view.policy_name,
            },
            facts={"kind": kind.key, "goes_back": back_on if tell else ""},
            due=event.occurred_at,
            supersedes=kind.supersedes,
        )
