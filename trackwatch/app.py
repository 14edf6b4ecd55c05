"""Composition root: builds everything from Settings and a Clock, runs the loops in a
TaskGroup, and stops cleanly on SIGTERM/SIGINT (in-flight polls and sends finish first).

Nothing imports this module; cli.py calls it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import aiohttp

from carriers import CARRIERS, CLASSIFIERS, Carrier, Credentials
from rules import RULES
from trackwatch.carrier_alarms import CarrierAlarms
from trackwatch.clock import Clock, sleep_until
from trackwatch.config import CarrierSettings, Settings
from trackwatch.http import HttpGateway
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.digest import Digests
from trackwatch.notify.drafting import Drafter
from trackwatch.notify.outbox import Outbox, Sent
from trackwatch.notify.render import Renderer
from trackwatch.poller import Poller
from trackwatch.quota import Quota
from trackwatch.store import SqliteStore
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import Served, build_app, serve
from trackwatch.web.signing import ReportLinks

log = logging.getLogger("trackwatch")


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


def credentials(settings: CarrierSettings) -> Credentials:
    return Credentials(
        base_url=settings.base_url,
        client_id=settings.client_id,
        client_secret=_secret(settings.client_secret),
        api_key=_secret(settings.api_key),
    )


class Daemon:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: SqliteStore,
        carriers: dict[str, Carrier],
        on_sent: Sent | None = None,
        idle: timedelta = timedelta(minutes=1),
        links: ReportLinks | None = None,
        quotas: Mapping[str, Quota] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.idle = idle
        self.carrier_names = sorted(carriers)
        channels = ChannelDirectory(settings.stores)
        renderer = Renderer({sid: s.templates_dir for sid, s in settings.stores.items()
                             if s.templates_dir is not None})  # fmt: skip
        drafter = Drafter(settings, channels, renderer, links)
        workers = {name: settings.carriers.get(name).max_in_flight for name in carriers}
        alarms = CarrierAlarms(store, clock, settings.daemon, drafter)
        self.poller = Poller(store, carriers, clock, settings.daemon, workers, alarms=alarms,
                             quotas=quotas)  # fmt: skip
        self.monitor = Monitor(store, RULES, clock, settings, channels, renderer, drafter=drafter)
        self.outbox = Outbox(store, clock, settings.daemon, channels, on_sent, drafter=drafter)
        self.digests = Digests(store, clock, settings, channels, drafter)
        self.stopping = asyncio.Event()
        self._judge = asyncio.Event()
        self._send = asyncio.Event()

    async def tick(self) -> None:
        """One pass of every loop, in data-flow order (tests drive the daemon with this)."""
        await self.poller.poll_due()
        await self.monitor.run_once()
        await self.outbox.run_once()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._loop(self._poll, self.store.next_poll_at, None))
            group.create_task(self._loop(self._check, self.store.next_check_at, self._judge))
            group.create_task(self._loop(self._deliver, self.store.next_notice_at, self._send))
            group.create_task(self._loop(self._digest, self.digests.next_due, None))

    def wake(self) -> None:
        """Something changed outside the loops (a report, a manual resolution): judge now."""
        self._judge.set()

    def stop(self) -> None:
        self.stopping.set()
        self._judge.set()
        self._send.set()

    async def _poll(self) -> None:
        if await self.poller.poll_due():
            self._judge.set()

    async def _check(self) -> None:
        evaluation = await self.monitor.run_once()
        if evaluation.opens or evaluation.escalations or evaluation.resolves:
            self._send.set()

    async def _deliver(self) -> None:
        await self.outbox.run_once()

    async def _digest(self) -> None:
        if await self.digests.run_once():
            self._send.set()

    async def _loop(
        self,
        work: Callable[[], Awaitable[None]],
        next_due: Callable[[], Awaitable[datetime | None]],
        wake: asyncio.Event | None,
    ) -> None:
        while not self.stopping.is_set():
            if wake is not None:
                wake.clear()
            await work()
            now = self.clock.now()
            due = await next_due()
            until = min(due, now + self.idle) if due is not None else now + self.idle
            trigger = wake if wake is not None else self.stopping
            await sleep_until(self.clock, max(until, now), trigger)


@asynccontextmanager
async def open_daemon(
    settings: Settings, clock: Clock, on_sent: Sent | None = None,
    idle: timedelta = timedelta(minutes=1),
) -> AsyncIterator[Daemon]:  # fmt: skip
    """Everything the daemon holds open (database, HTTP app and session), closed on exit."""
    store = await SqliteStore.open(settings.daemon.database)
    await Outbox.warm_up()
    served: Served | None = None
    try:
        configured = settings.daemon.link_secret
        secret = configured.get_secret_value().encode() if configured else b""
        links = ReportLinks(secret or await store.secret("links"), settings.daemon.public_url)
        desk = ReportDesk(store, clock, settings, links)
        served = await serve(build_app(desk), settings.daemon)
        links.base_url = served.base_url
        async with aiohttp.ClientSession() as session:
            gateway = HttpGateway(session, clock, ledger=store)
            carriers: dict[str, Carrier] = {}
            for name, factory in CARRIERS.items():
                carrier_settings = settings.carriers.get(name)
                if carrier_settings.enabled:
                    gateway.register(name, carrier_settings, CLASSIFIERS.get(name))
                    carriers[name] = factory(gateway, clock, credentials(carrier_settings))
            await gateway.load_quotas()
            quotas = {n: q for n in carriers if (q := gateway.quota(n)) is not None}
            daemon = Daemon(settings, clock, store, carriers, on_sent, idle, links, quotas)
            desk.wake = daemon.wake
            yield daemon
    finally:
        if served is not None:
            await served.stop()
        await store.close()


async def run_forever(settings: Settings, clock: Clock) -> None:
    """`trackwatch run`: the daemon until SIGTERM or SIGINT."""
    async with open_daemon(settings, clock) as daemon:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, daemon.stop)
        log.info("trackwatch running: %d stores, carriers %s", len(settings.stores),
                 ", ".join(daemon.carrier_names))  # fmt: skip
        await daemon.run()
        log.info("trackwatch stopped")
