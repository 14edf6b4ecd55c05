"""expired: the carrier has had nothing new for too long. Polling stops (the monitor reads
this finding as a stop) and staff are told, so that quota is not spent on it forever;
`trackwatch restart` polls it again and gives it another window.

Two silences, two settings: a number the carrier never scanned (a typo, a label never handed
over) stops after `expiry.after_days` (30) calendar days; a parcel the carrier has scanned
stops after `expiry.silent_after_days` (60), which the policy checks is later than every
stall and lost deadline can fall (trackwatch.worst_case): a silent parcel is declared lost
before anyone stops looking at it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, Finding, Severity


def _quiet_since(view: ShipmentView) -> datetime:
    last = view.last_event
    since = last.occurred_at if last is not None else view.shipment.shipped_at
    restarted = view.shipment.restarted_at
    return max(since, restarted) if restarted is not None else since


def _limit(view: ShipmentView) -> tuple[int, str, str]:
    """(days, the policy key, what was missing) for this parcel's kind of silence."""
    expiry = view.policy.expiry
    if view.has_real_scan:
        return expiry.silent_after_days, "expiry.silent_after_days", "no carrier update"
    return expiry.after_days, "expiry.after_days", "no carrier information"


class Expired(BaseRule):
    name: ClassVar[str] = "expired"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        return view.once(self._deadline)

    def _deadline(self, view: ShipmentView) -> datetime | None:
        if view.delivered:
            return None
        return _quiet_since(view) + timedelta(days=_limit(view)[0])

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        if due is None or now < due:
            return None
        last = view.last_event
        days, key, missing = _limit(view)
        shipment = view.shipment
        return Finding(
            rule=self.name,
            episode=_quiet_since(view).isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.STAFF,),
            summary=f"{view.parcel()}: {missing} for {days} days; tracking stopped",
            action=f"Check the tracking number with {view.carrier}; if it was wrong, correct "
            f"it and add the shipment again; to keep watching it, run "
            f"`trackwatch restart {shipment.id}`.",
            explanation={
                "last carrier information": view.scan_text(last) if last else "none, ever",
                "shipped": view.local(shipment.shipped_at),
                "threshold": f"{days} days ({key})",
                "set by": view.source(key),
                "deadline": view.local(due),
                "policy": view.policy_name,
            },
            due=due,
            needs_fresh_data=True,
            # Tracking has stopped: these no longer tell staff anything this does not.
            supersedes=frozenset({"stalled", "late", "not_picked_up"}),
        )
