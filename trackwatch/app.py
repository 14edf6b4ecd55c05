"""Composition root: builds everything from Settings and a Clock and runs the loops in a
TaskGroup until `stop()` (in-flight polls and sends finish first); `reload()` applies new
settings between passes. Signals and systemd are service.py's business.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import aiohttp

from carriers import CARRIERS, CLASSIFIERS, Carrier, Credentials
from carriers.push import Hook, PushAgent
from carriers.pushes import AGENTS, READERS
from rules import RULES
from trackwatch.accounts import AccountTransport, account_key, carrier_of
from trackwatch.calendar import warm
from trackwatch.carrier_alarms import CarrierAlarms
from trackwatch.carrier_state import CarrierState
from trackwatch.clock import Clock, sleep_until
from trackwatch.config import CARRIER_DEFAULTS, CarrierSettings, Settings, unread
from trackwatch.heartbeat import Heartbeat
from trackwatch.http import HttpGateway
from trackwatch.metrics import Metrics
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.digest import Digests
from trackwatch.notify.drafting import Drafter
from trackwatch.notify.outbox import Outbox, Sent
from trackwatch.notify.render import Renderer
from trackwatch.poller import Poller
from trackwatch.push.subscriber import Subscriber
from trackwatch.push.worker import PushWorker
from trackwatch.quarantine import Quarantine
from trackwatch.quota import Quota
from trackwatch.retention import RetentionPass
from trackwatch.sdnotify import Notifier
from trackwatch.store import Store, open_store
from trackwatch.store.versions import upgrade_line, upgrades_at_start
from trackwatch.web.console import ConsoleDesk
from trackwatch.web.ops import Vitals
from trackwatch.web.push import PushDesk
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


def policies_fingerprint(settings: Settings) -> str:
    """What judgements depend on of the settings (stores, their policies): equal for every
    daemon that loaded the same files."""
    stores = {sid: s.model_dump(mode="json", exclude={"api_token", "shopify_secret"})
              for sid, s in settings.stores.items()}  # fmt: skip
    text = json.dumps(stores, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def restart_needed(old: Settings, new: Settings) -> list[str]:
    """Settings a reload cannot apply: what the daemon opened or built its carriers from."""
    keys = ["database", "http_host", "http_port", "public_url", "link_secret"]
    changed = [f"daemon.{k}" for k in keys if getattr(old.daemon, k) != getattr(new.daemon, k)]
    if old.carriers != new.carriers:
        changed.append("carriers")
    return changed


class Daemon:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: Store,
        carriers: dict[str, Carrier],
        on_sent: Sent | None = None,
        idle: timedelta = timedelta(minutes=1),
        links: ReportLinks | None = None,
        quotas: Mapping[str, Quota] | None = None,
        metrics: Metrics | None = None,
        heartbeat: Heartbeat | None = None,
        health: CarrierState | None = None,
        agents: Mapping[str, PushAgent] | None = None,
    ) -> None:
        self.settings = settings
        self.heartbeat = heartbeat or Heartbeat()
        self.desk: ReportDesk | None = None  # the HTTP app's, set by open_daemon
        self.vitals: Vitals | None = None
        self.clock = clock
        self.store = store
        self.idle = idle
        self.carrier_names = sorted(carriers)
        self.metrics = metrics or Metrics()
        self.stopping = asyncio.Event()
        self._judge = asyncio.Event()
        self._send = asyncio.Event()
        self._links = links
        channels, renderer, drafter = self._notifying(settings)
        share = settings.daemon.daemons
        workers = {key: settings.carriers.get(carrier_of(key)).shared_by(share).max_in_flight
                   for key in carriers}  # fmt: skip
        self.alarms = CarrierAlarms(store, clock, settings.daemon, drafter)
        self.quarantine = Quarantine(store, clock, drafter)
        self.poller = Poller(store, carriers, clock, settings.daemon, workers, alarms=self.alarms,
                             quotas=quotas, metrics=self.metrics, stopping=self.stopping,
                             health=health, quarantine=self.quarantine)  # fmt: skip
        self._push_carriers(settings)
        self.monitor = Monitor(store, RULES, clock, settings, channels, renderer, drafter=drafter,
                               quarantine=self.quarantine)  # fmt: skip
        self.outbox = Outbox(store, clock, settings.daemon, channels, on_sent, drafter=drafter,
                             metrics=self.metrics, stopping=self.stopping)  # fmt: skip
        self.digests = Digests(store, clock, settings, channels, drafter)
        self.retention = RetentionPass(store, clock, settings.retention)
        self._pushed = asyncio.Event()
        self.push_base = settings.daemon.public_url  # set by open_daemon once it listens
        self.subscriber = Subscriber(store, clock, settings, agents or {}, self.hook)
        self.pushes = PushWorker(store, clock, settings, READERS, self.subscriber.control)

    def hook(self, carrier: str) -> Hook:
        """Where `carrier` pushes to: its configured listener URL, else our /push/<carrier>."""
        push = self.settings.carriers.get(carrier).push
        return Hook(push.listener_url or f"{self.push_base}/push/{carrier}",
                    tuple(push.admin_emails))  # fmt: skip

    def _push_carriers(self, settings: Settings) -> None:
        """Which carriers push (at start and on each reload): the poller replaces their
        pushed scans' readings, and their push series show at 0 before the first push."""
        self.poller.pushed = pushing(settings)
        self.metrics.show_pushes(self.poller.pushed)

    def push_desk(self) -> PushDesk:
        return PushDesk(self.store, self.clock, lambda: self.settings, READERS, self._pushed.set,
                        self.metrics)  # fmt: skip

    def _notifying(self, settings: Settings) -> tuple[ChannelDirectory, Renderer, Drafter]:
        channels = ChannelDirectory(settings.stores)
        renderer = Renderer({sid: s.templates_dir for sid, s in settings.stores.items()
                             if s.templates_dir is not None})  # fmt: skip
        return channels, renderer, Drafter(settings, channels, renderer, self._links)

    async def reload(self, settings: Settings) -> list[str]:
        """Apply new stores, policies, channels and daemon tuning between passes (a pass
        under way finishes with what it started with), and judge every shipment again under
        them; returns the keys that changed but only apply at the next start."""
        later = restart_needed(self.settings, settings)
        channels, renderer, drafter = self._notifying(settings)
        self.quarantine.configure(drafter)
        self.monitor = Monitor(self.store, RULES, self.clock, settings, channels, renderer,
                               drafter=drafter, quarantine=self.quarantine)  # fmt: skip
        self.outbox.configure(settings.daemon, channels, drafter)
        self.digests.configure(settings, channels, drafter)
        self.poller.configure(settings.daemon)
        self._push_carriers(settings)
        self.alarms.configure(settings.daemon, drafter)
        self.retention.configure(settings.retention)
        self.pushes.configure(settings)
        self.subscriber.configure(settings)
        self.settings = settings
        await self.store.judge_all_again(policies_fingerprint(settings))
        self._judge.set()
        return later

    async def tick(self) -> None:
        """One pass of every loop, in data-flow order (tests drive the daemon with this)."""
        await self.subscriber.run_once()
        await self.pushes.run_once()
        await self.poller.poll_due()
        await self.monitor.run_once()
        await self.outbox.run_once()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._loop(self._poll, self.store.next_poll_at, None))
            group.create_task(self._loop(self.judge_due, self.store.next_check_at, self._judge))
            group.create_task(self._loop(self._deliver, self.store.next_notice_at, self._send))
            group.create_task(self._loop(self._digest, self.digests.next_due, None))
            group.create_task(self._loop(self._retain, self.retention.next_due, None))
            group.create_task(self._loop(self._work_pushes, self.store.next_push_at, self._pushed))
            group.create_task(self._loop(self._subscribe, self.subscriber.next_due, None))

    def wake(self) -> None:
        """Something changed outside the loops (a report, a manual resolution): judge now."""
        self._judge.set()

    def stop(self) -> None:
        self.stopping.set()
        self._judge.set()
        self._send.set()
        self._pushed.set()

    async def _poll(self) -> None:
        if await self.poller.poll_due():
            self._judge.set()

    async def judge_due(self) -> None:
        """Judge until nothing waits: after an import, a restart or a reload, a backlog of
        100,000 shipments is judged as fast as the machine allows, not one batch a minute.
        Between batches the other loops run (and notices of the batch before go out)."""
        while not self.stopping.is_set():
            judged = await self.monitor.run_once()
            if judged.applied:
                self._send.set()
            if not judged.full:
                return
            await asyncio.sleep(0)

    async def _work_pushes(self) -> None:
        if await self.pushes.run_once():
            self._judge.set()

    async def _subscribe(self) -> None:
        if await self.subscriber.run_once():
            self._judge.set()

    async def _deliver(self) -> None:
        await self.outbox.run_once()

    async def _digest(self) -> None:
        if await self.digests.run_once():
            self._send.set()

    async def _retain(self) -> None:
        await self.retention.run_once()

    async def _loop(
        self,
        work: Callable[[], Awaitable[None]],
        next_due: Callable[[], Awaitable[datetime | None]],
        wake: asyncio.Event | None,
    ) -> None:
        failing: str | None = None
        while not self.stopping.is_set():
            if wake is not None:
                wake.clear()
            try:
                await work()
                due = await next_due()
                failing = None
            except Exception as exc:  # nothing stops the daemon: log, wait, try again
                failing = _log_loop_failure(work, exc, failing)
                due = None
            now = self.clock.now()
            until = min(due, now + self.idle) if due is not None else now + self.idle
            trigger = wake if wake is not None else self.stopping
            await sleep_until(self.clock, max(until, now), trigger)


def _log_loop_failure(work: Callable[[], Awaitable[None]], exc: Exception,
                      before: str | None) -> str:  # fmt: skip
    """Log a loop's failure with its traceback once, until it changes or the loop recovers
    (a database that takes no write fails every pass; one line says so)."""
    what = f"{type(exc).__name__}: {exc}"
    if what != before:
        log.exception("%s failed; trying again in a while", getattr(work, "__name__", "a loop"))
    return what


def channel_urls(settings: Settings) -> list[str]:
    """Every store's channel URLs that are read: their schemes name the Apprise plugins the
    outbox will need (loaded ahead, and no others)."""
    found: list[str] = []
    for store in settings.stores.values():
        for name in type(store.channels).model_fields:
            urls = getattr(store.channels, name)
            found += [url.get_secret_value() for url in urls if not unread(url)]
    return found


async def warm_calendars(settings: Settings, store: Store, year: int) -> None:
    """Holiday tables of every country the loops will judge in, built off the event loop
    before the first pass (a cold one costs 0.1 to 0.2 s, which would stall the loop)."""
    countries = {"US", *(s.policy.origin_country for s in settings.stores.values())}
    countries.update(await store.destination_countries())
    await asyncio.to_thread(warm, sorted(countries), (year, year + 1))


def _carriers(settings: Settings, gateway: HttpGateway, clock: Clock) -> dict[str, Carrier]:
    """Every carrier account the daemon polls with, by account key (accounts.account_key):
    each enabled carrier's own, and each store's own account with it."""
    carriers: dict[str, Carrier] = {}
    share = settings.daemon.daemons
    for name, factory in CARRIERS.items():
        base = settings.carriers.get(name)
        if not base.enabled:
            continue
        owners = {account_key(name, None): base}
        owners |= {account_key(name, sid): base.for_account(store.carriers[name])
                   for sid, store in settings.stores.items() if name in store.carriers}  # fmt: skip
        for key, account in owners.items():
            gateway.register(key, account.shared_by(share), CLASSIFIERS.get(name))
            transport = gateway if key == name else AccountTransport(gateway, key)
            carriers[key] = factory(transport, clock, credentials(account))
    return carriers


def pushing(settings: Settings) -> frozenset[str]:
    """The enabled carriers whose push is enabled."""
    accounts = {name: settings.carriers.get(name) for name in CARRIER_DEFAULTS}
    return frozenset(name for name, a in accounts.items() if a.enabled and a.push.enabled)


def push_agents(settings: Settings, gateway: HttpGateway, clock: Clock) -> dict[str, PushAgent]:
    """The subscription clients of each enabled carrier whose push is enabled. Their calls go
    through the gateway on a lane of their own (`<carrier>+push`): throttled and retried like
    polls, but not counted against the tracking quota (a subscription API is another API)."""
    agents: dict[str, PushAgent] = {}
    for name, factory in AGENTS.items():
        carrier = settings.carriers.get(name)
        push = carrier.push
        if not (carrier.enabled and push.enabled):
            continue
        key = f"{name}+push"
        gateway.register(key, carrier.model_copy(update={"quota_calls": None}),
                         CLASSIFIERS.get(name))  # fmt: skip
        creds = credentials(
            carrier.model_copy(update={"base_url": push.base_url or carrier.base_url})
        )
        option = push.subscription_type if name == "ups" else push.service
        agents[name] = factory(AccountTransport(gateway, key), clock, creds, option)
    return agents


@asynccontextmanager
async def open_daemon(
    settings: Settings, clock: Clock, on_sent: Sent | None = None,
    idle: timedelta = timedelta(minutes=1), notifier: Notifier | None = None,
) -> AsyncIterator[Daemon]:  # fmt: skip
    """Everything the daemon holds open (database, HTTP app and session), closed on exit."""
    store = await open_store(settings.daemon.database, daemon=True,
                             upgrade=upgrades_at_start(settings.daemon.upgrade, settings.daemon.database))  # fmt: skip
    if store.upgraded is not None:
        log.warning("%s", upgrade_line(store.upgraded))
    await Outbox.warm_up(channel_urls(settings))
    await warm_calendars(settings, store, clock.now().year)
    served: Served | None = None
    metrics = Metrics()
    try:
        configured = settings.daemon.link_secret
        secret = configured.get_secret_value().encode() if configured else b""
        links = ReportLinks(secret or await store.secret("links"), settings.daemon.public_url)
        async with aiohttp.ClientSession() as session:
            health = CarrierState(settings.daemon, store)
            gateway = HttpGateway(session, clock, ledger=store, metrics=metrics, health=health)
            carriers = _carriers(settings, gateway, clock)
            quotas = {n: q for n in carriers if (q := gateway.quota(n)) is not None}
            daemon = Daemon(settings, clock, store, carriers, on_sent, idle, links, quotas,
                            metrics, Heartbeat(notifier), health,
                            push_agents(settings, gateway, clock))  # fmt: skip
            # Policies edited while the daemon was down move deadlines as a reload would.
            await store.judge_all_again(policies_fingerprint(settings))
            desk = daemon.desk = ReportDesk(store, clock, settings, links, daemon.wake)
            vitals = daemon.vitals = Vitals(store, clock, metrics, daemon.heartbeat, quotas,
                                            health, daemon.carrier_names,
                                            lambda: daemon.settings.stores.keys(),  # noqa: PLW0108 - a reload replaces settings
                                            [rule.name for rule in RULES])  # fmt: skip
            console = ConsoleDesk(desk, store, await store.secret("console"), vitals)
            served = await serve(build_app(desk, vitals, console, daemon.push_desk()),
                                 settings.daemon)  # fmt: skip
            links.base_url = daemon.push_base = served.base_url
            yield daemon
    finally:
        if served is not None:
            await served.stop()
        await store.close()
