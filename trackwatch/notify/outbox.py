"""The outbox loop's work: claim due notices, send each through Apprise, record the outcome.

Claiming is a compare-and-set with a lease, so a crash between claim and send re-sends at
most the notices that were in flight, once their lease runs out. Each notice gets a fresh
Apprise object: one reused object throttles about 5.5 s per message, and a fresh one lets
the notice's idempotency key ride as a header on webhook URLs. Apprise 2.x returns a result
object with a per-URL status, not a bool; failures retry with exponential backoff and end
dead-lettered after `notice_max_attempts`. A notice sent twice (a crash between the send and
its record) carries the same key both times: the Idempotency-Key header on webhooks, the
Message-ID of an email (notify.message_id).

Each message carries its urgency as Apprise's notify type (chat services colour and route
by it): a resolution is `success`, an urgent alert `failure`, a warning `warning`, the rest
`info`. A customer notice claimed outside the customer's daytime (the daemon was down, a
backlog, a retry that fell at night) goes back to the next start of their daytime, its
attempt not counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from urllib.parse import quote

import apprise

from trackwatch.clock import Clock
from trackwatch.config import DaemonSettings
from trackwatch.metrics import Metrics
from trackwatch.model import Audience, Finding, Notice, Severity
from trackwatch.notify import plugins
from trackwatch.notify.channels import ChannelDirectory, kind_of
from trackwatch.notify.drafting import Drafter
from trackwatch.notify.email import customer_url, sign_as, to_html
from trackwatch.notify.message_id import keyed
from trackwatch.notify.pacing import daytime
from trackwatch.notify.smtp_tls import SHARED as SHARED_TLS
from trackwatch.shopify import writeback
from trackwatch.store.contract import NoticeQueue
from trackwatch.store.records import NoticeDraft, StoreAlertOpen
from trackwatch.zones import zone_for

log = logging.getLogger("trackwatch.outbox")

# Apprise schemes whose plugin turns `?+Name=value` into an HTTP request header.
_HEADER_SCHEMES = ("json://", "jsons://", "form://", "forms://", "xml://", "xmls://")
IDEMPOTENCY_HEADER = "Idempotency-Key"
CHANNEL_FAILING = "channel_failing"  # the rule name of the alert about a dead channel

Sent = Callable[[Notice], None]


def with_idempotency_key(url: str, key: str) -> str:
    if not url.startswith(_HEADER_SCHEMES):
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}+{IDEMPOTENCY_HEADER}={key}"


_TYPES = {
    Severity.URGENT: apprise.NotifyType.FAILURE,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.INFO: apprise.NotifyType.INFO,
}


def notify_type(notice: Notice) -> apprise.NotifyType:
    """The notice's urgency as Apprise's type; a notice of no alert (a digest) is `info`."""
    if notice.event == "resolved":
        return apprise.NotifyType.SUCCESS
    return apprise.NotifyType.INFO if notice.severity is None else _TYPES[notice.severity]


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


class Outbox:
    def __init__(
        self,
        store: NoticeQueue,
        clock: Clock,
        settings: DaemonSettings,
        channels: ChannelDirectory,
        on_sent: Sent | None = None,
        batch: int = 50,
        drafter: Drafter | None = None,
        metrics: Metrics | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._metrics = metrics or Metrics()
        self._stopping = stopping or asyncio.Event()
        self._on_sent = on_sent
        self._batch = batch
        self.sent = 0
        self.failed = 0
        self._failing: dict[tuple[str, str], int] = {}  # (store, channel) -> open alert
        self.configure(settings, channels, drafter)

    def configure(
        self, settings: DaemonSettings, channels: ChannelDirectory, drafter: Drafter | None
    ) -> None:
        """New settings (a reload); sends in flight finish with the old ones."""
        self._settings = settings
        self._channels = channels
        self._drafter = drafter
        self._gate = asyncio.Semaphore(settings.notice_concurrency)

    @staticmethod
    async def warm_up(urls: Iterable[str] = ("json://127.0.0.1",)) -> None:
        """Load the Apprise plugins of `urls` (the channels') and the emails' TLS context now,
        in a thread: the first `add` of a scheme costs up to 0.4 s (every plugin, for a scheme
        trackwatch.notify.plugins does not know), which would otherwise land on the first
        notice (and, in simulated time, delay it by hours)."""
        await asyncio.to_thread(plugins.ensure_each, urls)
        await asyncio.to_thread(SHARED_TLS.get)

    async def run_once(self) -> int:
        """Send every due notice; returns how many were attempted (a customer notice put
        back for the customer's daytime was not)."""
        attempted = 0
        self._failing = await self._store.open_store_alerts(CHANNEL_FAILING)
        while True:
            now = self._clock.now()
            lease = now + timedelta(seconds=self._settings.notice_lease_seconds)
            claimed = await self._store.claim_notices(now, lease, self._batch)
            tried = await asyncio.gather(*(self._gated(n) for n in claimed))
            attempted += sum(tried)
            # Stopping: the claimed batch was sent; the rest wait for the next start.
            if len(claimed) < self._batch or self._stopping.is_set():
                return attempted

    def _address(self, notice: Notice) -> tuple[str, apprise.NotifyFormat] | None:
        """The URL this notice goes to, and the body format its channel wants."""
        url = self._channels.url(notice.store, notice.channel)
        if url is None:
            return None
        if notice.recipient is None:
            return with_idempotency_key(url, notice.idempotency_key), apprise.NotifyFormat.TEXT
        if kind_of(notice.channel) == "customer_sms":
            return url.replace("{phone}", quote(notice.recipient)), apprise.NotifyFormat.TEXT
        store = self._channels.store(notice.store)
        reply = store.contact_email if store else ""
        return customer_url(url, notice.recipient, reply), apprise.NotifyFormat.HTML

    def _customer_night(self, notice: Notice) -> datetime | None:
        """When the customer's daytime next starts, if it is night for them now (None when
        it is day, or the notice has no shipment to say where the customer is)."""
        store = self._channels.store(notice.store)
        if notice.destination_country is None or store is None:
            return None
        zone = zone_for(notice.destination_country, notice.destination_postal_code)
        hours = store.notices
        now = self._clock.now()
        morning = daytime(now, zone, hours.customer_day_starts, hours.customer_day_ends)
        return None if morning == now else morning

    async def _gated(self, notice: Notice) -> bool:
        # Each send waits on a remote server; a few in flight overlap those waits (at 8,
        # customer email to a local SMTP server went from 15.6 to 27 a second).
        async with self._gate:
            return await self._deliver(notice)

    async def _deliver(self, notice: Notice) -> bool:
        """Send `notice`, or fail it; False when it was put back for the customer's day."""
        if kind_of(notice.channel) == writeback.KIND:
            await self._write_back(notice)
            return True
        if notice.audience is Audience.CUSTOMER:
            if not notice.recipient:
                await self._fail(notice, "the customer has no address for this channel",
                                 final=True)  # fmt: skip
                return True
            if (morning := self._customer_night(notice)) is not None:
                await self._store.mark_deferred(notice.id, morning)
                log.info("notice %d waits for the customer's daytime (%s)", notice.id,
                         morning.isoformat())  # fmt: skip
                return False
        address = self._address(notice)
        if address is None:
            await self._fail(notice, f"channel {notice.channel} is not configured", final=True)
            return True
        await self._send(notice, *address)
        return True

    async def _send(self, notice: Notice, url: str, body_format: apprise.NotifyFormat) -> None:
        plugins.ensure(url)  # its scheme's plugin only, not Apprise's every one
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            await self._fail(
                notice, f"channel {notice.channel} is not a valid Apprise URL", final=True
            )
            return
        if notice.recipient is not None:
            store = self._channels.store(notice.store)
            sign_as(plugin, store.name if store else notice.store)
        sender = apprise.Apprise()
        sender.add(plugin)
        html = body_format is apprise.NotifyFormat.HTML
        body = to_html(notice.title, notice.body) if html else notice.body
        with keyed(notice.idempotency_key):
            result = await sender.async_notify(body=body, title=notice.title,
                                               body_format=body_format,
                                               notify_type=notify_type(notice))  # fmt: skip
        if bool(result):
            await self._sent(notice)
            return
        reasons = ", ".join(f"{r.name}: {r.status.name}" for r in result) or result.status.name
        await self._fail(notice, f"{notice.channel} not delivered ({reasons})", final=False)

    async def _sent(self, notice: Notice) -> None:
        await self._store.mark_sent([notice.id], self._clock.now())
        self.sent += 1
        self._metrics.notices_sent.labels(kind_of(notice.channel)).inc()
        await self._recovered(notice)
        if self._on_sent is not None:
            self._on_sent(notice)

    async def _write_back(self, notice: Notice) -> None:
        """A Shopify fulfillment event (trackwatch.shopify.writeback: read before write, so
        a notice claimed again after a crash never writes the event twice)."""
        store = self._channels.store(notice.store)
        outcome = await writeback.deliver(store.shopify if store else None, notice, self._clock)
        if outcome.error is not None:
            await self._fail(notice, outcome.error, final=outcome.final)
            return
        if outcome.already:
            log.info("notice %d: its Shopify event was recorded before", notice.id)
        await self._sent(notice)

    async def _fail(self, notice: Notice, error: str, final: bool) -> None:
        dead = final or notice.attempts >= self._settings.notice_max_attempts
        now = self._clock.now()
        alarm = self._alarm(notice, error) if dead else None
        await self._store.mark_failed(notice.id, error, now, now + backoff(notice.attempts),
                                      alarm)  # fmt: skip
        self.failed += 1
        self._metrics.notices_failed.labels(kind_of(notice.channel)).inc()
        level = logging.ERROR if dead else logging.WARNING
        state = "dead-lettered" if dead else f"will retry (attempt {notice.attempts})"
        log.log(level, "notice %d %s: %s", notice.id, state, error)

    def _alarm(self, notice: Notice, error: str) -> StoreAlertOpen:
        """The one staff alert about a channel that dead-letters notices: told on the
        store's other staff channels, open until the channel delivers again."""
        now = self._clock.now()
        finding = Finding(
            rule=CHANNEL_FAILING,
            episode=now.isoformat(),
            severity=Severity.URGENT,
            audiences=(Audience.STAFF,),
            summary=f"Notices to {notice.channel} are not getting through",
            action=f"Check the {kind_of(notice.channel).replace('_', ' ')} settings; "
            "`trackwatch notices --dead` lists what was not sent",
            explanation={
                "first dead letter": f"notice {notice.id} ({notice.audience.value}, "
                f"{notice.event}) after {notice.attempts} attempts",
                "last error": error,
            },
        )
        drafts: tuple[NoticeDraft, ...] = ()
        if self._drafter is not None:
            drafts = self._drafter.for_store(
                notice.store, now, CHANNEL_FAILING, finding.severity, "opened",
                skip=notice.channel, alert=finding,
            )  # fmt: skip
        return StoreAlertOpen(notice.store, notice.channel, finding, drafts)

    async def _recovered(self, notice: Notice) -> None:
        alert_id = self._failing.pop((notice.store, notice.channel), None)
        if alert_id is None:
            return
        now = self._clock.now()
        drafts: tuple[NoticeDraft, ...] = ()
        if self._drafter is not None:
            drafts = self._drafter.for_store(
                notice.store, now, CHANNEL_FAILING, Severity.WARNING, "resolved",
                channel=notice.channel,
            )  # fmt: skip
        await self._store.resolve_store_alert(alert_id, "delivering again", drafts, now)
        log.info("notices to %s of store %s are delivered again", notice.channel, notice.store)
