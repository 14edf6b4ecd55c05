"""The poll loop's work: take due shipments, ask their carrier in batches, store the answers.

Due shipments come nearest deadline first. They are cut into batches that never hold one
tracking number twice (two stores may watch the same number: an answer keyed by number
must belong to exactly one shipment), and each carrier's quota decides how many batches this
pass may send (`_within_budget`); the rest wait for the window to free up. Each carrier gets
a small pool of workers (its `max_in_flight`).

What a failed call does depends on whose fault it is (`CarrierState` keeps the carrier's):
- a 429 parks the carrier; an unreachable carrier or refused credentials back it off
  exponentially, then one batch probes it; its shipments keep their state and wait;
- an answer that cannot be used for the numbers asked (malformed, refused, a number missing
  from it, or a fault of ours reading it) backs off those shipments alone, with the reason
  noted on each, and the other batches go on;
- a shipment of a carrier that is not enabled waits a day, and staff are told once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from carriers import Carrier, Query
from carriers.assemble import SCAN_AHEAD, without_scans_after
from carriers.names import label
from trackwatch.accounts import carrier_of, key_for, store_of
from trackwatch.carrier_alarms import CarrierAlarms
from trackwatch.carrier_state import CarrierState
from trackwatch.clock import Clock
from trackwatch.config import DaemonSettings
from trackwatch.errors import CarrierError, MalformedResponse, RateLimited
from trackwatch.metrics import Metrics
from trackwatch.model import Outcome, Place, Shipment, Status, TrackingResult
from trackwatch.quarantine import Quarantine
from trackwatch.quota import Quota
from trackwatch.scheduler import next_poll
from trackwatch.store.contract import PollQueue
from trackwatch.store.records import PollFailure, PollUpdate, Unreadable

log = logging.getLogger("trackwatch.poller")

# A poll due to verify a deadline this close may spend the last calls of a quota.
URGENT = timedelta(hours=1)
# A shipment whose answers keep failing is asked again at doubling intervals up to this.
MAX_SHIPMENT_BACKOFF = timedelta(days=1)
NOT_ENABLED_WAIT = timedelta(days=1)
MAX_MISSES = 5  # unusable answers in a row (about 8 hours with back-off) before set aside

Batch = list[Shipment]
# Answers held before one transaction writes them all: DHL and UPS answer one number a call,
# and a transaction per answer cost SQLite more than the rest of the poll did.
FLUSH_AT = 100


def query_for(shipment: Shipment) -> Query:
    destination = Place(country=shipment.destination_country,
                        postal_code=shipment.destination_postal_code or None)  # fmt: skip
    return Query(shipment.tracking_number, shipment.shipped_at.date(), destination)


def in_batches(shipments: Sequence[Shipment], size: int) -> list[Batch]:
    """Batches of at most `size`, in the given order, none holding a number twice."""
    batches: list[Batch] = []
    numbers: list[set[str]] = []
    first_open = 0  # every batch before it is full
    for shipment in shipments:
        number = shipment.tracking_number
        index = first_open
        while index < len(batches) and (len(batches[index]) >= size or number in numbers[index]):
            index += 1
        if index == len(batches):
            batches.append([])
            numbers.append(set())
        batches[index].append(shipment)
        numbers[index].add(number)
        while first_open < len(batches) and len(batches[first_open]) >= size:
            first_open += 1
    return batches


def note_of(carrier: str, result: TrackingResult) -> str | None:
    """What `show` and `list` say about the carrier's answer, beyond its scans."""
    detail = f": {result.message}" if result.message else ""
    if result.outcome is Outcome.NO_INFO_YET:
        return f"{label(carrier)} does not know this number yet{detail}"
    if result.outcome is Outcome.INVALID:
        return f"{label(carrier)} calls this number invalid{detail}"
    return result.message if result.ignored_events else None


def _nothing(shipment: Shipment) -> TrackingResult:
    return TrackingResult(tracking_number=shipment.tracking_number, outcome=Outcome.NO_INFO_YET)


def _ids(shipments: Iterable[Shipment]) -> list[int]:
    return [s.id or 0 for s in shipments]


class _Answers:
    """Poll answers written in batches of FLUSH_AT, not one transaction per call; whatever is
    held is written before the pass ends, so the rules loop, which runs after it, sees every
    answer. A crash loses at most the held answers: their shipments' claims run out and
    they are polled again."""

    def __init__(self, store: PollQueue) -> None:
        self._store = store
        self._held: list[PollUpdate] = []
        self._lock = asyncio.Lock()

    async def add(self, updates: Iterable[PollUpdate]) -> None:
        self._held.extend(updates)
        if len(self._held) >= FLUSH_AT:
            await self.flush(whole=False)

    async def flush(self, whole: bool = True) -> None:
        """Write what is held; with `whole` False only a full batch: a worker that waited
        for another's write finds what it came to write taken, and leaves the few answers
        since for the next full batch (or the pass's end) instead of a small transaction."""
        async with self._lock:
            if not whole and len(self._held) < FLUSH_AT:
                return
            held, self._held = self._held, []
            if held:
                await self._store.apply_polls(held)


class Poller:
    def __init__(
        self,
        store: PollQueue,
        carriers: Mapping[str, Carrier],
        clock: Clock,
        settings: DaemonSettings,
        workers: Mapping[str, int] | None = None,
        batch_limit: int = 2000,
        alarms: CarrierAlarms | None = None,
        quotas: Mapping[str, Quota] | None = None,
        metrics: Metrics | None = None,
        stopping: asyncio.Event | None = None,
        health: CarrierState | None = None,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._store = store
        self._stopping = stopping or asyncio.Event()
        self._metrics = metrics or Metrics()
        self._carriers = carriers
        self._clock = clock
        self._settings = settings
        self._workers = workers or {}
        self._limit = batch_limit
        self.health = health or CarrierState(settings)
        self._alarms = alarms
        self._quotas = quotas or {}
        self._quarantine = quarantine or Quarantine(store, clock)
        self._not_enabled_told: dict[str, set[str]] = {}  # carrier -> stores told
        self._answers = _Answers(store)
        # Carriers whose push is on: their polls may read again scans a push stored first.
        self.pushed: frozenset[str] = frozenset()

    def configure(self, settings: DaemonSettings) -> None:
        self._settings = settings
        self.health.configure(settings)

    async def poll_due(self) -> int:
        """Poll every shipment that is due now; returns how many were polled."""
        now = self._clock.now()
        await self.health.refresh()
        due = await self._store.due_shipments(now, self._limit)
        await self._quarantine.set_aside(due.unreadable, "read")
        by_carrier: dict[str, list[Shipment]] = defaultdict(list)  # by account key
        for shipment in due.shipments:
            by_carrier[key_for(shipment, self._carriers)].append(shipment)
        # A TaskGroup, not gather: if one carrier's pass fails, the others are cancelled
        # (their shipments keep their due time) instead of running on into the next pass.
        try:
            async with asyncio.TaskGroup() as group:
                for carrier, shipments in by_carrier.items():
                    group.create_task(self._poll_carrier(carrier, shipments, now))
        finally:
            await self._answers.flush()  # what was asked and answered is kept, come what may
        return len(due.shipments)

    async def _poll_carrier(self, name: str, shipments: list[Shipment], now: datetime) -> None:
        carrier = self._carriers.get(name)
        if carrier is None:
            await self._not_enabled(name, shipments, now)
            return
        blocked = self.health.blocked_until(name, now)
        if blocked is not None:
            await self._store.reschedule_polls(_ids(shipments), blocked)
            return
        batches = in_batches(shipments, max(1, carrier.batch_size))
        calls, later = await self._within_budget(name, batches, now)
        chosen, deferred = batches[:calls], [s for b in batches[calls:] for s in b]
        if chosen and self.health.is_failing(name):
            # A failing carrier gets one probe; the rest follow only if it answers.
            probe, chosen = chosen[0], chosen[1:]
            if not await self._send(name, carrier, probe):
                deferred += [s for b in chosen for s in b]
                chosen = []
                later = self.health.blocked_until(name, self._clock.now()) or later
        if deferred:
            await self._store.reschedule_polls(_ids(deferred), later)
        unasked = await self._send_all(name, carrier, chosen)
        if unasked:
            await self._store.release_polls(_ids(unasked))

    async def _send_all(self, name: str, carrier: Carrier, chosen: list[Batch]) -> Batch:
        """Send the batches by the carrier's workers, a call each taken from its quota in one
        ledger transaction; returns the shipments not asked about (the daemon is stopping:
        they go back, due as they were)."""
        queue: asyncio.Queue[Batch] = asyncio.Queue()
        for batch in chosen:
            queue.put_nowait(batch)
        quota = self._quotas.get(name)
        if quota is not None:
            await quota.hold(len(chosen))
        try:
            workers = max(1, self._workers.get(name, 4))
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(self._work(name, carrier, queue))
        finally:
            if quota is not None:
                await quota.release()
        return [s for _ in range(queue.qsize()) for s in queue.get_nowait()]

    async def _within_budget(
        self, name: str, batches: list[Batch], now: datetime
    ) -> tuple[int, datetime]:
        """How many batches this pass may send (they come nearest deadline first) and when
        to try the rest. Batches that verify a deadline within the hour may spend every call
        left; the others leave the quota's spare calls (token requests count too) and a call
        per batch of deadlines still to come in the window."""
        quota = self._quotas.get(name)
        if quota is None:
            return len(batches), now
        spent = await quota.spent(now)
        remaining = spent.remaining
        soon = now + URGENT
        urgent = sum(1 for b in batches if any(s.deadline_at and s.deadline_at <= soon for s in b))
        urgent_calls = min(remaining, urgent)
        size = max(len(b) for b in batches) if batches else 1
        coming = await self._store.deadlines_ahead(carrier_of(name), now, quota.window_end(now),
                                                   store_of(name))  # fmt: skip
        routine = remaining - urgent_calls - quota.spare - math.ceil(coming / size)
        calls = urgent_calls + max(0, routine)
        if calls >= len(batches):
            return len(batches), now
        retry = now + timedelta(minutes=self._settings.min_poll_minutes)
        if remaining - calls <= quota.spare:
            retry = max(retry, spent.frees_at(quota.spare))
        return calls, retry

    async def _work(self, key: str, carrier: Carrier, queue: asyncio.Queue[Batch]) -> None:
        # Stopping: calls in flight finish and are stored; batches not yet asked about keep
        # their due time and are polled after the restart.
        while not queue.empty() and not self._stopping.is_set():
            batch = queue.get_nowait()
            blocked = self.health.blocked_until(key, self._clock.now())
            if blocked is not None:  # another worker's call failed meanwhile
                await self._store.reschedule_polls(_ids(batch), blocked)
                continue
            await self._send(key, carrier, batch)

    async def _send(self, key: str, carrier: Carrier, batch: Batch) -> bool:
        """Ask the carrier account `key` about one batch and store what it says; False when
        the account itself is in trouble (the batch then waits for it)."""
        name = carrier.name
        try:
            results = await carrier.track([query_for(s) for s in batch])
        except RateLimited as exc:
            self._metrics.polls.labels(name, "rate_limited").inc(len(batch))
            parked = await self.health.rate_limited(key, exc, self._clock.now())
            await self._store.reschedule_polls(_ids(batch), parked)
            return False
        except CarrierError as exc:
            self._metrics.polls.labels(name, "failed").inc(len(batch))
            whole = exc.whole_carrier
            until = await self.health.failed(key, exc, self._clock.now()) if whole else None
            if self._alarms is not None:
                repeats = self.health.repeats(key) if whole else 1
                await self._alarms.failed(key, exc, (s.store for s in batch), repeats)
            if until is not None:
                await self._store.reschedule_polls(_ids(batch), until)
                return False
            await self._unusable(name, batch, exc)
            return True
        except Exception as exc:  # a fault of ours reading this answer: the others go on
            log.exception("%s: reading the answer for %d number(s) failed", name, len(batch))
            error = MalformedResponse(name, f"its answer could not be read ({type(exc).__name__})")
            await self._unusable(name, batch, error)
            return True
        await self.health.succeeded(key, self._clock.now())
        if self._alarms is not None:
            await self._alarms.succeeded(key)
        await self._store_results(name, batch, results)
        return True

    async def _store_results(
        self, name: str, batch: Sequence[Shipment], results: Mapping[str, TrackingResult]
    ) -> None:
        now = self._clock.now()
        updates = []
        missing = []
        for shipment in batch:
            result = results.get(shipment.tracking_number)
            if result is None:
                missing.append(shipment)
                continue
            result = without_scans_after(result, now + SCAN_AHEAD)
            self._metrics.polls.labels(name, result.outcome.value).inc()
            updates.append(PollUpdate(shipment.id or 0, now, next_poll(result.status, now,
                                      self._settings), result, note_of(name, result),
                                      name in self.pushed))  # fmt: skip
        if missing:
            # The carrier answered and said nothing of these numbers: as good as "no
            # information yet", so the rules judge them (not picked up, say) on it.
            self._metrics.polls.labels(name, "unanswered").inc(len(missing))
            log.info("%s: its answer lacked %d of the numbers asked; recorded as no "
                     "information yet", name, len(missing))  # fmt: skip
            note = f"{label(name)}'s answer did not include this number"
            updates += [PollUpdate(s.id or 0, now, next_poll(Status.UNKNOWN, now, self._settings),
                                   _nothing(s), note) for s in missing]  # fmt: skip
        await self._answers.add(updates)

    async def _unusable(self, name: str, batch: Sequence[Shipment], error: CarrierError) -> None:
        """The carrier answered, but nothing usable for these shipments: each waits longer
        after each such answer and says why in `show`; after MAX_MISSES in a row it is set
        aside (staff told), since no poll of it ever gives the rules anything to go on."""
        now = self._clock.now()
        gap = timedelta(minutes=self._settings.min_poll_minutes)
        note = f"{label(name)}: {error.message}"
        hopeless = [s for s in batch if s.misses + 1 >= MAX_MISSES]
        failures = [
            PollFailure(s.id or 0, now + min(MAX_SHIPMENT_BACKOFF, gap * 2 ** min(s.misses, 20)))
            for s in batch if s not in hopeless
        ]  # fmt: skip
        await self._store.poll_failed(failures, note)
        await self._quarantine.set_aside(
            [Unreadable(s.id or 0, s.store, f"{note} ({MAX_MISSES} answers in a row)")
             for s in hopeless], "polled")  # fmt: skip
        log.warning("%s: no usable answer for %d number(s) (%s); asked again later with "
                    "back-off", name, len(batch), error.message)  # fmt: skip

    async def _not_enabled(self, name: str, shipments: Sequence[Shipment], now: datetime) -> None:
        """Shipments of a carrier that is not enabled: polled again in a day (enabling it
        takes a restart), and staff of each store told once."""
        if name not in self._not_enabled_told:
            log.error("%d shipment(s) of %s are not polled: the carrier is not enabled in the "
                      "configuration", len(shipments), name)  # fmt: skip
        untold = {s.store for s in shipments} - self._not_enabled_told.get(name, set())
        if untold and self._alarms is not None:
            await self._alarms.not_enabled(name, untold)
        self._not_enabled_told.setdefault(name, set()).update(untold)
        await self._store.reschedule_polls(_ids(shipments), now + NOT_ENABLED_WAIT)
