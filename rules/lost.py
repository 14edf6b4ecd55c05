"""lost: the carrier says so, or the parcel has been silent far past the stall threshold
(store policy `lost.*`, domestic and international). A lost alert makes stall, late and
pickup alerts redundant, so it supersedes them.

When the carrier declares it lost, the customer is told, with the store's own terms for a
lost parcel (`remedies.lost`; seed 002: 'If for any reason it is determined the parcel is
lost in transit you will be issued a full refund') or none. A loss presumed from silence
is staff's to confirm (002: 'The investigation to locate a package may take several weeks'),
unless the store promised the silence that makes a parcel lost.
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


def _audiences(view: ShipmentView, declared: bool) -> tuple[Audience, ...]:
    if declared or view.promised(_silence_threshold(view)[1]):
        return (Audience.STAFF, Audience.CUSTOMER)
    return (Audience.STAFF,)


def _silence_threshold(view: ShipmentView) -> tuple[int, str]:
    lost = view.policy.lost
    if view.international:
        return lost.international_business_days, "lost.international_business_days"
    return lost.domestic_business_days, "lost.domestic_business_days"


class Lost(BaseRule):
    name: ClassVar[str] = "lost"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        return view.once(self._deadline)

    def _deadline(self, view: ShipmentView) -> datetime | None:
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
        audiences = _audiences(view, declared is not None)
        why, episode, summary = _reading(view, declared, last, now)
        confirm = "" if Audience.CUSTOMER in audiences else (
            f"Confirm the loss with {view.carrier} first: the customer has not been told. ")  # fmt: skip
        return Finding(
            rule=self.name,
            episode=episode,
            severity=Severity.URGENT,
            audiences=audiences,
            summary=f"{view.parcel()} is {summary}",
            action=f"{confirm}File a lost-parcel claim with {view.carrier}. "
            f"{view.offer_text('lost')}",
            explanation={
                **why,
                "remedy": view.remedy("lost") or "none promised",
                "deadline": view.local(due),
                "policy": view.policy_name,
            },
            facts={"declared": "yes" if declared else ""},
            due=due,
            needs_fresh_data=declared is None,
            supersedes=SUPERSEDES,
        )


def _reading(
    view: ShipmentView, declared: TrackingEvent | None, last: TrackingEvent, now: datetime
) -> tuple[dict[str, str], str, str]:
    """(explanation lines, episode, summary) for a declared or a presumed loss."""
    if declared is not None:
        return ({"carrier says": view.scan_text(declared)},
                f"declared@{declared.occurred_at.isoformat()}", "declared lost")  # fmt: skip
    days, key = _silence_threshold(view)
    why = {
        "last scan": view.scan_text(last),
        **view.business_days_between(last.occurred_at, now),
        "threshold": f"{days} business days ({key})",
        "set by": view.source(key),
    }
    summary = f"silent for {why['business days elapsed']} business days: presumed lost"
    return why, f"silent@{last.occurred_at.isoformat()}", summary
