"""returns: a return shipment delivered to the store starts the refund clock. Seed 002:
'Please allow up to 28 days from the day we receive the returned goods for your refund to be
processed' (see policy.ReturnsPolicy for why this sentence, and not the '28 business days'
of the whole journey, sets the deadline). The days are the store's own: calendar days, or
business days of its origin country's calendar, never the carrier's working days at the
store's door. Staff get a reminder with the deadline, escalated once it passes; it stays
open until staff resolve it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from trackwatch.model import Audience, Direction, Finding, Severity


def refund_by(view: ShipmentView, arrived: datetime) -> datetime:
    """The end of the store's last day to refund a return that arrived at `arrived`."""
    returns = view.policy.returns
    calendar = view.store_calendar
    if returns.refund_unit == "business":
        return calendar.add_business_days(arrived, returns.refund_days)
    return calendar.end_of(calendar.local_date(arrived) + timedelta(days=returns.refund_days))


def _deadline_text(view: ShipmentView, due: datetime) -> str:
    returns = view.policy.returns
    unit = "business days of the store's calendar" if returns.refund_unit == "business" \
        else "days"  # fmt: skip
    local = due.astimezone(view.store_calendar.zone)
    return (f"end of {(local - timedelta(microseconds=1)).date().isoformat()} "
            f"({local.tzname()}): {returns.refund_days} {unit} after the return arrived "
            f"(returns.refund_days; {view.source('returns.refund_days')})")  # fmt: skip


def _window_line(view: ShipmentView) -> dict[str, str]:
    days = view.policy.returns.window_days
    if days is None:
        return {}
    return {"return window": f"returns must reach the store within {days} days of the "
            f"customer receiving the order (returns.window_days; "
            f"{view.source('returns.window_days')}): check the order's delivery date"}  # fmt: skip


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
        return delivery.occurred_at, refund_by(view, delivery.occurred_at)

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        delivery = view.delivered_event
        if delivery is None or now < delivery.occurred_at:
            return None
        due = refund_by(view, delivery.occurred_at)
        overdue = now >= due
        day = (due.astimezone(view.store_calendar.zone) - timedelta(microseconds=1)).date()
        return Finding(
            rule=self.name,
            episode=delivery.occurred_at.isoformat(),
            severity=Severity.WARNING if overdue else Severity.INFO,
            audiences=(Audience.STAFF,),
            summary=f"Return {view.parcel()} arrived; refund "
            + ("overdue since the end of " if overdue else "due by the end of ")
            + f"{day:%a %d %b %Y}",
            action="Refund the customer, then resolve this alert.",
            explanation={
                "carrier says": view.scan_text(delivery),
                "refund deadline": _deadline_text(view, due),
                **_window_line(view),
                "policy": view.policy_name,
            },
            due=due if overdue else delivery.occurred_at,
            escalated=overdue,
        )
