"""The kill phase: `trackwatch run` against the sandbox carriers, customer email into
aiosmtpd and staff chat into an HTTP sink, killed with SIGKILL at seeded random moments and
started again, N times, then left to finish.

The reference is a clean run of the same world on its own database: every (order, rule)
alert it raises must be raised by the chaos run too. Shipments arrive in waves, one before
each start, so that most kills find shipments never polled yet; after each kill their next
poll must not be later than the restart that follows (plus `RESTART_MARGIN`). At the end every
notice of the chaos database must have reached a sink at least once, every second copy must
carry the Idempotency-Key (webhook) or Message-ID (email) of its first copy, and the database
must pass `PRAGMA integrity_check`, after each kill too.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trackwatch.chaos.carriers import ChaosSandbox
from trackwatch.chaos.deliveries import (
    Deliveries,
    SlowSink,
    SlowSmtp,
    email_copies,
    match,
    webhook_copies,
)
from trackwatch.chaos.process import DaemonProcess, to_toml
from trackwatch.chaos.report import PhaseResult
from trackwatch.chaos.state import Snapshot, add_shipments, integrity, read, settle
from trackwatch.chaos.world import CARRIERS, past_parcels, shipment_of, world_of
from trackwatch.clock import SystemClock
from trackwatch.config import build_settings
from trackwatch.sim.scenarios import SimParcel

STORE = "shop"
WAVE = 4  # shipments added before each start
MIN_PARCELS = 24
KILL_AFTER = (0.5, 4.0)  # seconds after a start; the daemon is at work from about 2 s
SINK_DELAY = 0.2  # a sink answers this long after recording: kills land between the two
CARRIER_LATENCY = 1.0  # polls stay in flight long enough for kills to land inside them
RESTART_MARGIN = timedelta(seconds=2)
ALWAYS = {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "day_starts": 0,
          "day_ends": 24, "digest_at": ""}  # fmt: skip


@dataclass(frozen=True)
class Plan:
    parcels: list[SimParcel]
    waves: list[list[SimParcel]]
    moments: list[float]  # seconds from each start to its kill


def plan(kills: int, seed: int, now: datetime) -> Plan:
    rnd = random.Random(seed)
    parcels = past_parcels(max(MIN_PARCELS, WAVE * (kills + 1)), seed, now)
    order = list(parcels)
    rnd.shuffle(order)
    waves = [order[index :: kills + 1] for index in range(kills + 1)]
    return Plan(parcels, waves, [round(rnd.uniform(*KILL_AFTER), 3) for _ in range(kills)])


def settings_data(db: Path, carriers_url: str, chat_url: str, mail_url: str) -> dict[str, Any]:
    carriers: dict[str, dict[str, Any]] = {
        name: {"base_url": carriers_url, "client_id": "chaos", "client_secret": "chaos-secret",
               "api_key": "chaos-key", "rate_limit": 100}
        for name in CARRIERS
    }  # fmt: skip
    # Each start fetches a new USPS token, and USPS counts tokens against its 60 calls an
    # hour: a hundred restarts would spend it. Quotas are the fault phase's business.
    carriers["usps"]["quota_calls"] = 100_000
    store = {"name": "Chaos Shop", "contact_email": "help@shop.example",
             "policy": {"staff": ALWAYS},
             "notices": {"customer_day_starts": 0, "customer_day_ends": 24,
                         "customer_window_hours": 0, "staff_chat_min_severity": "info"},
             "channels": {"staff_chat": [chat_url], "customer_email": [mail_url]}}  # fmt: skip
    daemon = {"database": str(db), "http_port": 0, "notice_lease_seconds": 3,
              "notice_concurrency": 2}  # fmt: skip
    return {"daemon": daemon, "carriers": carriers, "stores": {STORE: store}}


@dataclass
class Rig:
    """The carriers and sinks both runs share, and where their files go."""

    sandbox: ChaosSandbox
    chat: SlowSink
    inbox: SlowSmtp
    workdir: Path

    def config(self, name: str) -> tuple[Path, Path]:
        db = self.workdir / f"{name}.db"
        data = settings_data(db, self.sandbox.base_url, self.chat.url("chat"),
                             self.inbox.url("orders@shop.example"))  # fmt: skip
        build_settings(data)  # refuses a broken file here, not in the subprocess
        path = self.workdir / f"{name}.toml"
        path.write_text(to_toml(data))
        return path, db

    def slow(self, delay: float) -> None:
        self.chat.delay = self.inbox.delay = delay

    def deliveries(self, notices: Sequence[Any]) -> Deliveries:
        copies = webhook_copies(self.chat.received) + email_copies(self.inbox.messages)
        self.chat.received.clear()
        self.inbox.messages.clear()
        return match(notices, copies)


@asynccontextmanager
async def rig(parcels: Sequence[SimParcel], workdir: Path) -> AsyncIterator[Rig]:
    sandbox = await ChaosSandbox(world_of(parcels), SystemClock(),
                                 latency=CARRIER_LATENCY).start()  # fmt: skip
    chat = SlowSink(0.0)
    await chat.start()
    inbox = SlowSmtp(0.0)
    inbox.start()
    try:
        yield Rig(sandbox, chat, inbox, workdir)
    finally:
        inbox.stop()
        await chat.stop()
        await sandbox.stop()


def finish_seconds(parcels: int) -> float:
    return 60 + parcels


@dataclass
class Run:
    """What one run left: its database's contents, how it ended and what arrived where."""

    snapshot: Snapshot
    deliveries: Deliveries
    finished: bool
    exit_status: int | None
    seconds: float
    integrity: str
    never_polled: list[str] = field(default_factory=list)  # orders, at the end


async def clean_run(rig: Rig, parcels: Sequence[SimParcel]) -> Run:
    started = time.monotonic()
    config, db = rig.config("clean")
    await add_shipments(db, [shipment_of(p, STORE) for p in parcels])
    rig.slow(0.0)
    daemon = DaemonProcess(config, rig.workdir / "clean.log")
    await daemon.start()
    finished = await settle(db, finish_seconds(len(parcels)))
    status = await daemon.stop()
    snapshot = await read(db)
    return Run(snapshot, rig.deliveries(snapshot.notices), finished, status,
               time.monotonic() - started, integrity(db))  # fmt: skip


@dataclass
class Kill:
    after: float  # seconds from the start
    unpolled: dict[str, datetime | None] = field(default_factory=dict)  # order -> next poll
    pending_notices: int = 0
    late: list[str] = field(default_factory=list)  # never polled, next poll past the restart
    integrity: str = ""

    def judge(self, restarted: datetime) -> None:
        latest = restarted + RESTART_MARGIN
        self.late = [order for order, due in self.unpolled.items() if due is None or due > latest]


async def chaos_run(rig: Rig, chaos: Plan) -> tuple[Run, list[Kill]]:
    started = time.monotonic()
    config, db = rig.config("chaos")
    rig.slow(SINK_DELAY)
    daemon = DaemonProcess(config, rig.workdir / "chaos.log")
    kills: list[Kill] = []
    for wave, moment in zip(chaos.waves, chaos.moments, strict=False):
        await add_shipments(db, [shipment_of(p, STORE) for p in wave])
        await _start(daemon, kills)
        await asyncio.sleep(moment)
        await daemon.kill()
        left = await read(db)
        kill = Kill(moment, left.never_polled(), left.pending, integrity=integrity(db))
        kills.append(kill)
    await add_shipments(db, [shipment_of(p, STORE) for p in chaos.waves[-1]])
    await _start(daemon, kills)
    finished = await settle(db, finish_seconds(len(chaos.parcels)))
    status = await daemon.stop()
    snapshot = await read(db)
    run = Run(snapshot, rig.deliveries(snapshot.notices), finished, status,
              time.monotonic() - started, integrity(db), sorted(snapshot.never_polled()))  # fmt: skip
    return run, kills


async def _start(daemon: DaemonProcess, kills: list[Kill]) -> None:
    await daemon.start()
    if kills:
        kills[-1].judge(datetime.fromtimestamp(daemon.started_at, UTC))


async def run_kills(kills: int, seed: int, workdir: Path) -> PhaseResult:
    started = time.monotonic()
    chaos = plan(kills, seed, datetime.now(UTC))
    async with rig(chaos.parcels, workdir) as shared:
        clean = await clean_run(shared, chaos.parcels)
        run, record = await chaos_run(shared, chaos)
        tokens = {c: sum(1 for call in shared.sandbox.calls
                         if call.carrier == c and call.endpoint == "token") for c in CARRIERS}  # fmt: skip
    result = verdict(clean, run, record, chaos)
    result.figures["token_calls"] = tokens
    result.seconds = time.monotonic() - started
    return result


def verdict(clean: Run, run: Run, kills: list[Kill], chaos: Plan) -> PhaseResult:
    result = PhaseResult("kills")
    missing = sorted(clean.snapshot.alerts - run.snapshot.alerts)
    late = sorted({order for kill in kills for order in kill.late} | set(run.never_polled))
    broken = [k.integrity for k in kills if k.integrity != "ok"]
    if run.integrity != "ok":
        broken.append(run.integrity)
    result.figures.update({
        "parcels": len(chaos.parcels), "kills": len(kills),
        "kill_moments_s": [k.after for k in kills],
        "kills_leaving_unpolled_shipments": sum(1 for k in kills if k.unpolled),
        "kills_leaving_notices_pending": sum(1 for k in kills if k.pending_notices),
        "clean_run": {"seconds": round(clean.seconds, 1), "alerts": len(clean.snapshot.alerts),
                      **clean.deliveries.figures()},
        "chaos_run": {"seconds": round(run.seconds, 1), "alerts": len(run.snapshot.alerts),
                      "final_exit_status": run.exit_status, **run.deliveries.figures()},
        "alerts_beyond_the_reference": sorted(run.snapshot.alerts - clean.snapshot.alerts)[:10],
    })  # fmt: skip
    _targets(result, clean, run, missing, late, broken)
    return result


def _targets(result: PhaseResult, clean: Run, run: Run, missing: list[tuple[str, str]],
             late: list[str], broken: list[str]) -> None:  # fmt: skip
    reference_ok = clean.finished and not clean.deliveries.lost and clean.exit_status == 0
    result.target("clean run is a complete reference", "finished, nothing lost, exit 0",
                  {"finished": clean.finished, "lost": len(clean.deliveries.lost),
                   "exit": clean.exit_status}, reference_ok)  # fmt: skip
    result.target("chaos run finishes", "no first poll due, nothing to judge, no notice pending",
                  run.finished, run.finished)  # fmt: skip
    result.target("alerts missing", "0", {"count": len(missing), "examples": missing[:10]},
                  not missing)  # fmt: skip
    lost = run.deliveries.lost
    result.target("notices lost", "0", {"count": len(lost), "notice_ids": lost[:10]}, not lost)
    bad = run.deliveries.undeduplicable + run.deliveries.strays
    result.target("every duplicate deduplicable by its id", "0 copies with another id",
                  {"duplicates": run.deliveries.duplicates,
                   "with_another_id": run.deliveries.undeduplicable,
                   "matching_no_notice": run.deliveries.strays}, not bad)  # fmt: skip
    result.target("first polls delayed", "0 (after a kill, or never made)",
                  {"count": len(late), "orders": late[:10],
                   "never_polled_at_the_end": run.never_polled[:10]}, not late)  # fmt: skip
    result.target("PRAGMA integrity_check", "ok after every kill and at the end",
                  broken[:3] or "ok", not broken)  # fmt: skip
