"""The rules loop's work: evaluate rules for shipments that changed or reached a deadline,
open and resolve alerts, and enqueue their notices in the same transaction.

A stall is the absence of events, so a rule that needs fresh data only fires when the last
poll came after its deadline (within `fresh_data_minutes`); otherwise the shipment is polled
now and judged again after the answer. A failing carrier therefore never makes a parcel look
stalled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carriers.assemble import label_cutoff
from rules import Rule, ShipmentView
from rules.places import elsewhere
from trackwatch.calendar import calendar_for
from trackwatch.clock import Clock
from trackwatch.config import Settings
from trackwatch.model import Alert, Audience, Finding, Severity, Shipment, Status, TrackingEvent
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter, Pacing
from trackwatch.notify.render import Renderer
from trackwatch.quarantine import Quarantine
from trackwatch.scheduler import CarrierHours, PollState, is_fresh, plan
from trackwatch.shopify import writeback
from trackwatch.store.contract import JudgeQueue
from trackwatch.store.records import (
    AlertEscalate,
    AlertOpen,
    AlertResolve,
    Applied,
    Evaluation,
    FollowUp,
    Reschedule,
    Unreadable,
)

log = logging.getLogger("trackwatch.monitor")
# What reading a row can raise when the row itself is bad (a storage error is not that: it
# goes to the loop, which tries again, instead of setting rows aside).
UNREADABLE = (ValueError, TypeError, KeyError, OverflowError)
MOST_FAIL = 3  # a pass where more than this (and half) fail to be judged is our fault
# Rules whose customer message promises to write again once the trouble is over ("We will
# write again as soon as it moves"): their customers hear of the movement, once.
CUSTOMER_FOLLOW_UP = frozenset({"stalled"})
MOVING = frozenset({Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY})


@dataclass(frozen=True)
class Pass:
    """One rules pass: how many shipments it took up (a full batch means more wait) and
    what it changed."""

    judged: int
    applied: Applied
    full: bool = False  # the batch was full: more shipments may be waiting


@dataclass(frozen=True)
class Verdict:
    """What the rules say about one shipment at one instant.

    `superseded` maps a rule whose finding another one made redundant to the rule that did.
    """

    findings: dict[str, Finding]
    unverified: frozenset[str]
    deadlines: tuple[datetime, ...]
    superseded: dict[str, str]
    verify_at: tuple[datetime, ...] = ()  # deadlines to poll just before


def _log_changes(applied: Applied) -> None:
    """One line per alert state change the store made (ids and rules only: no customer
    data); a judgement the store found already applied logs nothing."""
    for opened in applied.opened:
        f = opened.finding
        log.info("shipment %d: %s alert opened (%s)", opened.shipment_id, f.rule, f.severity.value)
    for step in applied.escalated:
        log.info("alert %d (%s): next stage, told %s", step.alert_id, step.finding.rule,
                 ", ".join(a.value for a in step.audiences) or "nobody new")  # fmt: skip
    for resolved in applied.resolved:
        log.info("alert %d resolved (%s)", resolved.alert_id, resolved.reason)


class Monitor:
    def __init__(
        self,
        store: JudgeQueue,
        rules: Sequence[Rule],
        clock: Clock,
        settings: Settings,
        channels: ChannelDirectory,
        renderer: Renderer,
        batch: int = 1000,
        drafter: Drafter | None = None,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._settings = settings
        self._drafter = drafter or Drafter(settings, channels, renderer)
        self._batch = batch
        self._quarantine = quarantine or Quarantine(store, clock, self._drafter)
        # Per carrier and zone: settings do not change under a Monitor (a reload makes anew).
        self._hours: dict[tuple[str, ZoneInfo], CarrierHours] = {}

    async def run_once(self) -> Pass:
        """Judge every shipment that is due; returns how many and what changed (stored)."""
        now = self._clock.now()
        due = await self._store.shipments_to_check(now, self._batch)
        await self._quarantine.set_aside(due.unreadable, "read")
        shipments = due.shipments
        try:
            events, open_alerts = await self._history([s.id or 0 for s in shipments])
        except UNREADABLE:  # some row of the batch cannot be read: find it, judge the rest
            events, open_alerts, shipments = await self._history_one_by_one(shipments)
        pace = Pacing(now, await self._store.last_customer_notices(list(events)))
        evaluation, failed = self._judge_all(shipments, events, open_alerts, pace)
        applied = await self._store.apply_evaluation(evaluation, now)
        await self._quarantine.set_aside(failed, "judged")
        _log_changes(applied)
        taken = len(due.shipments) + len(due.unreadable)
        return Pass(taken, applied, full=taken >= self._batch)

    def _judge_all(
        self, shipments: Sequence[Shipment], events: dict[int, list[TrackingEvent]],
        open_alerts: dict[int, list[Alert]], pace: Pacing,
    ) -> tuple[Evaluation, list[Unreadable]]:  # fmt: skip
        """Judge each shipment; one whose judgement raises is left out, to be set aside. When
        most of a pass fails, the fault is ours, not the rows': raise (the loop logs it and
        tries again) rather than set the whole database aside."""
        evaluation = Evaluation()
        failed: list[Unreadable] = []
        first: Exception | None = None
        for shipment in shipments:
            sid = shipment.id or 0
            part = Evaluation()  # kept only if the whole judgement succeeds
            try:
                self._judge(shipment, events[sid], open_alerts[sid], pace, part)
            except Exception as exc:  # a fault of ours on this row: the others are judged
                first = first or exc
                failed.append(Unreadable(sid, shipment.store, _reason(exc)))
                continue
            evaluation.add(part)
        if len(failed) > max(MOST_FAIL, len(shipments) // 2):
            raise RuntimeError(f"{len(failed)} of {len(shipments)} shipments could not be "
                               "judged: a fault of the rules, not of the rows") from first  # fmt: skip
        if first is not None:  # each row is logged as it is set aside; the traceback once
            log.error("%d shipment(s) could not be judged", len(failed), exc_info=first)
        return evaluation, failed

    async def _history(
        self, ids: Sequence[int]
    ) -> tuple[dict[int, list[TrackingEvent]], dict[int, list[Alert]]]:
        return await self._store.events_for(ids), await self._store.open_alerts(ids)

    async def _history_one_by_one(
        self, shipments: Sequence[Shipment]
    ) -> tuple[dict[int, list[TrackingEvent]], dict[int, list[Alert]], list[Shipment]]:
        events: dict[int, list[TrackingEvent]] = {}
        alerts: dict[int, list[Alert]] = {}
        readable: list[Shipment] = []
        bad: list[Unreadable] = []
        for shipment in shipments:
            sid = shipment.id or 0
            try:
                found, open_alerts = await self._history([sid])
            except UNREADABLE as exc:
                bad.append(Unreadable(sid, shipment.store, _reason(exc)))
                continue
            events[sid], alerts[sid] = found[sid], open_alerts[sid]
            readable.append(shipment)
        await self._quarantine.set_aside(bad, "read (its events or alerts)")
        return events, alerts, readable

    def view(self, shipment: Shipment, events: Sequence[TrackingEvent]) -> ShipmentView:
        """What the rules see of a shipment. Scans dated before its label belong to an
        earlier parcel with the same number: polls drop them now, but older versions stored
        some, and those must not stop polling or silence an alert either."""
        store = self._settings.store(shipment.store)
        calendar = calendar_for(
            shipment.carrier, shipment.destination_country, shipment.destination_postal_code
        )
        cutoff = label_cutoff(shipment.shipped_at.date())
        ours = [e for e in events if e.occurred_at >= cutoff]
        return ShipmentView(shipment, ours, store.policy, store.name, calendar)

    def verdict(self, view: ShipmentView, now: datetime) -> Verdict:
        findings: dict[str, Finding] = {}
        unverified: set[str] = set()
        deadlines: list[datetime] = []
        verify_at: list[datetime] = []
        for rule in self._rules:
            if view.shipment.direction not in rule.directions:
                continue
            due = rule.deadlines(view)
            deadlines.extend(due)
            if rule.verifies:
                verify_at.extend(due)
            finding = rule.evaluate(view, now)
            if finding is None:
                continue
            fresh = finding.due is None or is_fresh(
                view.shipment.last_polled_at, finding.due, self._settings.daemon
            )
            if (finding.needs_fresh_data and not fresh) or awaits_place(rule.name, view, now):
                unverified.add(rule.name)
            else:
                findings[rule.name] = finding
        superseded = {
            name: finding.rule
            for finding in findings.values()
            for name in sorted(finding.supersedes)
        }
        kept = {name: f for name, f in findings.items() if name not in superseded}
        return Verdict(kept, frozenset(unverified - set(superseded)), tuple(deadlines),
                       superseded, tuple(verify_at))  # fmt: skip

    def _judge(
        self,
        shipment: Shipment,
        events: Sequence[TrackingEvent],
        open_alerts: Sequence[Alert],
        pace: Pacing,
        out: Evaluation,
    ) -> None:
        now = pace.now
        view = self.view(shipment, events)
        verdict = self.verdict(view, now)
        by_rule = {alert.rule: alert for alert in open_alerts}
        ended: list[Alert] = []
        for name, finding in verdict.findings.items():
            current = by_rule.get(name)
            if current is not None and current.episode == finding.episode:
                step = self._escalate(view, current, finding, pace)
                if step is not None:
                    out.escalations.append(step)
                continue
            if current is not None:
                out.resolves.append(self._resolve(view, current, "a new episode began", pace))
                ended.append(current)
            out.opens.append(self._open(view, finding, pace))
        for alert in open_alerts:
            if alert.rule in verdict.findings or alert.rule in verdict.unverified:
                continue
            by = verdict.superseded.get(alert.rule)
            reason = f"superseded by {by.replace('_', ' ')}" if by else _moved(view)
            out.resolves.append(self._resolve(view, alert, reason, pace))
            ended.append(alert)
        out.follow_ups += self._follow_ups(view, ended, out, pace)
        out.schedules.append(self._schedule(view, verdict, now))

    def _follow_ups(
        self, view: ShipmentView, ended: Sequence[Alert], out: Evaluation, pace: Pacing
    ) -> list[FollowUp]:
        """The words owed to a customer told their parcel was stuck (CUSTOMER_FOLLOW_UP):
        other news told in this judgement is that word; otherwise the first scan of
        movement after the quiet spell brings "it is moving again". Whether the customer was
        told in the first place (their notice may never have gone out) the store checks as it
        writes, so the debt is never paid twice nor paid for nothing."""
        shipment = view.shipment
        sid = shipment.id or 0
        debts = [(a.id, datetime.fromisoformat(a.episode)) for a in ended
                 if a.rule in CUSTOMER_FOLLOW_UP and Audience.CUSTOMER in a.audiences]  # fmt: skip
        if shipment.follow_up_alert is not None and shipment.follow_up_after is not None:
            debts.append((shipment.follow_up_alert, shipment.follow_up_after))
        if not debts:
            return []
        drafted = [*(d for o in out.opens for d in o.notices),
                   *(d for e in out.escalations for d in e.notices)]  # fmt: skip
        told = any(d.audience is Audience.CUSTOMER for d in drafted)
        last = view.last_event
        owed: list[FollowUp] = []
        for alert_id, after in debts:
            moved = last is not None and last.status in MOVING and last.occurred_at > after
            drafts = () if told or not moved else self._drafter.for_shipment(
                shipment, "stalled", Severity.WARNING, [(Audience.CUSTOMER, "resolved")], pace,
                reason=_moved(view))  # fmt: skip
            owed.append(FollowUp(sid, alert_id, after, drafts, discharged=told))
        return owed

    def _schedule(self, view: ShipmentView, verdict: Verdict, now: datetime) -> Reschedule:
        shipment = view.shipment
        settings = self._settings.daemon
        future = [d for d in verdict.deadlines if d > now]
        check_at = min(future) if future else None
        delivery = view.delivered_event
        last = view.last_event
        state = PollState(shipment.status, shipment.last_polled_at,
                          delivery.occurred_at if delivery else None, shipment.restarted_at,
                          shipment.stopped, shipment.next_poll_at,
                          last.occurred_at if last else None, _at_destination(view),
                          shipment.push_until, _details_missing(shipment, delivery))  # fmt: skip
        hours = self._carrier_hours(shipment.carrier, view.calendar.zone)
        chosen = plan(state, verdict.verify_at, now, hours, settings, _stop(shipment, verdict))
        poll_by = chosen.next_poll_at
        if verdict.unverified and chosen.stop is None:
            # Verify before alerting: poll now, judge again once the answer is in.
            poll_by = now
            recheck = now + timedelta(minutes=settings.min_poll_minutes)
            check_at = min(check_at, recheck) if check_at else recheck
        return Reschedule(shipment.id or 0, check_at, poll_by, shipment.revision,
                          chosen.deadline_at, chosen.stop)  # fmt: skip

    def _carrier_hours(self, carrier: str, zone: ZoneInfo) -> CarrierHours:
        found = self._hours.get((carrier, zone))
        if found is None:
            found = CarrierHours.of(self._settings.carriers.get(carrier), zone)
            if len(self._hours) < 4096:  # the zones of few countries: never near, but bounded
                self._hours[(carrier, zone)] = found
        return found

    def _open(self, view: ShipmentView, finding: Finding, pace: Pacing) -> AlertOpen:
        notify = [(audience, "opened") for audience in finding.audiences]
        drafts = self._drafter.for_shipment(
            view.shipment, finding.rule, finding.severity, notify, pace, alert=finding
        ) + writeback.drafts(self._settings, view.shipment, finding.rule, "opened",
                             finding.facts, None, pace.now)  # fmt: skip
        return AlertOpen(view.shipment.id or 0, finding, drafts)

    def _escalate(
        self, view: ShipmentView, alert: Alert, finding: Finding, pace: Pacing
    ) -> AlertEscalate | None:
        """The next stage of an open alert: audiences it adds hear of it now; staff hear
        of an escalation even when they already knew."""
        added = [a for a in finding.audiences if a not in alert.audiences]
        escalating = finding.escalated and alert.escalated_at is None
        if not added and not escalating:
            return None
        notify = [(a, "escalated" if escalating and a is Audience.STAFF else "opened")
                  for a in added]  # fmt: skip
        if escalating and Audience.STAFF not in added:
            notify.append((Audience.STAFF, "escalated"))
        audiences = tuple(dict.fromkeys((*alert.audiences, *finding.audiences)))
        drafts = self._drafter.for_shipment(
            view.shipment, finding.rule, finding.severity, notify, pace, alert=finding
        )
        return AlertEscalate(alert.id, finding, audiences, finding.escalated, drafts)

    def _resolve(self, view: ShipmentView, alert: Alert, reason: str, pace: Pacing) -> AlertResolve:
        """Staff hear of a resolution of an alert they were told about (above info level);
        customers hear of one through `_follow_ups` alone."""
        # An info-level flag (a risky delivery) ending is no news: staff are not told.
        told = Audience.STAFF in alert.audiences and alert.severity is not Severity.INFO
        notify = [(Audience.STAFF, "resolved")] if told else []
        drafts = self._drafter.for_shipment(
            view.shipment, alert.rule, alert.severity, notify, pace, alert=alert, reason=reason
        ) + writeback.drafts(self._settings, view.shipment, alert.rule, "resolved", {}, reason,
                             pace.now)  # fmt: skip
        return AlertResolve(alert.id, "auto", reason, drafts)


def _stop(shipment: Shipment, verdict: Verdict) -> str | None:
    """Polling ends when the carrier has had nothing for too long, or declared the parcel
    lost (unless staff restarted polling after that declaration)."""
    if "expired" in verdict.findings:
        return "expired"
    lost = verdict.findings.get("lost")
    if lost is None or lost.facts.get("declared") != "yes":
        return None
    restarted = shipment.restarted_at
    return "lost" if restarted is None or (lost.due and lost.due > restarted) else None


def _at_destination(view: ShipmentView) -> bool:
    """Whether the parcel's last scan, a movement, was at its destination: its postal code
    (or, without postal codes, its city), as the risky-delivery check reads places. A scan
    without a place is not at the destination: it keeps the moving parcel's cadence."""
    last, s = view.last_event, view.shipment
    if last is None or last.status is not Status.IN_TRANSIT:
        return False
    place = last.place
    known = (place.postal_code and s.destination_postal_code) or (place.city and s.destination_city)
    if not known:
        return False
    return elsewhere(place, s.destination_city, s.destination_postal_code,
                     s.destination_country) is None  # fmt: skip


def _details_missing(shipment: Shipment, delivery: TrackingEvent | None) -> bool:
    """A delivery known from a push alone (no poll since) that says not where the parcel was
    left: a poll fetches it (UPS's push does not carry it; risky deliveries depend on it)."""
    if delivery is None or delivery.delivery_location is not None:
        return False
    polled = shipment.last_polled_at
    return shipment.push_until is not None and (polled is None or polled < delivery.occurred_at)


# Rules whose words depend on where a delivered parcel was left ("left in the mailbox"), and
# how long they wait for the poll that says it after a push that did not.
_PLACE_RULES = frozenset({"delivered", "risky_delivery"})
PLACE_WAIT = timedelta(minutes=30)


def awaits_place(rule: str, view: ShipmentView, now: datetime) -> bool:
    """A delivery pushed without its place waits for the poll that fetches it (moments
    later), so that the customer is told where the parcel was left and a risky place is
    judged: but not longer than PLACE_WAIT, whatever becomes of that poll."""
    if rule not in _PLACE_RULES:
        return False
    delivery = view.delivered_event
    return (_details_missing(view.shipment, delivery) and delivery is not None
            and now < delivery.occurred_at + PLACE_WAIT)  # fmt: skip


def _reason(exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _moved(view: ShipmentView) -> str:
    """Why an alert ended, in the destination's local time like the rest of the message."""
    shipment = view.shipment
    when = view.local(shipment.last_event_at) if shipment.last_event_at else "?"
    return f"the carrier reported it {shipment.status.value.replace('_', ' ')} at {when}"
