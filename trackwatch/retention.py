"""The retention pass: once a day (and at start) the daemon deletes what is past its use
under the `[retention]` settings, in batches of short transactions so that no loop waits on
the database for long, and logs one line of counts (never a name or an address).

What is never touched: a shipment still polled or judged, one with an open alert, a notice
to send or a deadline to judge, anything a loop holds a claim on, and a pending notice (see
trackwatch.store.contract.Retention for each query's terms).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from trackwatch.clock import Clock
from trackwatch.config import RetentionSettings
from trackwatch.store.contract import Retention
from trackwatch.store.records import Purged

log = logging.getLogger("trackwatch.retention")

DAY = timedelta(days=1)
ROWS_PER_SHIPMENT = 10  # a finished shipment goes with its events, alerts and notices
LOGGED = ("shipments", "events", "alerts", "notices", "bodies", "receipts", "calls")


async def drain(batch: Callable[[], Awaitable[Purged]], full: Callable[[Purged], bool]) -> Purged:
    """Run `batch` (one transaction) until one comes back short of full."""
    total = Purged()
    while True:
        done = await batch()
        total += done
        if not full(done):
            return total


async def purge(store: Retention, settings: RetentionSettings, now: datetime) -> Purged:
    """One whole retention pass at `now`: what it deleted and blanked."""
    rows = settings.batch_rows
    total = Purged()
    if (bodies := settings.kept(settings.notice_bodies_days)) is not None:
        total += await drain(lambda: _bodies(store, now - bodies, rows), lambda p: p.bodies >= rows)
    if (finished := settings.kept(settings.finished_days)) is not None:
        per = max(1, rows // ROWS_PER_SHIPMENT)
        total += await drain(lambda: store.purge_finished(now - finished, now, per),
                             lambda p: p.shipments >= per)  # fmt: skip
        total += await drain(lambda: store.purge_store_alerts(now - finished, rows),
                             lambda p: max(p.alerts, p.notices) >= rows)  # fmt: skip
    total += await drain(lambda: store.purge_bookkeeping(now, rows),
                         lambda p: max(p.receipts, p.calls) >= rows)  # fmt: skip
    return total


async def _bodies(store: Retention, before: datetime, rows: int) -> Purged:
    return Purged(bodies=await store.blank_notice_bodies(before, rows))


class RetentionPass:
    """The daemon's daily pass; due at start, then a day after each pass that completed (one
    that failed is tried again at the loop's next wake-up)."""

    def __init__(self, store: Retention, clock: Clock, settings: RetentionSettings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._due = clock.now()
        self.ran = asyncio.Event()  # set after each pass (whoever waits for one clears it)

    def configure(self, settings: RetentionSettings) -> None:
        self._settings = settings

    async def next_due(self) -> datetime | None:
        return self._due

    async def run_once(self) -> Purged | None:
        """The pass, when due (None when not)."""
        now = self._clock.now()
        if now < self._due:
            return None
        done = await purge(self._store, self._settings, now)
        self._due = now + DAY
        counts = done.counts()
        log.info("retention pass: %s", ", ".join(f"{counts[k]} {k}" for k in LOGGED))
        self.ran.set()
        return done
