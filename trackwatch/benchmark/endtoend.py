"""End to end: carrier responses per CPU-second of the daemon's own process (HTTP, parse,
store, judge), beside raw aiohttp GETs against the same sandbox server in the same run.

The sandbox runs in a child process (server.py), so this process's CPU time is the
client's alone: the daemon's loops here (SQLite's thread included), the raw client there.
Every shipment is judged once before the timed part, as an established deployment's are:
the timed part is polls and the judgements they cause, not a first-judging backlog."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from trackwatch.app import Daemon, open_daemon
from trackwatch.benchmark.server import ServedWorld, serve_world
from trackwatch.chaos.world import past_parcels, shipment_of
from trackwatch.clock import SystemClock
from trackwatch.config import build_settings
from trackwatch.sim.bench import settings_data
from trackwatch.sim.scenarios import SimParcel

SEED = 3


@dataclass(frozen=True)
class Rate:
    """Responses over the CPU seconds this process spent on them."""

    name: str
    responses: int
    cpu_seconds: float

    @property
    def per_cpu_second(self) -> float:
        return self.responses / self.cpu_seconds if self.cpu_seconds else 0.0


async def _drive(daemon: Daemon, served: ServedWorld, responses: int) -> Rate:
    """Poll passes, each followed by the judgements it caused, until `responses` calls."""
    first, started = served.calls(), time.process_time()
    while True:
        polled = await daemon.poller.poll_due()
        while (await daemon.monitor.run_once()).judged:
            pass
        done = served.calls() - first
        if done >= responses or not polled:
            return Rate("", done, time.process_time() - started)


async def _judge_all(daemon: Daemon) -> None:
    while (await daemon.monitor.run_once()).judged:
        pass


async def daemon_rate(served: ServedWorld, parcels: Sequence[SimParcel], name: str) -> Rate:
    """The daemon's responses per CPU-second polling every one of `parcels` once."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-e2e-") as tmp:
        data = settings_data(str(Path(tmp) / "e2e.db"), served.base_url, 1)
        data["daemon"]["log_level"] = "WARNING"
        settings = build_settings(data)
        async with open_daemon(settings, SystemClock()) as daemon:
            shipments = [shipment_of(p, "shop") for p in parcels]
            await daemon.store.add_shipments(shipments, datetime.now(UTC))
            await _judge_all(daemon)
            await _make_due(daemon)
            rate = await _drive(daemon, served, len(parcels))
    return Rate(name, rate.responses, rate.cpu_seconds)


async def _make_due(daemon: Daemon) -> None:
    """Every shipment due a poll now (judging scheduled their first polls for later)."""
    store = daemon.store
    listed = await store.list_shipments(limit=1_000_000)
    await store.reschedule_polls([s.id or 0 for s in listed.shipments], datetime.now(UTC))


async def raw_rate(served: ServedWorld, numbers: Sequence[str], workers: int = 4) -> Rate:
    """aiohttp GETs of DHL's tracking path, `workers` at a time, each body read."""
    queue = list(numbers)
    url = f"{served.base_url}/track/shipments"

    async def work(session: aiohttp.ClientSession) -> None:
        while queue:
            number = queue.pop()
            async with session.get(url, params={"trackingNumber": number},
                                   headers={"DHL-API-Key": "k"}) as resp:  # fmt: skip
                await resp.read()

    async with aiohttp.ClientSession() as session:
        started = time.process_time()
        await asyncio.gather(*(work(session) for _ in range(workers)))
        spent = time.process_time() - started
    return Rate("raw aiohttp GET (DHL path)", len(numbers), spent)


async def measure(count: int) -> list[Rate]:
    """Raw aiohttp, the daemon on DHL alone (one number a call), and on the four-carrier
    mix (batches where the API allows), each against the same child server."""
    now = datetime.now(UTC)
    parcels = past_parcels(count, SEED, now)
    served = await asyncio.to_thread(serve_world, count, SEED, now)
    try:
        dhl = [p for p in parcels if p.parcel.carrier == "dhl"]
        rates = [await raw_rate(served, [p.parcel.number for p in dhl])]
        rates.append(await daemon_rate(served, dhl, "daemon, DHL (one number a call)"))
        rates.append(await daemon_rate(served, parcels, "daemon, four-carrier mix"))
        return rates
    finally:
        await asyncio.to_thread(served.stop)
