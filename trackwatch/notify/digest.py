"""The daily staff digest: at `policy.staff.digest_at` on staff days (not the staff's public
holidays), one notice per staff channel listing the store's open staff alerts that ask
something of staff, oldest first: warnings and urgent ones, and info-level ones that still
want doing (a return's refund reminder is info until the refund is overdue, and chat's
floor is warning: the digest is how a store that reads chat alone hears of it). A heads-up
(a risky delivery) asks nothing but readiness: it was told when it opened and is not
repeated every morning. Customers' check-ins are not staff alerts. Nothing is sent when
nothing is listed.

Each digest's idempotency key names its store and local date, so a restart or a second pass
never sends it twice; a digest missed by more than half a day (the daemon was down) is
skipped rather than sent late.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from trackwatch.clock import Clock
from trackwatch.config import Settings, StoreSettings
from trackwatch.model import Alert, Audience, Severity
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter
from trackwatch.notify.pacing import staff_closed
from trackwatch.store.contract import DigestSource

STALE = timedelta(hours=12)
MAX_LINES = 50
# Info-level staff alerts that only warn of what may come, with nothing to do until it does.
HEADS_UPS = frozenset({"risky_delivery"})


def digest_slots(store: StoreSettings, after: datetime, before: datetime) -> list[datetime]:
    """The store's digest instants in (after, before]."""
    at = store.policy.staff.digest_time()
    if at is None or before <= after:
        return []
    zone, days = store.policy.staff_zone(), store.policy.staff.days()
    closed = staff_closed(store.policy)
    day: date = after.astimezone(zone).date()
    slots = []
    while (slot := datetime.combine(day, at, tzinfo=zone)) <= before:
        if slot > after and day.weekday() in days and not closed(day):
            slots.append(slot)
        day += timedelta(days=1)
    return slots


def next_slot(store: StoreSettings, now: datetime) -> datetime | None:
    # Three weeks: a staff week with a run of holidays (Christmas to New Year) still has one.
    found = digest_slots(store, now, now + timedelta(days=22))
    return found[0] if found else None


def listed(alert: Alert) -> bool:
    """Whether the digest lists an open alert: a staff alert that asks something of them
    (every one above info level; at info, all but heads-ups)."""
    if Audience.STAFF not in alert.audiences:
        return False
    return alert.severity is not Severity.INFO or alert.rule not in HEADS_UPS


def line(alert: Alert, order: str | None) -> str:
    subject = f"order {order}" if order else alert.subject or "store"
    return f"- {alert.rule.replace('_', ' ')} · {subject} · {alert.summary} " \
           f"(open since {alert.opened_at:%d %b})"  # fmt: skip


class Digests:
    def __init__(
        self, store: DigestSource, clock: Clock, settings: Settings, channels: ChannelDirectory,
        drafter: Drafter,
    ) -> None:  # fmt: skip
        self._store = store
        self._clock = clock
        self._done: datetime = clock.now() - STALE
        self.configure(settings, channels, drafter)

    def configure(self, settings: Settings, channels: ChannelDirectory, drafter: Drafter) -> None:
        self._settings = settings
        self._channels = channels
        self._drafter = drafter

    def _stores(self) -> list[tuple[str, StoreSettings]]:
        return [(sid, s) for sid, s in self._settings.stores.items()
                if self._channels.channels(sid, Audience.STAFF, Severity.URGENT)]  # fmt: skip

    async def next_due(self) -> datetime | None:
        now = self._clock.now()
        slots = [s for _, store in self._stores() if (s := next_slot(store, now)) is not None]
        return min(slots, default=None)

    async def run_once(self) -> int:
        """Enqueue the digests due since the last pass; returns how many notices."""
        now = self._clock.now()
        since, self._done = max(self._done, now - STALE), now
        count = 0
        for store_id, store in self._stores():
            for slot in digest_slots(store, since, now):
                count += await self._digest(store_id, store, slot)
        return count

    async def _digest(self, store_id: str, store: StoreSettings, slot: datetime) -> int:
        alerts = [(alert, order) for alert, order in await self._store.open_alerts_of_store(store_id)
                  if listed(alert)]  # fmt: skip
        if not alerts:
            return 0
        lines = [line(alert, order) for alert, order in alerts[:MAX_LINES]]
        if len(alerts) > MAX_LINES:
            lines.append(f"- and {len(alerts) - MAX_LINES} more: `trackwatch alerts`")
        local: date = slot.astimezone(store.policy.staff_zone()).date()
        # Urgent, so that every staff channel carries it and chat does not hold it back.
        now = self._clock.now()
        drafts = self._drafter.for_store(
            store_id, now, "digest", Severity.URGENT, "daily", key=f"digest-{store_id}-{local}",
            lines=lines, count=len(alerts), day=local,
        )  # fmt: skip
        await self._store.enqueue(drafts, now)
        return len(drafts)
