"""late: past the ETA (the carrier's, else the order's promised date, else the store's
promise; see rules.promise).

Two stages, as seed 004 says: the customer is told once `late.grace_business_days` (1)
business days have passed beyond the due date; staff are escalated to once
`late.escalate_after_hours` (48) wall-clock hours have passed beyond the ETA. Whichever comes
first opens the alert; the other adds its audience. A new ETA is a new episode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from rules.promise import Eta, eta_for
from trackwatch.model import Audience, Finding, Severity


def _stages(view: ShipmentView) -> tuple[Eta, datetime, datetime] | None:
    """(eta, when the customer is told, when staff are escalated to)."""
    if view.delivered:
        return None
    eta = eta_for(view)
    if eta is None:
        return None
    late = view.policy.late
    calendar = view.calendar
    told = calendar.end_of(calendar.nth_business_day(calendar.due_date(eta.at),
                                                     late.grace_business_days))  # fmt: skip
    return eta, told, eta.at + timedelta(hours=late.escalate_after_hours)


class Late(BaseRule):
    name: ClassVar[str] = "late"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        stages = _stages(view)
        return min(stages[1:]) if stages else None

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]:
        stages = _stages(view)
        return tuple(sorted(stages[1:])) if stages else ()

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        stages = _stages(view)
        if stages is None or now < min(stages[1:]):
            return None
        eta, told, escalate = stages
        audiences = [Audience.CUSTOMER] if now >= told else []
        if now >= escalate:
            audiences.append(Audience.STAFF)
        late = view.policy.late
        overdue = view.business_days_between(eta.at, now)
        return Finding(
            rule=self.name,
            episode=eta.at.isoformat(),
            severity=Severity.WARNING,
            audiences=tuple(audiences),
            summary=f"{view.parcel()} is past its estimated delivery "
            f"{view.calendar.due_date(eta.at).isoformat()}",
            action="Contact the carrier about the delay and reassure the customer."
            if now >= escalate
            else f"The customer is told of the delay; staff step in "
            f"{late.escalate_after_hours:g} hours past the ETA.",
            explanation={
                "ETA": f"{view.day_end(eta.at)} ({eta.source})",
                **eta.lines,
                "last scan": view.scan_text(view.events[-1]) if view.events else "none",
                **overdue,
                "customer notice": f"{view.local(told)} (ETA + {late.grace_business_days} "
                "business days, late.grace_business_days)",
                "staff escalation": f"{view.local(escalate)} (ETA + "
                f"{late.escalate_after_hours:g} hours, late.escalate_after_hours)",
                "policy": view.policy_name,
            },
            facts={"due": view.calendar.due_date(eta.at).isoformat()},
            due=escalate if now >= escalate else told,
            needs_fresh_data=True,
            escalated=now >= escalate,
        )
