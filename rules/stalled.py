"""stalled: no new carrier event for N business days (store policy, default 3).

Business days are the carrier's working days at the destination. The clock starts at the
first real scan, not at label creation (not_picked_up covers that), and the alert resolves
when a new event arrives: a new last event is a new episode.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rules.base import ShipmentView
from trackwatch.model import Audience, Finding, Severity, Status

QUIET_STATUSES = frozenset({Status.DELIVERED, Status.AVAILABLE_FOR_PICKUP})


class Stalled:
    name: ClassVar[str] = "stalled"

    def deadline(self, view: ShipmentView) -> datetime | None:
        last = view.last_event
        if last is None or not view.has_real_scan or view.shipment.status in QUIET_STATUSES:
            return None
        return view.calendar.add_business_days(last.occurred_at, view.policy.stall_business_days)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        due = self.deadline(view)
        last = view.last_event
        if due is None or last is None or now < due:
            return None
        span = view.calendar.span(last.occurred_at, now)
        threshold = view.policy.stall_business_days
        shipment = view.shipment
        return Finding(
            rule=self.name,
            episode=last.occurred_at.isoformat(),
            severity=Severity.WARNING,
            audiences=(Audience.STAFF, Audience.CUSTOMER),
            summary=(
                f"{shipment.carrier.upper()} {shipment.tracking_number} (order "
                f"{shipment.order_id}) has had no carrier update for {span.business_days} "
                "business days"
            ),
            action=f"Ask {shipment.carrier.upper()} to trace the parcel; the customer is told "
            "it is delayed.",
            explanation={
                "last scan": f"{view.local(last.occurred_at)}: {last.description}"
                + (f" ({last.place.label()})" if last.place.label() else ""),
                "business days elapsed": str(span.business_days),
                "threshold": f"{threshold} business days (stall_business_days)",
                "holidays skipped": span.holidays_text(),
                "weekend days skipped": str(span.weekend_days),
                "calendar": f"{shipment.carrier.upper()} working days at "
                f"{shipment.destination_country} {shipment.destination_postal_code}".rstrip()
                + f" ({view.calendar.zone.key})",
                "deadline": view.local(due),
                "policy": view.policy_name,
            },
            needs_fresh_data=True,
        )
