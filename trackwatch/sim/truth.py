"""Ground truth: the alerts a poller with perfect, instant information would raise.

The same rules and policy as the daemon (its Monitor's verdict, with supersession), run on
each parcel's complete scan history as the carrier shows it at the end of the simulation,
at every instant its verdict could change: each scan, the customer's report, and every
rule deadline in between. Each (rule, episode) gets the first instant it is raised: the
threshold crossed, the exception scanned, the late parcel's grace day over. Scoring the daemon
against this measures what polling and quotas cost (missed, false and late alerts), not
whether the rules are right: the rule tests do that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from trackwatch.model import Shipment, TrackingEvent
from trackwatch.monitor import Monitor

Key = tuple[int, str, str]  # shipment id, rule, episode


@dataclass(frozen=True)
class Expected:
    rule: str
    became_true: datetime  # the first instant the rules, knowing everything, raise it


def expected_alerts(
    monitor: Monitor, shipment: Shipment, events: Sequence[TrackingEvent], end: datetime
) -> dict[Key, Expected]:
    """Every alert the rules raise on the full history before `end`, with its time."""
    changes = sorted({e.occurred_at for e in events if e.occurred_at < end}
                     | ({shipment.missing_reported_at} if shipment.missing_reported_at else set()))  # fmt: skip
    found: dict[Key, Expected] = {}
    sid = shipment.id or 0
    for index, start in enumerate(changes):
        stop = changes[index + 1] if index + 1 < len(changes) else end
        known = [e for e in events if e.occurred_at <= start]
        state = _as_of(shipment, known, start)
        view = monitor.view(state, known)
        instants = {start} | {d for d in monitor.verdict(view, start).deadlines if start < d < stop}
        for instant in sorted(instants):
            fresh = view if instant == start else monitor.view(_polled(state, instant), known)
            for rule, finding in monitor.verdict(fresh, instant).findings.items():
                key = (sid, rule, finding.episode)
                if key not in found:
                    found[key] = Expected(rule, instant)
    return found


def _as_of(shipment: Shipment, known: Sequence[TrackingEvent], at: datetime) -> Shipment:
    """The shipment as a poll at `at` would have left it."""
    last = known[-1] if known else None
    reported = shipment.missing_reported_at
    return shipment.model_copy(update={
        "status": last.status if last else shipment.status,
        "last_event_at": last.occurred_at if last else None,
        "last_polled_at": at,
        "missing_reported_at": reported if reported and reported <= at else None,
        "stopped": None, "restarted_at": None,
    })  # fmt: skip


def _polled(shipment: Shipment, at: datetime) -> Shipment:
    return shipment.model_copy(update={"last_polled_at": at})
