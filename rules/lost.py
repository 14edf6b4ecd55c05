"""lost: the carrier says so, or the parcel has been silent far past the stall threshold
(store policy `lost.*`, domestic and international). Staff must refund or reship (seed 002:
'if it is lost in transit you get a full refund'); the customer is told. A lost alert makes
stall, late and pickup alerts redundant, so it supersedes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from rules.stalled import silent_since
from trackwatch.model import Audience, ExceptionKind, Finding, Severity, TrackingEvent

SUPERSEDES = frozenset({"stalled", "late", "not_picked_up"})


def _declared(view: ShipmentView) -> TrackingEvent | None:
    if view.delivered:
        return None
    found = view.exception_events(ExceptionKind.LOST)
    return found[0] if found else None


def _silence_threshold(view: ShipmentView) -> tuple[int, str]:
    lost = view.policy.lost
    if view.international:
        return lost.international_business_days, "lost.international_business_days"
    return lost.domestic_business_days, "lost.domestic_business_days"


class Lost(BaseRule):
    name: ClassVar[str] = "lost"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        declared = _declared(view)
        if declared is not None:
            return declared.occurred_at
        since = silent_since(view)
        if since is None:
            return None
        return view.calendar.add_business_days(since, _silence_threshold(view)[0])

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        last = view.last_event
        if due is None or last is None or now < due:
            return None
        declared = _declared(view)
        carrier = view.shipment.carrier.upper()
        if declared is not None:
            why = {"carrier says": view.scan_text(declared)}
            episode, summary = f"declared@{declared.occurred_at.isoformat()}", "declared lost"
        else:
            days, key = _silence_threshold(view)
            why = {
                "last scan": view.scan_text(last),
                **view.business_days_between(last.occurred_at, now),
                "threshold": f"{days} business days ({key})",
            }
            episode = f"silent@{last.occurred_at.isoformat()}"
            summary = f"silent for {why['business days elapsed']} business days: presumed lost"
        return Finding(
            rule=self.name,
            episode=episode,
            severity=Severity.URGENT,
            audiences=(Audience.STAFF, Audience.CUSTOMER),
            summary=f"{view.parcel()} is {summary}",
            action=f"Ask the customer: refund or reship; file a lost-parcel claim with {carrier}.",
            explanation={**why, "deadline": view.local(due), "policy": view.policy_name},
            facts={"declared": "yes" if declared else ""},
            due=due,
            needs_fresh_data=declared is None,
            supersedes=SUPERSEDES,
        )
