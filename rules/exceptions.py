"""exceptions: what the carrier says went wrong, one alert per exception scan.

An address problem or a return to sender is urgent (seed 000: the post office holds a parcel
about a week before it goes back, and returned orders get lost): the customer is asked to fix
the address now. A parcel that cannot be delivered (customs inspection, damage, anything
unforeseen) gets a staff task naming both options, refund or reshipment (seed 003). A missed
delivery and a parcel waiting at a pickup point tell the customer what to do and by when.
A return to sender stays open until staff resolve it; the others clear when the parcel moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, ExceptionKind, Finding, Severity, Status, TrackingEvent

BOTH = (Audience.CUSTOMER, Audience.STAFF)
REFUND_OR_RESHIP = "Ask the customer: full refund or reshipment"


@dataclass(frozen=True)
class Kind:
    key: str
    severity: Severity
    audiences: tuple[Audience, ...]
    summary: str
    action: str
    supersedes: frozenset[str] = frozenset()


_ADDRESS = frozenset({"stalled", "late"})
KINDS = {
    ExceptionKind.ADDRESS_ISSUE: Kind(
        "address_issue", Severity.URGENT, BOTH, "has an address problem",
        "Fix the address with the carrier before the parcel goes back", _ADDRESS),
    ExceptionKind.RETURNED_TO_SENDER: Kind(
        "returned_to_sender", Severity.URGENT, BOTH, "is being returned to the sender",
        f"Confirm the address; {REFUND_OR_RESHIP.lower()} once it is back",
        _ADDRESS | {"delivered", "risky_delivery"}),
    ExceptionKind.CUSTOMS_HOLD: Kind(
        "customs_hold", Severity.WARNING, BOTH, "is held in customs",
        f"{REFUND_OR_RESHIP} if customs will not release it; only the recipient can ask "
        "customs, with the tracking number", frozenset({"stalled"})),
    ExceptionKind.DAMAGED: Kind(
        "damaged", Severity.WARNING, BOTH, "was reported damaged by the carrier",
        f"{REFUND_OR_RESHIP}; file a damage claim with the carrier"),
    ExceptionKind.OTHER: Kind(
        "undeliverable", Severity.WARNING, BOTH, "cannot be delivered as things stand",
        f"{REFUND_OR_RESHIP}"),
}  # fmt: skip
ATTEMPTED = Kind(
    "delivery_attempted",
    Severity.INFO,
    (Audience.CUSTOMER,),
    "had a delivery attempt",
    "The customer is told how to arrange redelivery.",
)
PICKUP = Kind("available_for_pickup", Severity.INFO, (Audience.CUSTOMER,),
              "is waiting at a pickup point", "The customer is told where and by when.")  # fmt: skip


def current(view: ShipmentView) -> tuple[Kind, TrackingEvent] | None:
    """The exception the parcel is in now: a return to sender sticks; the rest are the
    newest scan's."""
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


def _goes_back(view: ShipmentView, kind: Kind, event: TrackingEvent) -> tuple[str, str]:
    """(the local date the parcel goes back, why), for kinds the carrier holds a while."""
    held = {
        "address_issue": ("exceptions.address_hold_days", view.policy.exceptions.address_hold_days),
        "available_for_pickup": ("exceptions.pickup_hold_days",
                                 view.policy.exceptions.pickup_hold_days),
    }.get(kind.key)  # fmt: skip
    if held is None:
        return "", ""
    key, days = held
    back = view.calendar.local_date(event.occurred_at + timedelta(days=days)).isoformat()
    return back, f"{back} ({days} days after the scan, {key})"


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
        back_on, why = _goes_back(view, kind, event)
        when = f" (goes back around {back_on})" if back_on else ""
        return Finding(
            rule=self.name,
            episode=f"{kind.key}@{event.occurred_at.isoformat()}",
            severity=kind.severity,
            audiences=kind.audiences,
            summary=f"{view.parcel()} {kind.summary}{when}",
            action=f"{kind.action}.",
            explanation={
                "kind": kind.key,
                "carrier says": view.scan_text(event),
                "carrier code": event.code,
                **({"goes back around": why} if why else {}),
                "policy": view.policy_name,
            },
            facts={"kind": kind.key, "goes_back": back_on},
            due=event.occurred_at,
            supersedes=kind.supersedes,
        )
