"""delivered_not_received: the carrier says delivered, the customer says it is not there.

A report (the customer's link, `trackwatch report-missing`, or the API) starts a wait of
`delivered.wait_hours` (24; seeds 000 and 004: carriers mark parcels delivered early, "hang
tight"). Then the customer gets the stores' checklist and staff a claim task. It supersedes
the risky-delivery flag, which it answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, Finding, Severity


class DeliveredNotReceived(BaseRule):
    name: ClassVar[str] = "delivered_not_received"

    def deadline(self, view: ShipmentView) -> datetime | None:
        reported = view.shipment.missing_reported_at
        if reported is None:
            return None
        return reported + timedelta(hours=view.policy.delivered.wait_hours)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        reported = view.shipment.missing_reported_at
        if due is None or reported is None or now < due:
            return None
        delivery = view.delivered_event
        carrier = view.shipment.carrier.upper()
        return Finding(
            rule=self.name,
            episode=reported.isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.CUSTOMER, Audience.STAFF),
            summary=f"{view.parcel()} is marked delivered but the customer has not received it",
            action=f"File a claim with {carrier} (proof of delivery, photo), then replace or "
            "refund as the customer prefers.",
            explanation={
                "reported": f"{view.local(reported)} by {view.shipment.missing_reported_by or '?'}",
                "carrier says": view.scan_text(delivery) if delivery else "no delivery scan",
                "wait": f"{view.policy.delivered.wait_hours:g} hours (delivered.wait_hours), "
                f"until {view.local(due)}",
                "policy": view.policy_name,
            },
            due=due,
            supersedes=frozenset({"risky_delivery"}),
        )
