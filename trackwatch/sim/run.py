"""One simulated world run through the real daemon, stepped in virtual time (stepping.py),
against the sandbox (enforcing each carrier's default quota) over 127.0.0.1, staff chat into
a local HTTP sink. The clock jumps to the next instant something is due, at least `STEP` at
a time (a 5-minute tick: the latency it adds is at most that).
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import CARRIER_DEFAULTS, Settings, build_settings
from trackwatch.model import Shipment, Status, TrackingEvent
from trackwatch.monitor import Monitor
from trackwatch.sandbox.push import SandboxPush
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import World
from trackwatch.sim import pushing
from trackwatch.sim.declared import Declared
from trackwatch.sim.scenarios import SimParcel
from trackwatch.sim.stepping import Script, Stepper
from trackwatch.sim.truth import Expected, Key, expected_alerts
from trackwatch.store import Store

STEP = timedelta(minutes=5)
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
    # What each parcel's scenario promises (declared.py), by shipment id.
    declared: dict[int, list[Declared]] = field(default_factory=dict)
    carriers: list[str] = field(default_factory=list)  # each shipment's, as `polls`
    push: dict[str, Any] = field(default_factory=dict)  # with push: its figures (pushing.py)


def _settings(db: Path, carriers_url: str, chat_url: str, mode: str, hours: float,
              carrier_extra: Mapping[str, Any] | None = None) -> Settings:  # fmt: skip
    return build_settings(settings_data(str(db), carriers_url, chat_url, mode, hours,
                                        carrier_extra))  # fmt: skip


def settings_data(database: str, carriers_url: str, chat_url: str, mode: str, hours: float,
                  carrier_extra: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The simulated shop's settings, as a configuration file holds them."""
    quota_aware = mode == "smart"
    carriers: dict[str, dict[str, Any]] = {
        name: {"base_url": carriers_url, "client_id": "sim", "client_secret": "sim-secret",
               "api_key": "sim-key", "rate_limit": 100_000, "max_inline_wait_seconds": 0,
               # One call at a time: a carrier refuses the calls past its quota in the order
               # they reach it, and calls in flight together reach it in an order the kernel
               # picks (the baseline, blind to quotas, then differed from run to run).
               "max_in_flight": 1,
               **({} if quota_aware else {"quota_calls": None}), **(carrier_extra or {})}
        for name in CARRIER_DEFAULTS
    }  # fmt: skip
    daemon = {"database": database, "http_port": 0, "schedule": mode,
              "transit_poll_hours": hours}  # fmt: skip
    store = {"name": "Sim Shop", "contact_email": "help@example.com",
             "policy": {"staff": ALWAYS, "origin_country": "US"},
             "notices": {"staff_chat_min_severity": "info"},
             "channels": {"staff_chat": [chat_url]}}  # fmt: skip
    return {"daemon": daemon, "carriers": carriers, "stores": {"sim": store}}


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
                   hours: float = 4.0, database: Path | None = None, push: bool = False
                   ) -> Outcome:  # fmt: skip
    """`database`: the SQLite file to run in (by default, one in a temporary directory);
    `push`: every carrier pushes its scans (pushing.py)."""
    world = World(token_lifetime=60 * 24 * 3600, quotas=quotas())
    for p in parcels:
        world.add(p.parcel)
    clock = FrozenClock(START)
    pusher = SandboxPush(world, clock) if push else None
    sandbox = await SandboxServer(world, clock, push=pusher).start()
    try:
        return await simulate_against(sandbox.base_url, world, clock, parcels, days, mode, hours,
                                      database=database, push=pusher)  # fmt: skip
    finally:
        await sandbox.stop()


async def simulate_against(
    carriers_url: str, world: World, clock: FrozenClock, parcels: Sequence[SimParcel],
    days: float, mode: str = "smart", hours: float = 4.0,
    carrier_extra: Mapping[str, Any] | None = None, database: Path | None = None,
    push: SandboxPush | None = None,
) -> Outcome:  # fmt: skip
    """`simulate` against carriers the caller serves on `clock` from `world` (the chaos
    suite's, which inject faults); `carrier_extra` is laid over every carrier's settings;
    `push`: the carriers' push side, served with them (push on for every carrier)."""
    end = START + timedelta(days=days)
    if push is not None:
        carrier_extra = {**(carrier_extra or {}), **pushing.SETTINGS}
    sink = await HttpSink(keep=False).start()  # the staff chat: nobody reads it back
    try:
        with tempfile.TemporaryDirectory(prefix="tw-sim-") as tmp:
            settings = _settings(database or Path(tmp) / "sim.db", carriers_url, sink.url("staff"), mode,
                                 hours, carrier_extra)  # fmt: skip
            async with open_daemon(settings, clock) as daemon:
                script = WorldScript(daemon.store, parcels)
                driven: Script = script
                if push is not None:
                    pushing.connect(push, daemon)
                    driven = pushing.PushingScript(script, push)
                await Stepper(daemon, clock, STEP).run(driven, end)
                outcome = await outcome_of(daemon.store, daemon.monitor, world, script.ids, mode,
                                           end, parcels)  # fmt: skip
                if push is not None:
                    outcome.mode = f"{mode}+push"
                    outcome.push = pushing.figures(push, outcome.polls, outcome.carriers)
                return outcome
    finally:
        await sink.stop()


class WorldScript:
    """The simulated world's script: each parcel registered when its label is printed, each
    customer's report filed when they make it (once the daemon knows it was delivered: the
    customer presses the link in the delivered email)."""

    def __init__(self, store: Store, parcels: Sequence[SimParcel]) -> None:
        self._store = store
        self._pending = deque(sorted(parcels, key=lambda p: p.shipped_at))
        self._reports = sorted((p for p in parcels if p.report_at),
                               key=lambda p: p.report_at or p.shipped_at)  # fmt: skip
        self.ids: dict[int, int] = {}  # parcel key -> shipment id

    def next_at(self) -> datetime | None:
        upcoming = [self._pending[0].shipped_at] if self._pending else []
        upcoming += [self._reports[0].report_at or START] if self._reports else []
        return min(upcoming, default=None)

    async def act(self, now: datetime) -> bool:
        added = bool(self._pending) and self._pending[0].shipped_at <= now
        store = self._store
        while self._pending and self._pending[0].shipped_at <= now:
            parcel = self._pending.popleft()
            self.ids[parcel.key] = await store.add_shipment(_shipment(parcel), parcel.shipped_at)
        # The reports are in time order: only the head whose time came can be filed (the
        # rest were each asked every step before, which grew with the world).
        due = 0
        while due < len(self._reports) and (self._reports[due].report_at or START) <= now:
            due += 1
        kept = [p for p in self._reports[:due] if not await self._report(p, now)]
        filed = len(kept) < due
        if filed:
            self._reports = kept + self._reports[due:]
        return added or filed

    def after(self, now: datetime) -> None:
        pass

    async def _report(self, parcel: SimParcel, now: datetime) -> bool:
        """File the customer's report if its time came and the parcel shows delivered."""
        if parcel.report_at is None or parcel.report_at > now or parcel.key not in self.ids:
            return False
        shipment = await self._store.get_shipment(self.ids[parcel.key])
        if shipment is None or shipment.status is not Status.DELIVERED:
            return False
        await self._store.report_missing(self.ids[parcel.key], "customer (link)", now)
        return True


async def outcome_of(store: Store, monitor: Monitor, world: World, ids: dict[int, int],
                     mode: str, end: datetime, parcels: Sequence[SimParcel] = ()
                     ) -> Outcome:  # fmt: skip
    """What the run left in the database and the world, with the ground truth (judged by
    `monitor`, which only reads) and what the scenarios of `parcels` declare."""
    shipments = (await store.list_shipments(limit=len(ids) + 1)).shipments
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
        expected.update(expected_alerts(monitor, shipment, history, end))
    calls = {c: list(times) for c, times in world.history.items()}
    tokens = {c: world.calls[f"{c}:token"] for c in CARRIER_DEFAULTS}
    declared = {ids[p.key]: p.declared() for p in parcels if p.key in ids}
    return Outcome(mode, [s.polls for s in shipments], calls, tokens, dict(world.over_quota),
                   actual, expected, declared, [s.carrier for s in shipments])  # fmt: skip
