"""The alerts each generated parcel's scenario promises a merchant, and by when: written from
the scenario's script (its scans, its customer's report) and the simulated store's policy
numbers, without asking rules/ anything. `simulate` scores the daemon against these as well
as against the rules' own ground truth (truth.py), and lists where the two disagree: a
disagreement is a rule, or a declaration, that does not say what the script means.

What the script means, scan by scan (the store's policy is trackwatch.policy's defaults):
- a label not picked up `pickup.business_days` (2) business days after it: not_picked_up;
- a silence after a real scan of `stall.*` business days (3 at home, 5 abroad, 10 while
  last scanned outside the destination's country): stalled; of `lost.*` (10, 20): lost;
  a scan the carrier calls lost: lost, at once;
- a damage, address or customs scan: exceptions, at once;
- the carrier's estimated day passed undelivered: late, at the end of the next business day
  (`late.grace_business_days`) or 48 hours after the estimate (`late.escalate_after_hours`),
  whichever comes first;
- a delivery: delivered, at once; risky_delivery too where the carrier leaves parcels at
  the door (USPS, UPS and FedEx in the sandbox: "Front Door", a residence; DHL hands them
  over); the customer's report: delivered_not_received, a day after the delivery at the
  soonest (`delivered.wait_hours`).

Business days are the carrier's at the destination (trackwatch.calendar), as a merchant
counts them. An address or customs exception silences stall and late while it stands; a
loss, declared or presumed, silences late from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from trackwatch.calendar import BusinessCalendar, calendar_for
from trackwatch.policy import StorePolicy
from trackwatch.sandbox.world import Milestone, Parcel

POLICY = StorePolicy()
# How soon after it is due a merchant must have the alert: a deadline as soon as it passes
# (a poll just before it verifies it), a scan within the four hours a 4-hourly poll gives.
WITHIN = {"scan": timedelta(hours=4), "deadline": timedelta(hours=1)}
AT_THE_DOOR = frozenset({"usps", "ups", "fedex"})
SCAN_EXCEPTIONS = frozenset({"damaged", "address_issue", "customs_hold"})
SILENCING = frozenset({"address_issue", "customs_hold"})  # stall and late wait while they stand


@dataclass(frozen=True)
class Declared:
    """One alert a scenario promises: `rule`, due at `due`, to be received by `by`."""

    rule: str
    due: datetime
    by: datetime
    why: str


def _alert(rule: str, due: datetime, kind: str, why: str) -> Declared:
    return Declared(rule, due, due + WITHIN[kind], why)


def declare(parcel: Parcel, shipped: datetime, report_at: datetime | None) -> list[Declared]:
    """Every alert the script of `parcel` promises, in the order they fall due."""
    calendar = calendar_for(parcel.carrier, parcel.destination.country or "US",
                            parcel.destination.postal_code or "")  # fmt: skip
    scans = sorted(parcel.timeline, key=lambda m: m.at)
    out = _pickup(calendar, scans, shipped) + _silences(calendar, parcel, scans)
    out += [_alert("exceptions", m.at, "scan", f"{m.kind} scanned") for m in scans
            if m.kind in SCAN_EXCEPTIONS]  # fmt: skip
    out += [_alert("lost", m.at, "scan", "the carrier scanned it lost") for m in scans
            if m.kind == "lost"]  # fmt: skip
    out += _late(calendar, parcel, scans, out)
    out += _delivery(parcel, scans, report_at)
    return sorted(out, key=lambda d: d.due)


def _pickup(calendar: BusinessCalendar, scans: list[Milestone], shipped: datetime
            ) -> list[Declared]:  # fmt: skip
    days = POLICY.pickup.business_days
    due = calendar.add_business_days(shipped, days)
    picked = next((m.at for m in scans if m.kind != "label"), None)
    if picked is not None and picked <= due:
        return []
    return [_alert("not_picked_up", due, "deadline", f"no pickup {days} business days on")]


def _silences(calendar: BusinessCalendar, parcel: Parcel, scans: list[Milestone]
              ) -> list[Declared]:  # fmt: skip
    """A stall for each silence past its threshold between real scans (or after the last),
    and a presumed loss for a silence that never ends."""
    real = [m for m in scans if m.kind != "label"]
    out = []
    for index, scan in enumerate(real):
        if scan.kind in SILENCING or scan.kind in ("delivered", "lost"):
            continue
        after = real[index + 1].at if index + 1 < len(real) else None
        days = _stall_days(parcel, scan)
        due = calendar.add_business_days(scan.at, days)
        if after is None or due < after:
            out.append(_alert("stalled", due, "deadline", f"silent {days} business days"))
        if after is None:
            lost_days = _lost_days(parcel)
            out.append(_alert("lost", calendar.add_business_days(scan.at, lost_days),
                              "deadline", f"silent {lost_days} business days"))  # fmt: skip
    return out


def _abroad(parcel: Parcel) -> bool:
    return (parcel.destination.country or "US") != POLICY.origin_country


def _stall_days(parcel: Parcel, scan: Milestone) -> int:
    stall = POLICY.stall
    if scan.place.country != parcel.destination.country:  # between countries
        return stall.customs_business_days
    return stall.international_business_days if _abroad(parcel) else stall.domestic_business_days


def _lost_days(parcel: Parcel) -> int:
    lost = POLICY.lost
    return lost.international_business_days if _abroad(parcel) else lost.domestic_business_days


def _late(calendar: BusinessCalendar, parcel: Parcel, scans: list[Milestone],
          declared: list[Declared]) -> list[Declared]:  # fmt: skip
    """The estimated day passed with the parcel not delivered, not lost, and not held by an
    address or customs problem."""
    if parcel.scheduled_delivery is None:
        return []
    late = POLICY.late
    eta = calendar.end_of(parcel.scheduled_delivery)
    told = calendar.end_of(calendar.nth_business_day(parcel.scheduled_delivery,
                                                     late.grace_business_days))  # fmt: skip
    due = min(told, eta + timedelta(hours=late.escalate_after_hours))
    delivered = next((m.at for m in scans if m.kind == "delivered"), None)
    lost = [d.due for d in declared if d.rule == "lost"]
    standing = [m for m in scans if m.at <= due]
    held = bool(standing) and standing[-1].kind in SILENCING
    if (delivered is not None and delivered <= due) or (lost and min(lost) <= due) or held:
        return []
    return [_alert("late", due, "deadline", f"not delivered by {parcel.scheduled_delivery}")]


def _delivery(parcel: Parcel, scans: list[Milestone], report_at: datetime | None
              ) -> list[Declared]:  # fmt: skip
    delivered = next((m for m in scans if m.kind == "delivered"), None)
    if delivered is None:
        return []
    out = [_alert("delivered", delivered.at, "scan", "delivered")]
    if parcel.carrier in AT_THE_DOOR:
        out.append(_alert("risky_delivery", delivered.at, "scan", "left at the door"))
    if report_at is not None:
        wait = timedelta(hours=POLICY.delivered.wait_hours)
        due = max(report_at, delivered.at + wait)
        out.append(_alert("delivered_not_received", due, "deadline", "the customer reports it"))
    return out
