"""delivered_not_received: the carrier says delivered, the customer says it is not there.

Carriers mark parcels delivered early (seed 000: 'If your shipment status says "delivered"
and it's only been a day, please hang tight ... If your package still hasn't arrived after a
day, we suggest filing a claim'; 004: 'Wait 24 hours in case of delivery scan delays'), and
the delivered email already asks the customer to give it that day. The wait therefore runs
from the delivery scan: the case opens at the later of the report and delivery +
`delivered.wait_hours`, not a second wait after a report made the next morning. Then the
customer gets the stores' checklist and the store's own terms (`remedies.
delivered_not_received`, or only help), and staff a claim task. It supersedes the
risky-delivery flag, which it answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView, delivery_scan
from trackwatch.model import Audience, Finding, Severity, TrackingEvent


def claim_opens(reported: datetime, delivered_at: datetime | None, wait_hours: float) -> datetime:
    """When a 'not received' case opens: a day (the wait) after the delivery scan, and not
    before the report; without a delivery scan on file (a report by staff), the wait runs
    from the report."""
    return max(reported, (delivered_at or reported) + timedelta(hours=wait_hours))


def case_opens(reported: datetime, events: Sequence[TrackingEvent], wait_hours: float) -> datetime:
    """claim_opens with the delivery scan found in `events` (oldest first) as the rule finds
    it: the rule and `trackwatch report-missing` both count the case's start here."""
    delivery = delivery_scan(events)
    return claim_opens(reported, delivery.occurred_at if delivery else None, wait_hours)


class DeliveredNotReceived(BaseRule):
    name: ClassVar[str] = "delivered_not_received"

    def deadline(self, view: ShipmentView) -> datetime | None:
        reported = view.shipment.missing_reported_at
        if reported is None:
            return None
        return case_opens(reported, view.events, view.policy.delivered.wait_hours)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        reported = view.shipment.missing_reported_at
        if due is None or reported is None or now < due:
            return None
        delivery = view.delivered_event
        hours = view.policy.delivered.wait_hours
        return Finding(
            rule=self.name,
            episode=reported.isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.CUSTOMER, Audience.STAFF),
            summary=f"{view.parcel()} is marked delivered but the customer has not received it",
            action=f"File a claim with {view.carrier} (proof of delivery, photo). "
            f"{view.offer_text('delivered_not_received')}",
            explanation={
                "reported": f"{view.local(reported)} by {view.shipment.missing_reported_by or '?'}",
                "carrier says": view.scan_text(delivery) if delivery else "no delivery scan",
                "wait": f"{hours:g} hours after the delivery scan, and not before the report "
                f"(delivered.wait_hours; {view.source('delivered.wait_hours')}), until "
                f"{view.local(due)}",
                "remedy": view.remedy("delivered_not_received") or "none promised",
                "policy": view.policy_name,
            },
            due=due,
            supersedes=frozenset({"risky_delivery"}),
        )
