"""stalled: no new carrier event for N business days.

N depends on where the parcel is: domestic, international, or in the customs / cross-border
handover stretch where tracking is expected to go quiet (store policy `stall.*`). The clock
starts at the first real scan, not at the label (not_picked_up covers that), and the alert
resolves when a new event arrives: a new last event is a new episode.

Staff always hear. The customer hears only when the threshold is the store's own promise
(seed 004: 'If your tracking hasn't updated in more than 3 business days'; 002: 5): a
number an operator chose is no promise the customer was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, Finding, Severity, Status

# A parcel waiting at a pickup point is quiet by design; `exceptions` tells the customer.
QUIET_STATUSES = frozenset({Status.DELIVERED, Status.AVAILABLE_FOR_PICKUP})


def stall_threshold(view: ShipmentView) -> tuple[int, str, str]:
    """(business days, the policy key, the phase's name) for the parcel's current stretch."""
    stall = view.policy.stall
    if view.in_customs_phase:
        return stall.customs_business_days, "stall.customs_business_days", "customs / abroad"
    if view.international:
        return (stall.international_business_days, "stall.international_business_days",
                "international")  # fmt: skip
    return stall.domestic_business_days, "stall.domestic_business_days", "domestic"


def silent_since(view: ShipmentView) -> datetime | None:
    """When the parcel last moved, if a silence could count against it at all."""
    return view.once(_silent_since)


def _silent_since(view: ShipmentView) -> datetime | None:
    last = view.last_event
    quiet = view.shipment.status in QUIET_STATUSES or view.delivered
    if last is None or not view.has_real_scan or quiet:
        return None
    return last.occurred_at


class Stalled(BaseRule):
    name: ClassVar[str] = "stalled"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        return view.once(self._deadline)

    def _deadline(self, view: ShipmentView) -> datetime | None:
        since = silent_since(view)
        if since is None:
            return None
        return view.calendar.add_business_days(since, stall_threshold(view)[0])

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        last = view.last_event
        if due is None or last is None or now < due:
            return None
        days, key, phase = stall_threshold(view)
        span = view.business_days_between(last.occurred_at, now)
        tell = view.promised(key)
        return Finding(
            rule=self.name,
            episode=last.occurred_at.isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.STAFF, Audience.CUSTOMER) if tell else (Audience.STAFF,),
            summary=f"{view.parcel()} has had no carrier update for "
            f"{span['business days elapsed']} business days",
            action=_action(view, tell),
            explanation={
                "last scan": view.scan_text(last),
                "phase": phase,
                **span,
                "threshold": f"{days} business days ({key})",
                "set by": view.source(key),
                "deadline": view.local(due),
                "policy": view.policy_name,
            },
            facts={"days": str(days)},
            due=due,
            needs_fresh_data=True,
        )


def _action(view: ShipmentView, customer_told: bool) -> str:
    if view.policy.stall.investigation:
        ask = f"Open a carrier investigation with {view.carrier} (it can take several weeks)"
    else:
        ask = f"Ask {view.carrier} to trace the parcel"
    if customer_told:
        return f"{ask}; the customer is told it is delayed."
    return f"{ask}; the customer has not been told (the store promised no such threshold)."
