"""Several daemon processes sharing one PostgreSQL database, against one sandbox world, in
virtual time; one of them killed with SIGKILL in the middle of a pass and started again.

This process owns the clock, the sandbox world and its carriers, the script (shipments
added, customers' reports, through a store of its own) and the staff chat sink. Each
daemon is a worker process (worker.py) on a FrozenClock of its own, which this process
sets: at each instant it tells every live worker to pass at once, so that they really race
for the claims on PostgreSQL (`FOR UPDATE SKIP LOCKED`, leases), waits for all of them, and
jumps to the earliest instant one of them or the script is due (at least STEP). Leases are
in virtual time too: a killed daemon's claims run out LEASE later, and the others take its
shipments and notices then.

Each worker polls through a sandbox port of its own (one world behind all of them, so
quotas and calls are counted once): that is how this process knows whose call it is
answering, and kills the chosen daemon just after the carrier answered one of its calls
(the answer never arrives: its claims are left held).

The same seed makes the same world, but the processes' race decides who takes which
shipment, so two runs need not print the same figures: what holds is the scorecard (no
missed or false alert, nothing over quota, no shipment polled twice in one slot, no notice
lost).
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rules import RULES
from trackwatch.chaos.deliveries import match, webhook_copies
from trackwatch.chaos.process import to_toml
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.errors import InputError
from trackwatch.model import NoticeState
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import World
from trackwatch.sim.asking import AskingSandbox
from trackwatch.sim.run import START, STEP, Outcome, WorldScript, outcome_of, quotas, settings_data
from trackwatch.sim.scenarios import SimParcel
from trackwatch.sim.workers import KILL_BY_NOW, Kill, Worker, plan_kill
from trackwatch.store import Store, open_store

TOKEN_LIFETIME = 60 * 24 * 3600  # as the one-daemon simulation's world


async def simulate_several(parcels: Sequence[SimParcel], days: float, database: str,
                           daemons: int, kill_seed: int | None = None
                           ) -> tuple[Outcome, dict[str, Any]]:  # fmt: skip
    """Run the world through `daemons` daemon processes on `database` (a PostgreSQL URL, an
    empty database); with `kill_seed`, one of them is killed and started again. Returns
    the outcome to score and the figures only several daemons have."""
    world = World(token_lifetime=TOKEN_LIFETIME, quotas=quotas())
    for parcel in parcels:
        world.add(parcel.parcel)
    end = START + timedelta(days=days)
    kill = plan_kill(kill_seed, daemons, end) if kill_seed is not None else None
    store = await open_store(database)
    try:
        if (await store.list_shipments(limit=1)).shipments:
            raise InputError("database", "holds shipments already: the simulation needs an "
                             "empty database")  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="tw-several-") as tmp:
            run = _Run(world, FrozenClock(START), store, daemons, kill)
            return await run.run(parcels, end, database, Path(tmp))
    finally:
        await store.close()


class _Run:
    def __init__(self, world: World, clock: FrozenClock, store: Store, daemons: int,
                 kill: Kill | None) -> None:  # fmt: skip
        self.world = world
        self.clock = clock
        self.store = store
        self.daemons = daemons
        self.kill = kill
        self.workers: list[Worker] = []
        self.sandboxes: list[AskingSandbox] = []
        self.sink = HttpSink()
        self.data: dict[str, Any] = {}

    async def run(self, parcels: Sequence[SimParcel], end: datetime, database: str,
                  tmp: Path) -> tuple[Outcome, dict[str, Any]]:  # fmt: skip
        await self.sink.start()
        try:
            for index in range(self.daemons):
                answered = functools.partial(self._answered, index)
                self.sandboxes.append(await AskingSandbox(self.world, self.clock, answered).start())
                config = self._config(index, database, tmp)
                self.workers.append(Worker(index, config, tmp / f"daemon-{index + 1}.log"))
            script = WorldScript(self.store, parcels)
            await self._steps(script, end)
            await asyncio.gather(*(w.quit() for w in self.workers))
            return await self._results(script, end, parcels)
        finally:
            await asyncio.gather(*(w.kill() for w in self.workers))
            for sandbox in self.sandboxes:
                await sandbox.stop()
            await self.sink.stop()

    def _config(self, index: int, database: str, tmp: Path) -> Path:
        data = settings_data(database, self.sandboxes[index].base_url, self.sink.url("staff"),
                             "smart", 4.0)  # fmt: skip
        data["daemon"]["daemons"] = self.daemons
        self.data = data
        path = tmp / f"daemon-{index + 1}.toml"
        path.write_text(to_toml(data))
        return path

    async def _steps(self, script: WorldScript, end: datetime) -> None:
        """Every live daemon passes at each instant, together; the clock then jumps."""
        await asyncio.gather(*(w.start(self.clock.now()) for w in self.workers))
        while (now := self.clock.now()) < end:
            await self._kill_or_restart(now)
            judge = await script.act(now)
            live = [w for w in self.workers if w.alive]
            dues = await asyncio.gather(*(w.pass_at(now, judge) for w in live))
            self._no_other_deaths()
            upcoming = [d for d in dues if d is not None]
            upcoming += [at] if (at := script.next_at()) is not None else []
            self.clock.set(min(max(min(upcoming, default=end), now + STEP), end))

    async def _answered(self, index: int, carrier: str, now: datetime) -> None:
        """A carrier answered daemon `index`'s call (not sent yet): once the kill is due,
        the first daemon answered is the one killed. Which daemon claims a poll is a race
        between processes: waiting for the one the seed named let it go a whole day without
        a call now and then, and be killed between passes instead of inside one (CI saw it)."""
        kill = self.kill
        if kill is None or kill.killed_at is not None or now < kill.planned:
            return
        kill.daemon = index
        kill.killed_at, kill.mid_pass, kill.carrier = now, True, carrier
        await self.workers[index].kill()

    async def _kill_or_restart(self, now: datetime) -> None:
        kill = self.kill
        if kill is None:
            return
        if kill.killed_at is None and now >= kill.planned + KILL_BY_NOW:
            kill.killed_at = now  # it made no call for a day: killed between passes
            await self.workers[kill.daemon].kill()
        elif kill.killed_at is not None and kill.restarted_at is None:
            kill.steps_since += 1
            if kill.steps_since >= kill.restart_steps:
                kill.restarted_at = now
                await self.workers[kill.daemon].start(now)

    def _no_other_deaths(self) -> None:
        victim = self.kill.daemon if self.kill and self.kill.restarted_at is None else None
        for worker in self.workers:
            if not worker.alive and worker.index != victim:
                raise RuntimeError(f"daemon {worker.index + 1} died: see {worker.log}")

    async def _results(self, script: WorldScript, end: datetime, parcels: Sequence[SimParcel]
                       ) -> tuple[Outcome, dict[str, Any]]:  # fmt: skip
        settings = build_settings(self.data)
        monitor = Monitor(self.store, RULES, self.clock, settings,
                          ChannelDirectory(settings.stores), Renderer({}))  # fmt: skip
        outcome = await outcome_of(self.store, monitor, self.world, script.ids, "smart", end,
                                   parcels)  # fmt: skip
        notices = await self.store.notices()
        waiting = (NoticeState.PENDING, NoticeState.SENDING)
        owed = [n for n in notices if n.state is NoticeState.SENT
                or (n.state in waiting and n.next_attempt_at <= end)]  # fmt: skip
        deliveries = match(owed, webhook_copies(self.sink.received))
        twice = self.world.asked_twice()
        return outcome, {
            "daemons": self.daemons,
            "polled_twice_in_one_slot": len(twice),
            "polled_twice_examples": [f"{c} {n} at {at.isoformat()}" for c, n, at in twice[:3]],
            "notices_owed": len(owed),
            "notices_lost": len(deliveries.lost),
            "notice_copies_beyond_one": deliveries.duplicates,
            "daemon_starts": [w.starts for w in self.workers],
            "kill": self.kill.figures() if self.kill else None,
        }
