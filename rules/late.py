"""late: past the ETA (the carrier's, else the order's promised date, else the store's
promise; see rules.promise).

Two stages, as seed 004 says: the customer is told once `late.grace_business_days` (1)
business days have passed beyond the due date; staff are escalated to once
`late.escalate_after_hours` (48) wall-clock hours have passed beyond the ETA. Whichever comes
first opens the alert; the other adds its audience. A new ETA is a new episode.

The customer is told only of a due date they were given: the carrier's estimate, the date
promised for the order, or the store's delivery times when every number in them is its own
promise (seed 002's "7-16 days", its processing days, its peak-season delay: rules.promise);
an ETA an operator's number makes is for staff alone. The
customer's message says no more than what happens next: staff hear at the escalation, so it
does not claim anyone is "following it up" before then. It names the moment to write (the
end of the escalation's day) only while that moment is ahead: a customer told after it
(a Friday estimate, whose grace day is Monday) is asked to write now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rules.base import BaseRule, ShipmentView
from rules.promise import Eta, eta_for
from trackwatch.model import Audience, Finding, Severity


def _stages(view: ShipmentView) -> tuple[Eta, datetime, datetime] | None:
    """(eta, when the customer is told, when staff are escalated to). A due date the
    customer may not be told of has no customer stage: its alert opens at the escalation."""
    return view.once(_work_out_stages)


def _work_out_stages(view: ShipmentView) -> tuple[Eta, datetime, datetime] | None:
    if view.delivered:
        return None
    eta = eta_for(view)
    if eta is None:
        return None
    late = view.policy.late
    calendar = view.calendar
    escalate = eta.at + timedelta(hours=late.escalate_after_hours)
    if not eta.citable:
        return eta, escalate, escalate
    told = calendar.end_of(calendar.nth_business_day(calendar.due_date(eta.at),
                                                     late.grace_business_days))  # fmt: skip
    return eta, told, escalate


class Late(BaseRule):
    name: ClassVar[str] = "late"
    verifies: ClassVar[bool] = True

    def deadline(self, view: ShipmentView) -> datetime | None:
        stages = _stages(view)
        return min(stages[1:]) if stages else None

    def deadlines(self, view: ShipmentView) -> tuple[datetime, ...]:
        stages = _stages(view)
        return tuple(sorted(set(stages[1:]))) if stages else ()

    def evaluate(self, view: ShipmentView, now: datetime) -> Finding | None:
        stages = _stages(view)
        if stages is None or now < min(stages[1:]):
            return None
        eta, told, escalate = stages
        audiences = [Audience.CUSTOMER] if now >= told and eta.citable else []
        if now >= escalate:
            audiences.append(Audience.STAFF)
        overdue = view.business_days_between(eta.at, now)
        calendar = view.calendar
        return Finding(
            rule=self.name,
            episode=eta.at.isoformat(),
            severity=Severity.WARNING,
            audiences=tuple(audiences),
            summary=f"{view.parcel()} is past its estimated delivery "
            f"{calendar.due_date(eta.at):%a %d %b %Y}",
            action=_action(view, eta.citable, now >= escalate),
            explanation={
                "ETA": f"{view.day_end(eta.at)} ({eta.source})",
                **eta.lines,
                "last scan": view.scan_text(view.events[-1]) if view.events else "none",
                **overdue,
                **_stage_lines(view, eta, told, escalate),
                "policy": view.policy_name,
            },
            facts={
                "due": calendar.due_date(eta.at).isoformat(),
                "due_source": eta.kind,
                "escalate_by": calendar.due_date(escalate).isoformat(),
                **_reply_by(view, now >= escalate),
                "promise": view.policy.promised("promise.transit") or "",
                "peak": eta.peak,
            },
            due=escalate if now >= escalate else told,
            needs_fresh_data=True,
            escalated=now >= escalate,
        )


def _reply_by(view: ShipmentView, passed: bool) -> dict[str, str]:
    """When the customer should write, if the store promised the hours (seed 004: 'If still
    delayed after 48 hours past due date, contact support'): by the end of `escalate_by`,
    or now (`reply_now`) when the customer is told after that moment (a Friday estimate:
    the grace day is Monday, the 48 hours ended on Sunday)."""
    if not view.promised("late.escalate_after_hours"):
        return {"escalate_hours": "", "reply_now": ""}
    hours = f"{view.policy.late.escalate_after_hours:g}"
    return {"escalate_hours": hours, "reply_now": "yes" if passed else ""}


def _action(view: ShipmentView, citable: bool, escalated: bool) -> str:
    if not citable:
        return ("Contact the carrier about the delay; the customer has not been told (the "
                "due date is an operator's transit window, not the store's promise).")  # fmt: skip
    if escalated:
        return "Contact the carrier about the delay and reassure the customer."
    return (f"The customer is told of the delay; staff step in "
            f"{view.policy.late.escalate_after_hours:g} hours past the ETA.")  # fmt: skip


def _stage_lines(
    view: ShipmentView, eta: Eta, told: datetime, escalate: datetime
) -> dict[str, str]:
    late = view.policy.late
    customer = (f"{view.local(told)} (ETA + {late.grace_business_days} business days, "
                "late.grace_business_days)") if eta.citable else "not told (see set by)"  # fmt: skip
    return {
        "customer notice": customer,
        "grace set by": view.source("late.grace_business_days"),
        "staff escalation": f"{view.local(escalate)} (ETA + {late.escalate_after_hours:g} "
        "hours, late.escalate_after_hours)",
        "escalation set by": view.source("late.escalate_after_hours"),
    }
