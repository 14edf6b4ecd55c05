"""The fault phase: the daemon in simulated time (the simulator's loop on a FrozenClock)
against the sandbox carriers behind a fault schedule (carriers.py), and the same world
again without faults as the reference.

Checks: no (shipment, rule) alert that the reference does not raise (no false stall while a
carrier is down), no call over a carrier's quota (the sandbox's own count, faulted calls
included), and back-off visible in the calls to a failing carrier: through a 429 storm no
two calls closer than its Retry-After, through the other faults intervals that grow.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trackwatch.chaos.carriers import Call, ChaosSandbox, Fault
from trackwatch.chaos.report import PhaseResult
from trackwatch.chaos.world import CARRIERS
from trackwatch.clock import FrozenClock
from trackwatch.sandbox.world import World
from trackwatch.sim.run import START, Outcome, quotas, simulate_against
from trackwatch.sim.scenarios import SimParcel, generate

DAYS = 8.0
SHIP_DAYS = 2.0
TIMEOUT = 1.0  # the carriers' client timeout in this phase (real seconds)
HANG = 1.5  # a hanging carrier answers after this (real seconds), too late
# (carrier, fault, hours from the start, hours long, Retry-After seconds). The start is
# midnight in New York; carriers are polled at 14:05 and 20:05 local, so the outages span
# those slots while the parcels are in transit. UPS fails twice.
SCHEDULE = (
    ("ups", "500", 24 + 13, 12, 0),
    ("usps", "429", 24 + 14, 8, 1800),
    ("fedex", "truncated", 48 + 13, 10, 0),
    ("dhl", "hang", 48 + 6, 4, 0),
    ("ups", "html", 72 + 13, 10, 0),
)


def schedule() -> tuple[Fault, ...]:
    return tuple(Fault(carrier, kind, START + timedelta(hours=at),
                       START + timedelta(hours=at + hours), retry_after or 600)
                 for carrier, kind, at, hours, retry_after in SCHEDULE)  # fmt: skip


def parcels_of(count: int, seed: int) -> list[SimParcel]:
    """`count` parcels, the four carriers in equal shares (the simulator's mix has few DHL)."""
    parcels: list[SimParcel] = []
    for index, carrier in enumerate(CARRIERS):
        share = count // len(CARRIERS) + (index < count % len(CARRIERS))
        for parcel in generate(share, START, SHIP_DAYS, seed * 11 + index, (carrier,)):
            parcel.key = len(parcels)
            parcels.append(parcel)
    return parcels


@dataclass
class Played:
    outcome: Outcome
    calls: list[Call]
    over_quota: dict[str, int]


async def play(parcels: Sequence[SimParcel], faults: tuple[Fault, ...]) -> Played:
    world = World(token_lifetime=60 * 24 * 3600, quotas=quotas())
    for parcel in parcels:
        world.add(parcel.parcel)
    clock = FrozenClock(START)
    sandbox = await ChaosSandbox(world, clock, faults, hang_seconds=HANG).start()
    try:
        outcome = await simulate_against(sandbox.base_url, world, clock, parcels, DAYS,
                                         carrier_extra={"timeout_seconds": TIMEOUT})  # fmt: skip
    finally:
        await sandbox.stop()
    return Played(outcome, sandbox.calls, dict(world.over_quota))


def during(calls: Sequence[Call], fault: Fault) -> list[datetime]:
    """When the carrier was called while its fault lasted."""
    return sorted(c.at for c in calls if c.carrier == fault.carrier
                  and fault.start <= c.at < fault.end)  # fmt: skip


def intervals(times: Sequence[datetime]) -> list[float]:
    """Minutes between consecutive instants with calls (calls made at the same instant, by
    the carrier's workers in one pass, count once: the back-off is between passes)."""
    distinct = sorted(set(times))
    return [round((b - a).total_seconds() / 60, 1) for a, b in itertools.pairwise(distinct)]


def backed_off(fault: Fault, gaps: Sequence[float]) -> bool:
    """A 429 storm: no gap under its Retry-After. Other faults: the gaps grow (the last at
    least twice the first). Fewer than two gaps show nothing, which is no back-off seen."""
    if fault.kind == "429":
        return all(g >= fault.retry_after / 60 for g in gaps)
    return len(gaps) >= 2 and gaps[-1] >= 2 * gaps[0]


def _alerts(outcome: Outcome) -> dict[tuple[int, str], datetime]:
    opened: dict[tuple[int, str], datetime] = {}
    for (sid, rule, _), (at, _) in outcome.actual.items():
        opened[(sid, rule)] = min(at, opened.get((sid, rule), at))
    return opened


def _backoff_figures(played: Played, faults: Sequence[Fault]) -> list[dict[str, Any]]:
    rows = []
    for fault in faults:
        times = during(played.calls, fault)
        gaps = intervals(times)
        shown = gaps if len(gaps) <= 8 else [*gaps[:6], "...", *gaps[-2:]]
        rows.append({"carrier": fault.carrier, "fault": fault.kind,
                     "from_utc": f"{fault.start:%a %H:%M}", "hours": round(
                         (fault.end - fault.start).total_seconds() / 3600, 1),
                     "calls": len(times), "at_once_max": max(Counter(times).values(), default=0),
                     "gaps_minutes": shown, "backed_off": backed_off(fault, gaps)})  # fmt: skip
    return rows


async def run_faults(parcel_count: int, seed: int) -> PhaseResult:
    started = time.monotonic()
    faults = schedule()
    reference = await play(parcels_of(parcel_count, seed), ())
    faulted = await play(parcels_of(parcel_count, seed), faults)
    result = verdict(reference, faulted, faults)
    result.seconds = time.monotonic() - started
    return result


def verdict(reference: Played, faulted: Played, faults: Sequence[Fault]) -> PhaseResult:
    result = PhaseResult("faults")
    ref, got = _alerts(reference.outcome), _alerts(faulted.outcome)
    false = sorted(set(got) - set(ref))
    delays = [(got[k] - ref[k]).total_seconds() / 60 for k in set(got) & set(ref)]
    backoff = _backoff_figures(faulted, faults)
    result.figures.update({
        "parcels": len(faulted.outcome.polls), "simulated_days": DAYS,
        "faulted_calls": sum(1 for c in faulted.calls if c.fault),
        "calls": {"reference": len(reference.calls), "with_faults": len(faulted.calls)},
        "alerts": {"reference": len(ref), "with_faults": len(got),
                   "missed_vs_reference": len(set(ref) - set(got))},
        "alert_delay_minutes": {"median": round(statistics.median(delays), 1) if delays else 0,
                                "max": round(max(delays, default=0), 1)},
        "backoff": backoff,
    })  # fmt: skip
    over = sum(faulted.over_quota.values()) + sum(reference.over_quota.values())
    result.target("false alerts", "0", {"count": len(false), "examples": false[:10]}, not false)
    result.target("calls over quota", "0", {"with_faults": faulted.over_quota,
                  "reference": reference.over_quota}, not over)  # fmt: skip
    missing = [f"{r['carrier']} {r['fault']}" for r in backoff if not r["backed_off"]]
    result.target("back-off visible", "Retry-After honoured; other gaps grow",
                  {"not_seen": missing}, not missing)  # fmt: skip
    return result
