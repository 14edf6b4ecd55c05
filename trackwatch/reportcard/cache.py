"""The console's report card, read once and shown many times.

Counting a month of 100,000 parcels takes the database a second or two (and the promise of
each parcel without a promised date is worked out in Python), far over what a page may take.
A report card describes weeks of parcels; figures a few minutes old describe them as well.
So every store's tallies for a period are read once and kept (trackwatch.reportcard.figures:
per store, so the operator's card and each store's staff's share one reading), and:

- a period read less than `fresh` ago is served as it is;
- an older one is served as it is while one reading replaces it in the background, so no
  person waits for a count once a period has been read (stale-while-revalidate);
- a period never read is read while the person waits, once however many ask at the moment;
- the daemon reads the default period (the last 30 days) as it starts (`warm`), so the
  page's first view is served from memory too.

The page says when its figures were read. `trackwatch report` in a terminal always counts
afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from trackwatch.clock import Clock
from trackwatch.reportcard.figures import Card, Promise, Tallies, card_from, tally
from trackwatch.store.contract import ReportSource
from trackwatch.store.lanes import Period

log = logging.getLogger(__name__)
FRESH = timedelta(minutes=5)
KEPT = 16  # periods kept; the least recently shown goes first
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Reading:
    tallies: Tallies
    read_at: datetime


@dataclass(frozen=True)
class Shown:
    card: Card
    read_at: datetime


class CardCache:
    def __init__(
        self,
        source: ReportSource,
        clock: Clock,
        origins: Callable[[], Mapping[str, str]],
        promise: Callable[[], Promise],
        fresh: timedelta = FRESH,
    ) -> None:
        self._source, self._clock, self._fresh = source, clock, fresh
        self._origins, self._promise = origins, promise
        self._readings: OrderedDict[Span, Reading] = OrderedDict()
        self._reading: dict[Span, asyncio.Task[Reading]] = {}

    async def card(self, period: Period) -> Shown:
        """The card of `period` from the latest reading of its days (see the module)."""
        span = (period.since, period.until)
        reading = self._readings.get(span)
        if reading is None:
            # Shielded: a person who leaves must not cancel the reading others wait for.
            reading = await asyncio.shield(self._read(span))
        else:
            self._readings.move_to_end(span)
        if self._clock.now() - reading.read_at >= self._fresh:
            self._read(span)  # the next person sees it; this one is not kept waiting
        return Shown(card_from(period, reading.tallies), reading.read_at)

    def warm(self, period: Period) -> asyncio.Task[Reading]:
        """Read `period` in the background (the daemon's first page view is then served
        from memory)."""
        return self._read((period.since, period.until))

    def _read(self, span: Span) -> asyncio.Task[Reading]:
        """One reading of `span` at a time, shared by whoever asks while it runs."""
        task = self._reading.get(span)
        if task is None:
            task = asyncio.create_task(self._count(span), name=f"report card {span[0]:%F}")
            self._reading[span] = task
            task.add_done_callback(lambda done: self._finished(span, done))
        return task

    def _finished(self, span: Span, task: asyncio.Task[Reading]) -> None:
        self._reading.pop(span, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            # A person waiting sees the error; a background refresh keeps the old figures.
            log.warning("report card: reading failed: %s", type(error).__name__)

    async def close(self) -> None:
        """Stop any reading under way (the daemon is stopping)."""
        tasks = list(self._reading.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _keep(self, span: Span, reading: Reading) -> None:
        self._readings[span] = reading
        self._readings.move_to_end(span)
        while len(self._readings) > KEPT:
            self._readings.popitem(last=False)

    async def _count(self, span: Span) -> Reading:
        read_at = self._clock.now()
        period = Period(*span)  # every store: each person's card is cut from it
        counts = await self._source.lane_counts(period)
        spreads = await self._source.lane_spreads(period)
        unpromised = await self._source.unpromised_deliveries(period)
        tallies = tally(counts, spreads, unpromised, self._origins(), self._promise())
        reading = Reading(tallies, read_at)
        self._keep(span, reading)
        return reading
