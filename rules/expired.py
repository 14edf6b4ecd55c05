"""expired: the carrier has had nothing new for `expiry.after_days` (30) calendar days: a
number it never knew, or a parcel gone silent for good. Polling stops (the monitor reads
this finding as a stop) and staff are told, so that quota is not spent on it forever;
`trackwatch restart` polls it again and gives it another window.
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


class Expired(BaseRule):
    name: ClassVar[str] = "expired"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        if view.delivered:
            return None
        return _quiet_since(view) + timedelta(days=view.policy.expiry.after_days)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        if due is None or now < due:
            return None
        last = view.last_event
        days = view.policy.expiry.after_days
        shipment = view.shipment
        return Finding(
            rule=self.name,
            episode=_quiet_since(view).isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.STAFF,),
            summary=f"{view.parcel()}: no carrier information for {days} days; tracking stopped",
            action=f"Check the tracking number with {shipment.carrier.upper()}; if it was "
            f"wrong, correct it and add the shipment again; to keep watching it, run "
            f"`trackwatch restart {shipment.id}`.",
            explanation={
                "last carrier information": view.scan_text(last) if last else "none, ever",
                "shipped": view.local(shipment.shipped_at),
                "threshold": f"{days} days (expiry.after_days)",
                "deadline": view.local(due),
                "policy": view.policy_name,
            },
            due=due,
            needs_fresh_data=True,
        )
