"""One simulated world run through the real daemon: its poller, monitor and outbox on a
FrozenClock, against the sandbox (enforcing each carrier's default quota) over 127.0.0.1,
staff chat into a local HTTP sink. The clock jumps to the next instant something is due,
at least `STEP` at a time (a 5-minute tick: the latency it adds is at most that).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import CARRIER_DEFAULTS, Settings, build_settings
from trackwatch.model import Shipment, Status, TrackingEvent
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import World
from trackwatch.sim.scenarios import SimParcel
from trackwatch.sim.truth import Expected, Key, expected_alerts

STEP = timedelta(minutes=5)
MONITOR_BATCH = 1000  # Monitor's default: a full batch means more are waiting
START = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # a Tuesday, midnight in New York
ALWAYS = {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "day_starts": 0,
          "day_ends": 24}  # fmt: skip


@dataclass
class Outcome:
    """What one run left behind, for scoring."""

    mode: str
    polls: list[int]
    calls: dict[str, list[datetime]]
    tokens: dict[str, int]
    over_quota: dict[str, int]
    actual: dict[Key, tuple[datetime, datetime | None]]  # alert -> (opened, first sent)
    expected: dict[Key, Expected] = field(default_factory=dict)


def _settings(db: Path, carriers_url: str, chat_url: str, mode: str, hours: float,
              carrier_extra: Mapping[str, Any] | None = None) -> Settings:  # fmt: skip
    quota_aware = mode == "smart"
    carriers: dict[str, dict[str, Any]] = {
        name: {"base_url": carriers_url, "client_id": "sim", "client_secret": "sim-secret",
               "api_key": "sim-key", "rate_limit": 100_000, "max_inline_wait_seconds": 0,
               **({} if quota_aware else {"quota_calls": None}), **(carrier_extra or {})}
        for name in CARRIER_DEFAULTS
    }  # fmt: skip
    daemon = {"database": str(db), "http_port": 0, "schedule": mode,
              "transit_poll_hours": hours}  # fmt: skip
    store = {"name": "Sim Shop", "contact_email": "help@example.com",
             "policy": {"staff": ALWAYS, "origin_country": "US"},
             "notices": {"staff_chat_min_severity": "info"},
             "channels": {"staff_chat": [chat_url]}}  # fmt: skip
    return build_settings({"daemon": daemon, "carriers": carriers, "stores": {"sim": store}})


def _shipment(p: SimParcel) -> Shipment:
    d = p.parcel.destination
    return Shipment(store="sim", carrier=p.parcel.carrier, tracking_number=p.parcel.number,
                    order_id=f"S{p.key:06d}", customer_email=f"c{p.key}@example.com",
                    destination_country=d.country or "US", destination_postal_code=d.postal_code or "",
                    destination_city=d.city or "", shipped_at=p.shipped_at)  # fmt: skip


def quotas() -> dict[str, tuple[int, str]]:
    return {name: (int(d["quota_calls"]), str(d["quota_window"]))
            for name, d in CARRIER_DEFAULTS.items() if d.get("quota_calls")}  # fmt: skip


async def simulate(parcels: Sequence[SimParcel], days: float, mode: str = "smart",
                   hours: float = 4.0) -> Outcome:  # fmt: skip
    world = World(token_lifetime=60 * 24 * 3600, quotas=quotas())
    for p in parcels:
        world.add(p.parcel)
    clock = FrozenClock(START)
    sandbox = await SandboxServer(world, clock).start()
    try:
        return await simulate_against(sandbox.base_url, world, clock, parcels, days, mode, hours)
    finally:
        await sandbox.stop()


async def simulate_against(
    carriers_url: str, world: World, clock: FrozenClock, parcels: Sequence[SimParcel],
    days: float, mode: str = "smart", hours: float = 4.0,
    carrier_extra: Mapping[str, Any] | None = None,
) -> Outcome:  # fmt: skip
    """`simulate` against carriers the caller serves on `clock` from `world` (the chaos
    suite's, which inject faults); `carrier_extra` is laid over every carrier's settings."""
    end = START + timedelta(days=days)
    sink = await HttpSink().start()
    try:
        with tempfile.TemporaryDirectory(prefix="tw-sim-") as tmp:
            settings = _settings(Path(tmp) / "sim.db", carriers_url, sink.url("staff"), mode,
                                 hours, carrier_extra)  # fmt: skip
            async with open_daemon(settings, clock) as daemon:
                ids = await _play(daemon, clock, parcels, end)
                return await _outcome(daemon, world, ids, mode, end)
    finally:
        await sink.stop()


async def _play(daemon: Daemon, clock: FrozenClock, parcels: Sequence[SimParcel],
                end: datetime) -> dict[int, int]:  # fmt: skip
    """Run the daemon to `end`, registering each parcel when its label is printed and
    filing each customer's report when they make it. Returns parcel key -> shipment id."""
    pending = sorted(parcels, key=lambda p: p.shipped_at)
    reports = sorted((p for p in parcels if p.report_at), key=lambda p: p.report_at or end)
    ids: dict[int, int] = {}
    due: list[datetime | None] = []
    while clock.now() < end:
        now = clock.now()
        added = bool(pending) and pending[0].shipped_at <= now
        while pending and pending[0].shipped_at <= now:
            parcel = pending.pop(0)
            ids[parcel.key] = await daemon.store.add_shipment(_shipment(parcel), parcel.shipped_at)
        kept = [p for p in reports if not await _report(daemon, p, ids, now)]
        judge = len(kept) < len(reports)
        reports = kept
        due = await _pass(daemon, now, due, judge or added)
        upcoming = [d for d in due if d is not None]
        upcoming += [pending[0].shipped_at] if pending else []
        upcoming += [reports[0].report_at or end] if reports else []
        clock.set(min(max(min(upcoming, default=end), now + STEP), end))
    return ids


async def _report(daemon: Daemon, parcel: SimParcel, ids: dict[int, int], now: datetime) -> bool:
    """File the customer's report if its time came and the daemon knows it was delivered
    (the customer presses the link in the delivered email). True once filed."""
    if parcel.report_at is None or parcel.report_at > now or parcel.key not in ids:
        return False
    shipment = await daemon.store.get_shipment(ids[parcel.key])
    if shipment is None or shipment.status is not Status.DELIVERED:
        return False
    await daemon.store.report_missing(ids[parcel.key], "customer (link)", now)
    return True


async def _pass(daemon: Daemon, now: datetime, due: list[datetime | None], judge: bool
                ) -> list[datetime | None]:  # fmt: skip
    """Run the loops that are due at `now` (the poll, the rules, the outbox), in data-flow
    order, and return when each is due next."""
    store = daemon.store
    next_poll, next_check, next_notice = due if len(due) == 3 else (now, now, now)
    polled = await daemon.poller.poll_due() if next_poll and next_poll <= now else 0
    opened = False
    if polled or judge or (next_check and next_check <= now):
        while True:
            evaluation = await daemon.monitor.run_once()
            opened |= bool(evaluation.opens or evaluation.resolves or evaluation.escalations)
            if len(evaluation.schedules) < MONITOR_BATCH:
                break
    if opened or (next_notice and next_notice <= now):
        await daemon.outbox.run_once()
    return [await store.next_poll_at(), await store.next_check_at(), await store.next_notice_at()]


async def _outcome(daemon: Daemon, world: World, ids: dict[int, int], mode: str,
                   end: datetime) -> Outcome:  # fmt: skip
    store = daemon.store
    shipments = await store.list_shipments(limit=len(ids) + 1)
    sent = await store.first_notice_sent()
    actual = {
        (a.shipment_id, a.rule, a.episode): (a.opened_at, sent.get(a.id))
        for a in await store.all_alerts()
        if a.shipment_id is not None
    }
    events = await store.events_for([s.id or 0 for s in shipments])
    expected: dict[Key, Expected] = {}
    for shipment in shipments:
        history: Sequence[TrackingEvent] = events[shipment.id or 0]
        expected.update(expected_alerts(daemon.monitor, shipment, history, end))
    calls = {c: list(times) for c, times in world.history.items()}
    tokens = {c: world.calls[f"{c}:token"] for c in CARRIER_DEFAULTS}
    return Outcome(mode, [s.polls for s in shipments], calls, tokens, dict(world.over_quota),
                   actual, expected)  # fmt: skip
