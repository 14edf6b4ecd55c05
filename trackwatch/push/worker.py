"""The push inbox's worker: claims pushes the receivers stored, reads each with its carrier's
reader, merges the scans into the shipments they belong to (as a poll would store them, but
without counting as a poll), and marks each push done.

Idempotent by construction: a scan already stored is not stored again, the status is worked
out over every scan by their instants (so pushes arriving out of order land the same), and a
merge made on a shipment that a poll changed meanwhile is not written: the push stays in the
inbox and is merged again on fresh data. A batch whose merge fails (a row of one shipment
unreadable) is merged push by push, so that one push holds back no other; one failing
alone is kept as failed, with why, at its MAX_ATTEMPTS-th claim.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from carriers.base import zone_of
from carriers.push import PUSHES_AFTER_DELIVERY, Control, MalformedPush, PushReader
from trackwatch.clock import Clock
from trackwatch.config import Settings
from trackwatch.model import Place, TrackingResult
from trackwatch.push.merge import merge
from trackwatch.store.contract import PushStore
from trackwatch.store.push_records import PushDone, PushTarget, PushUpdate, StoredPush
from trackwatch.store.transient import is_transient

log = logging.getLogger("trackwatch.push")
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5  # a push whose merge keeps failing is kept as failed, with why
Controls = Callable[[str, Control], Awaitable[None]]


@dataclass
class _Batch:
    """One pass's pushes: the readable ones' bodies by carrier, the numbers they name, and
    the pushes done (or failed) so far."""

    bodies: dict[str, list[StoredPush]] = field(default_factory=lambda: defaultdict(list))
    numbers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_shipment: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    done: list[PushDone] = field(default_factory=list)
    # Push id -> the numbers of the subscription that verified it (USPS, DHL): one
    # subscription's secret moves only its own parcels.
    bound: dict[int, frozenset[str]] = field(default_factory=dict)
    named: dict[int, set[str]] = field(default_factory=dict)  # push id -> numbers to merge

    def alone(self, done: PushDone) -> _Batch:
        """One push of this batch as a batch of its own (read already: no handshake twice)."""
        one = _Batch(done=[done])
        for carrier, pushes in self.bodies.items():
            for push in pushes:
                if push.id == done.push_id:
                    one.bodies[carrier].append(push)
                    one.numbers[carrier] |= self.named[push.id]
        if done.push_id in self.bound:
            one.bound[done.push_id] = self.bound[done.push_id]
        return one


class PushWorker:
    def __init__(self, store: PushStore, clock: Clock, settings: Settings,
                 readers: Mapping[str, PushReader], controls: Controls | None = None,
                 batch: int = 500) -> None:  # fmt: skip
        self._store = store
        self._clock = clock
        self._settings = settings
        self._readers = readers
        self._controls = controls
        self._batch = batch

    def configure(self, settings: Settings) -> None:
        self._settings = settings

    async def run_once(self) -> int:
        """Work the pushes waiting; returns how many shipments they changed."""
        now = self._clock.now()
        pushes = await self._store.claim_pushes(now, now + LEASE, self._batch)
        if not pushes:
            return 0
        batch = _Batch()
        for push in pushes:
            await self._read(push, batch)
        try:
            return await self._merge(batch, now)
        except Exception as exc:  # one push, or a row of its shipment, the merge cannot take
            log.warning("push: %d push(es) could not be merged together (%s); each alone",
                        len(batch.done), type(exc).__name__)  # fmt: skip
            return await self._each_alone(batch, now)

    async def _merge(self, batch: _Batch, now: datetime) -> int:
        updates: list[PushUpdate] = []
        for carrier, stored in batch.bodies.items():
            updates += await self._merged(carrier, stored, batch)
        stale = await self._store.apply_pushes(updates)
        retry = {pid for sid in stale for pid in batch.by_shipment[sid]}
        await self._store.finish_pushes([d for d in batch.done if d.push_id not in retry], now)
        if stale:
            log.info("push: %d shipment(s) changed while merging; merged again later", len(stale))
        return len(updates) - len(stale)

    async def _each_alone(self, batch: _Batch, now: datetime) -> int:
        """A batch that failed, push by push, so that one push cannot hold back the others:
        one failing alone is tried again at its next claim, and kept as failed (with why)
        at its MAX_ATTEMPTS-th; a store error that says nothing of the push (locked, a
        deadlock: trackwatch.store.transient) counts against none."""
        changed = 0
        for done in batch.done:
            alone = batch.alone(done)
            try:
                changed += await self._merge(alone, now)
            except Exception as exc:
                failing = [p for found in alone.bodies.values() for p in found]
                # Finishing a push failed, or the store is busy: the store, not the push.
                if not failing or is_transient(exc):
                    raise
                await self._failed(failing[0], exc, now)
        return changed

    async def _failed(self, push: StoredPush, exc: Exception, now: datetime) -> None:
        # The exception's type only: its text may quote a row (a name, an address).
        why = type(exc).__name__
        if push.attempts < MAX_ATTEMPTS:
            log.warning("push %d (%s) could not be merged (%s); trying again", push.id,
                        push.carrier, why)  # fmt: skip
            return
        log.warning("push %d (%s) could not be merged %d times (%s); kept as failed", push.id,
                    push.carrier, push.attempts, why)  # fmt: skip
        await self._store.finish_pushes([PushDone(push.id, f"{why}: {exc}"[:500])], now)

    async def _read(self, push: StoredPush, batch: _Batch) -> None:
        """Read a push for the numbers it names, and act on its controls (a handshake)."""
        reader = self._readers.get(push.carrier)
        if reader is None:
            batch.done.append(PushDone(push.id, f"no reader for carrier {push.carrier!r}"))
            return
        try:
            message = reader(push.body.encode())
            for control in message.controls:
                if self._controls is not None:
                    await self._controls(push.carrier, control)
        except MalformedPush as exc:  # verified, then unreadable: keep it, with why
            log.warning("push %d (%s) cannot be read: %s", push.id, push.carrier, exc)
            batch.done.append(PushDone(push.id, f"{exc.field}: {exc.reason}"))
            return
        except Exception as exc:  # a handshake call failed: try again, a few times
            if push.attempts < MAX_ATTEMPTS:
                log.warning("push %d (%s): %s; trying again", push.id, push.carrier, exc)
                return
            batch.done.append(PushDone(push.id, f"{type(exc).__name__}: {exc}"[:500]))
            return
        numbers = {r.tracking_number for r in message.results}
        if message.subscription_id:
            rows = await self._store.subscriptions_by_id(push.carrier, message.subscription_id)
            batch.bound[push.id] = frozenset(r.tracking_number for r in rows)
            numbers &= batch.bound[push.id]
        if numbers:
            batch.bodies[push.carrier].append(push)
            batch.numbers[push.carrier].update(numbers)
            batch.named[push.id] = numbers
        batch.done.append(PushDone(push.id))

    async def _merged(self, carrier: str, pushes: list[StoredPush], batch: _Batch
                      ) -> list[PushUpdate]:  # fmt: skip
        """Each watched shipment's update from this carrier's pushes, read again with each
        parcel's destination zone (for dates a carrier gives without one)."""
        targets = await self._store.push_targets(carrier, sorted(batch.numbers[carrier]))
        zones = {n: zone_of(Place(country=t.destination_country,
                                  postal_code=t.destination_postal_code or None), UTC)
                 for n, found in targets.items() for t in found[:1]}  # fmt: skip
        results: dict[str, list[TrackingResult]] = defaultdict(list)
        sources: dict[str, set[int]] = defaultdict(set)
        for push in pushes:
            bound = batch.bound.get(push.id)
            for result in self._readers[carrier](push.body.encode(), zones).results:
                if bound is not None and result.tracking_number not in bound:
                    continue
                results[result.tracking_number].append(result)
                sources[result.tracking_number].add(push.id)
        settings = self._settings.carriers.get(carrier).push
        after = carrier in PUSHES_AFTER_DELIVERY
        updates = []
        for number, found in results.items():
            for target in targets.get(number, []):
                update = merge(target, found, self._clock.now(), settings, after)
                if update is not None:
                    updates.append(update)
                    batch.by_shipment[target.shipment_id] |= sources[number]
        return updates


__all__ = ["LEASE", "PushTarget", "PushWorker"]
