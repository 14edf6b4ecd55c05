"""not_picked_up: a label exists but the carrier has not scanned the parcel N business days
after it (store policy `pickup.business_days`, default 2). Staff only: the customer is not
told yet, because trackers take 24-48 h to show a parcel (seeds 002 and 004).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, Finding, Severity


class NotPickedUp(BaseRule):
    name: ClassVar[str] = "not_picked_up"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        return view.once(self._deadline)

    def _deadline(self, view: ShipmentView) -> datetime | None:
        if view.has_real_scan or view.delivered:
            return None
        days = view.policy.pickup.business_days
        return view.calendar.add_business_days(view.shipment.shipped_at, days)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        if due is None or now < due:
            return None
        shipment = view.shipment
        days = view.policy.pickup.business_days
        label = view.last_event
        return Finding(
            rule=self.name,
            episode=shipment.shipped_at.isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.STAFF,),
            summary=f"{view.parcel()} has no carrier acceptance scan {days} business days "
            "after its label",
            action=f"Check that the parcel was handed to {view.carrier} (pickup "
            "or drop-off); the customer has not been told.",
            explanation={
                "label": view.local(shipment.shipped_at)
                + (
                    f"; carrier says: {label.description}"
                    if label
                    else f"; carrier: {shipment.carrier_note or 'no data yet'}"
                ),
                **view.business_days_between(shipment.shipped_at, now),
                "threshold": f"{days} business days (pickup.business_days)",
                "set by": view.source("pickup.business_days"),
                "deadline": view.local(due),
                "policy": view.policy_name,
            },
            due=due,
            needs_fresh_data=True,
        )
