"""The poll loop's work: take due shipments, ask their carrier in batches, store the answers.

Due shipments come nearest deadline first, and each carrier's quota decides how many of
them this pass may ask about (`_within_budget`); the rest wait for the window to free up.
Each carrier gets a small pool of workers (its `max_in_flight`); a failing carrier stops
being called for the rest of the pass and its shipments are rescheduled, not marked as
anything, and a 429 parks the carrier. Carrier health is logged on change only.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from carriers import Carrier, Query
from trackwatch.carrier_alarms import CarrierAlarms
from trackwatch.clock import Clock
from trackwatch.config import DaemonSettings
from trackwatch.errors import CarrierError, RateLimited
from trackwatch.metrics import Metrics
from trackwatch.model import Place, Shipment, TrackingResult
from trackwatch.quota import Quota
from trackwatch.scheduler import next_poll
from trackwatch.store import SqliteStore
from trackwatch.store.records import PollUpdate

log = logging.getLogger("trackwatch.poller")

# A poll due to verify a deadline this close may spend the last calls of a quota.
URGENT = timedelta(hours=1)


def query_for(shipment: Shipment) -> Query:
    destination = Place(country=shipment.destination_country,
                        postal_code=shipment.destination_postal_code or None)  # fmt: skip
    return Query(shipment.tracking_number, shipment.shipped_at.date(), destination)


class CarrierHealth:
    """Remembers which carriers are failing, so that state changes are logged once."""

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}

    def failed(self, carrier: str, error: CarrierError) -> None:
        if carrier not in self.failing:
            log.warning("%s failing: %s", carrier, error.message)
        self.failing[carrier] = error.message

    def succeeded(self, carrier: str) -> None:
        if self.failing.pop(carrier, None) is not None:
            log.info("%s recovered", carrier)


class Poller:
    def __init__(
        self,
        store: SqliteStore,
        carriers: Mapping[str, Carrier],
        clock: Clock,
        settings: DaemonSettings,
        workers: Mapping[str, int] | None = None,
        batch_limit: int = 2000,
        alarms: CarrierAlarms | None = None,
        quotas: Mapping[str, Quota] | None = None,
        metrics: Metrics | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self._store = store
        self._stopping = stopping or asyncio.Event()
        self._metrics = metrics or Metrics()
        self._carriers = carriers
        self._clock = clock
        self._settings = settings
        self._workers = workers or {}
        self._limit = batch_limit
        self.health = CarrierHealth()
        self._alarms = alarms
        self._quotas = quotas or {}
        self._parked: dict[str, datetime] = {}  # carrier: no calls before this (a 429)

    def configure(self, settings: DaemonSettings) -> None:
        self._settings = settings

    async def poll_due(self) -> int:
        """Poll every shipment that is due now; returns how many were polled."""
        now = self._clock.now()
        due = await self._store.due_shipments(now, self._limit)
        by_carrier: dict[str, list[Shipment]] = defaultdict(list)
        for shipment in due:
            by_carrier[shipment.carrier].append(shipment)
        await asyncio.gather(*(self._poll_carrier(c, s, now) for c, s in by_carrier.items()))
        return len(due)

    async def _poll_carrier(self, name: str, shipments: list[Shipment], now: datetime) -> None:
        carrier = self._carriers.get(name)
        if carrier is None:
            later = now + timedelta(hours=self._settings.pre_transit_poll_hours)
            await self._store.reschedule_polls([s.id or 0 for s in shipments], later)
            return
        size = max(1, carrier.batch_size)
        chosen, later = await self._within_budget(name, shipments, size, now)
        if len(chosen) < len(shipments):
            deferred = shipments[len(chosen) :]
            await self._store.reschedule_polls([s.id or 0 for s in deferred], later)
        queue: asyncio.Queue[list[Shipment]] = asyncio.Queue()
        for start in range(0, len(chosen), size):
            queue.put_nowait(chosen[start : start + size])
        failure: list[CarrierError] = []
        workers = max(1, self._workers.get(name, 4))
        await asyncio.gather(*(self._work(carrier, queue, failure) for _ in range(workers)))

    async def _within_budget(
        self, name: str, due: list[Shipment], size: int, now: datetime
    ) -> tuple[list[Shipment], datetime]:
        """The due shipments this pass may poll (a prefix: `due` comes nearest deadline
        first) and when to try the rest. A parked carrier polls nothing. Polls that verify
        a deadline within the hour may spend every call left; the others leave the quota's
        spare calls (token requests count too) and a call per batch of deadlines still to
        come in the window."""
        parked = self._parked.get(name)
        if parked is not None and parked > now:
            return [], parked
        quota = self._quotas.get(name)
        if quota is None:
            return due, now
        remaining = quota.remaining(now)
        soon = now + URGENT
        urgent = sum(1 for s in due if s.deadline_at is not None and s.deadline_at <= soon)
        urgent_calls = min(remaining, math.ceil(urgent / size))
        coming = await self._store.deadlines_ahead(name, now, quota.window_end(now))
        routine = remaining - urgent_calls - quota.spare - math.ceil(coming / size)
        calls = urgent_calls + max(0, routine)
        if calls * size >= len(due):
            return due, now
        retry = now + timedelta(minutes=self._settings.min_poll_minutes)
        if remaining - calls <= quota.spare:
            retry = max(retry, quota.frees_at(now, quota.spare))
        return due[: calls * size], retry

    async def _work(
        self, carrier: Carrier, queue: asyncio.Queue[list[Shipment]], failure: list[CarrierError]
    ) -> None:
        # Stopping: calls in flight finish and are stored; batches not yet asked about keep
        # their due time and are polled after the restart.
        while not queue.empty() and not self._stopping.is_set():
            batch = queue.get_nowait()
            if failure:
                await self._defer(batch, failure[0])
                continue
            try:
                results = await carrier.track([query_for(s) for s in batch])
            except CarrierError as exc:
                failure.append(exc)
                outcome = "rate_limited" if isinstance(exc, RateLimited) else "failed"
                self._metrics.polls.labels(carrier.name, outcome).inc(len(batch))
                self.health.failed(carrier.name, exc)
                if self._alarms is not None:
                    await self._alarms.failed(carrier.name, exc, (s.store for s in batch))
                await self._defer(batch, exc)
                continue
            self.health.succeeded(carrier.name)
            if self._alarms is not None:
                await self._alarms.succeeded(carrier.name)
            await self._store_results(batch, results)

    async def _store_results(
        self, batch: Sequence[Shipment], results: Mapping[str, TrackingResult]
    ) -> None:
        now = self._clock.now()
        updates = []
        missing = []
        for shipment in batch:
            result = results.get(shipment.tracking_number)
            if result is None:
                missing.append(shipment)
                continue
            self._metrics.polls.labels(shipment.carrier, result.outcome.value).inc()
            updates.append(
                PollUpdate(
                    shipment_id=shipment.id or 0,
                    polled_at=now,
                    next_poll_at=next_poll(result.status, now, self._settings),
                    result=result,
                )
            )
        if missing:
            self._metrics.polls.labels(missing[0].carrier, "unanswered").inc(len(missing))
            log.warning("%s: answer lacked %d requested numbers; polled again later",
                        missing[0].carrier, len(missing))  # fmt: skip
            later = now + timedelta(minutes=self._settings.min_poll_minutes)
            await self._store.reschedule_polls([s.id or 0 for s in missing], later)
        await self._store.apply_polls(updates)

    async def _defer(self, batch: Sequence[Shipment], error: CarrierError) -> None:
        wait = timedelta(minutes=self._settings.min_poll_minutes)
        if isinstance(error, RateLimited) and error.retry_after:
            wait = max(wait, timedelta(seconds=error.retry_after))
        later = self._clock.now() + wait
        if isinstance(error, RateLimited):
            # Back the whole carrier off, not just this batch: the next pass would hit the
            # same limit with other shipments.
            self._parked[error.carrier] = max(later, self._parked.get(error.carrier, later))
        await self._store.reschedule_polls([s.id or 0 for s in batch], later)
