"""`trackwatch bench-daemons`: how many carrier tracking responses real `trackwatch run`
daemons get served per wall second: SQLite's one daemon, then 1, 2 and 3 daemons sharing
one PostgreSQL database, in one run.

Every configuration starts from the same state, in a database of its own (a new SQLite
file; a new PostgreSQL database on the server `--database` names, dropped afterwards):
`--shipments` watched shipments, all due a poll now, from a world whose history is over
(the chaos suite's). The carriers are the sandbox's, served by this process (which does
nothing else meanwhile), with every carrier's quota lifted (no 429 in the world, quotas and
short-window rates in the daemons' settings far above what they can reach): the daemons are
limited only by their own work. Each configuration runs `--warm-up` seconds before the
measured `--seconds` (from the first carrier call: starting a daemon takes seconds,
which are not its throughput); the figure is the tracking calls the sandbox received in that window
over its length. A configuration whose daemons ran out of due shipments inside the window
measured less than they could do: it is marked "drained" (give more shipments).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from rules import RULES
from trackwatch.app import policies_fingerprint
from trackwatch.chaos.process import DaemonProcess, to_toml, until
from trackwatch.chaos.world import past_parcels, shipment_of, world_of
from trackwatch.clock import SystemClock
from trackwatch.config import CARRIER_DEFAULTS, Settings, build_settings
from trackwatch.errors import InputError
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import World
from trackwatch.sim.scenarios import SimParcel
from trackwatch.sim.stepping import MONITOR_BATCH
from trackwatch.store import POSTGRES_SCHEMES, Store, open_store

LIFTED = 1_000_000_000  # calls per window: no daemon comes near it
CONFIGURATIONS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3))
TARGET = 1.6  # 2 daemons on PostgreSQL over 1


def run_bench_daemons(args: argparse.Namespace) -> int:
    if not str(args.database).startswith(POSTGRES_SCHEMES):
        raise InputError("database", "must be a postgresql://… URL")
    if args.shipments < 1 or args.seconds <= 0 or args.warm_up < 0:
        raise InputError("shipments" if args.shipments < 1 else "seconds", "must be positive")
    rows = asyncio.run(bench(args.database, args.shipments, args.seconds, args.warm_up))
    print(render(rows, args.shipments, args.seconds, args.warm_up))
    return 0


@dataclass
class Measured:
    backend: str
    daemons: int
    responses: int
    seconds: float
    drained: bool
    # CPU milliseconds per response over the window, by who spent them: the daemons, the
    # database server (PostgreSQL's backends; SQLite's work is the daemon's) and the
    # carriers' sandbox (this process). What the machine has to give, side by side.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.responses / self.seconds if self.seconds else 0.0


async def bench(database: str, shipments: int, seconds: float, warm_up: float) -> list[Measured]:
    parcels = past_parcels(shipments, 1, datetime.now(UTC))
    world = World(token_lifetime=24 * 3600)  # no quotas: nothing is refused
    for parcel in world_of(parcels).parcels.values():
        world.add(parcel[-1])
    sandbox = await SandboxServer(world, SystemClock()).start()
    try:
        with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
            rig = _Rig(Path(tmp), database, sandbox.base_url, world, parcels)
            return [await rig.measure(b, n, seconds, warm_up) for b, n in CONFIGURATIONS]
    finally:
        await sandbox.stop()


def settings_data(database: str, carriers_url: str, daemons: int) -> dict[str, Any]:
    carriers = {name: {"base_url": carriers_url, "client_id": "bench", "client_secret": "s",
                       "api_key": "k", "rate_limit": LIFTED, "quota_calls": LIFTED}
                for name in CARRIER_DEFAULTS}  # fmt: skip
    return {"daemon": {"database": database, "http_port": 0, "daemons": daemons,
                       "log_level": "WARNING"},
            "carriers": carriers, "stores": {"shop": {"name": "Bench Shop"}}}  # fmt: skip


@dataclass
class _Rig:
    workdir: Path
    server_url: str
    carriers_url: str
    world: World
    parcels: Sequence[SimParcel]

    def _calls(self) -> int:
        return sum(self.world.calls[f"{name}:track"] for name in CARRIER_DEFAULTS)

    async def measure(self, backend: str, daemons: int, seconds: float,
                      warm_up: float) -> Measured:  # fmt: skip
        name = f"tw_bench_{os.getpid()}_{backend}_{daemons}"
        url = await self._fresh(backend, name)
        processes = [DaemonProcess(self._config(url, daemons, name, i),
                                   self.workdir / f"{name}_{i}.log") for i in range(daemons)]  # fmt: skip
        try:
            await asyncio.gather(*(p.start() for p in processes))
            await self._first_call()
            await asyncio.sleep(warm_up)
            owners = {"daemons": [p.process.pid for p in processes if p.process],
                      "database": await self._backends(backend, name)}  # fmt: skip
            spent = _cpu(owners)
            first, started = self._calls(), time.monotonic()
            await asyncio.sleep(seconds)
            last, ended = self._calls(), time.monotonic()
            spent = {k: v - spent[k] for k, v in _cpu(owners).items()}
            drained = not await self._still_due(url)
        finally:
            await asyncio.gather(*(p.stop() for p in processes))
            await self._drop(backend, name)
        per = {k: 1000 * v / max(1, last - first) for k, v in spent.items()}
        return Measured(backend, daemons, last - first, ended - started, drained, per)

    async def _backends(self, backend: str, name: str) -> list[int]:
        """The PostgreSQL server processes serving the daemons' connections."""
        if backend == "sqlite":
            return []
        admin = await asyncpg.connect(self.server_url)
        try:
            rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname=$1", name)
        finally:
            await admin.close()
        return [int(row[0]) for row in rows]

    async def _first_call(self, seconds: float = 60) -> None:
        """Until the first daemon up calls a carrier (starting takes seconds, and longer
        when several start together on few cores): the warm-up runs from there."""
        before = self._calls()

        async def called() -> bool:
            return self._calls() > before

        await until(called, seconds, every=0.05)

    def _config(self, url: str, daemons: int, name: str, index: int) -> Path:
        data = settings_data(url, self.carriers_url, daemons)
        build_settings(data)  # a broken file is refused here, not in the subprocess
        path = self.workdir / f"{name}_{index}.toml"
        path.write_text(to_toml(data))
        return path

    async def _fresh(self, backend: str, name: str) -> str:
        """A new database holding the shipments, all due now."""
        if backend == "sqlite":
            url = str(self.workdir / f"{name}.db")
        else:
            admin = await asyncpg.connect(self.server_url)
            try:
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                await admin.execute(f"CREATE DATABASE {name}")
            finally:
                await admin.close()
            url = _named(self.server_url, name)
        store = await open_store(url)
        try:
            await store.add_shipments([shipment_of(p, "shop") for p in self.parcels],
                                      datetime.now(UTC))  # fmt: skip
            await _judge_all(store, build_settings(settings_data(url, self.carriers_url, 1)))
        finally:
            await store.close()
        return url

    async def _still_due(self, url: str) -> bool:
        """Whether some shipment was never polled yet (the daemons still had work)."""
        store = await open_store(url)
        try:
            listed = await store.list_shipments(limit=len(self.parcels) + 1)
        finally:
            await store.close()
        return any(s.last_polled_at is None for s in listed.shipments)

    async def _drop(self, backend: str, name: str) -> None:
        if backend == "sqlite":
            return  # the temporary directory goes
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


async def _judge_all(store: Store, settings: Settings) -> None:
    """Judge every shipment once, under the policies the daemons will load (so that they
    find nothing to judge again): they start as an established deployment would, with
    polls due, not with a judging backlog that one daemon works through alone and three
    share, which would flatter the ratios."""
    await store.judge_all_again(policies_fingerprint(settings))
    monitor = Monitor(store, RULES, SystemClock(), settings, ChannelDirectory(settings.stores),
                      Renderer({}))  # fmt: skip
    while (await monitor.run_once()).judged >= MONITOR_BATCH:
        pass


def _named(url: str, database: str) -> str:
    """`url` with its database replaced (its query kept)."""
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{database}" + (f"?{query}" if query else "")


def _cpu(owners: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds (user and system) spent so far by each owner's processes, and by this
    one (the sandbox). Only on this machine: a server elsewhere reads as 0."""
    tick = os.sysconf("SC_CLK_TCK")
    spent = {"sandbox": time.process_time()}
    for owner, pids in owners.items():
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone (a connection closed): its time is lost, not wrong
                continue
            total += int(fields[11]) + int(fields[12])
        spent[owner] = total / tick
    return spent


def ratios(rows: Sequence[Measured]) -> dict[int, float]:
    """Daemons on PostgreSQL -> their responses per second over one daemon's there."""
    pg = {m.daemons: m.per_second for m in rows if m.backend == "postgresql"}
    one = pg.get(1, 0.0)
    return {n: (rate / one if one else 0.0) for n, rate in pg.items() if n > 1}


def render(rows: Sequence[Measured], shipments: int, seconds: float, warm_up: float) -> str:
    lines = [f"bench-daemons: {shipments} shipments due, every quota lifted, warm-up "
             f"{warm_up:g} s, measured {seconds:g} s ({platform.machine()}, {os.cpu_count()} "
             f"CPUs, Python {platform.python_version()})"]  # fmt: skip
    for m in rows:
        plural = "daemon " if m.daemons == 1 else "daemons"
        note = "  (drained: not saturated, give more shipments)" if m.drained else ""
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in m.cpu.items())
        lines.append(f"  {m.backend:<10} {m.daemons} {plural}: {m.per_second:8.1f} responses/s "
                     f"({m.responses} in {m.seconds:.1f} s; CPU ms a response: {cpu}){note}")  # fmt: skip
    found = ratios(rows)
    text = ", ".join(f"{n}/1 = {r:.2f}x" for n, r in sorted(found.items()))
    met = "met" if found.get(2, 0.0) >= TARGET else "missed"
    lines.append(f"PostgreSQL, over one daemon: {text} (target 2/1 >= {TARGET}x: {met})")
    return "\n".join(lines)
