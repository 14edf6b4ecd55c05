"""returns: a return shipment delivered to the store starts the refund clock (seed 002:
"refunds can take up to 28 business days after the return arrives"). Staff get a reminder
with the deadline, escalated once it passes; it stays open until staff resolve it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, Direction, Finding, Severity


class Returns(BaseRule):
    name: ClassVar[str] = "returns"
    directions: ClassVar[frozenset[Direction]] = frozenset({Direction.RETURN})

    def deadline(self, view: ShipmentView) -> datetime | None:
        delivery = view.delivered_event
        return delivery.occurred_at if delivery else None

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]:
        delivery = view.delivered_event
        if delivery is None:
            return ()
        return delivery.occurred_at, self._refund_by(view, delivery.occurred_at)

    def _refund_by(self, view: ShipmentView, arrived: datetime) -> datetime:
        return view.calendar.add_business_days(arrived, view.policy.returns.refund_business_days)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        delivery = view.delivered_event
        if delivery is None or now < delivery.occurred_at:
            return None
        refund_by = self._refund_by(view, delivery.occurred_at)
        overdue = now >= refund_by
        days = view.policy.returns.refund_business_days
        return Finding(
            rule=self.name,
            episode=delivery.occurred_at.isoformat(),
            severity=Severity.WARNING if overdue else Severity.INFO,
            audiences=(Audience.STAFF,),
            summary=f"Return {view.parcel()} arrived; refund "
            + ("overdue since the " if overdue else "due by the ")
            + view.day_end(refund_by),
            action="Refund the customer, then resolve this alert.",
            explanation={
                "carrier says": view.scan_text(delivery),
                **view.business_days_between(delivery.occurred_at, now),
                "refund deadline": f"{view.day_end(refund_by)} ({days} business days, "
                "returns.refund_business_days)",
                "policy": view.policy_name,
            },
            due=refund_by if overdue else delivery.occurred_at,
            escalated=overdue,
        )
