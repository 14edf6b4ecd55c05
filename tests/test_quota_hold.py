"""A poll pass takes its daily-quota calls in one ledger transaction (Quota.hold), not one
per call (issue 21: a transaction per DHL call cost more than the rest of the poll). The
ledger must still never let the daemons together exceed a quota, and calls held and not made
are given back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from tests.conftest import both_backends
from trackwatch.clock import FrozenClock
from trackwatch.errors import RateLimited
from trackwatch.quota import Quota
from trackwatch.store import Store, open_store

pytestmark = both_backends
DAY = datetime(2026, 12, 7, tzinfo=UTC)


@asynccontextmanager
async def _stores(database: str, count: int) -> AsyncIterator[list[Store]]:
    """Closed even when the test fails (an open PostgreSQL pool holds up the session's end)."""
    stores = [await open_store(database) for _ in range(count)]
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


async def _made(quota: Quota, calls: int) -> int:
    made = 0
    for _ in range(calls):
        try:
            await quota.take()
        except RateLimited:
            continue
        made += 1
    return made


async def test_passes_of_two_daemons_holding_calls_at_once_never_exceed_the_quota(
    database: str,
) -> None:
    """Four passes on two connections hold 25 calls each of 60 at once and try 10 each:
    the holds never add up past 60 (the pass that got none finds the day spent), what was
    not made is given back, and the calls left are exactly the quota less those made."""
    clock = FrozenClock(DAY + timedelta(hours=15))
    async with _stores(database, 2) as (one, two):
        quotas = [Quota("dhl", 60, "day", clock, store) for store in (one, two, one, two)]
        await asyncio.gather(*(q.hold(25) for q in quotas))
        assert sum(q._held for q in quotas) == 60
        made = await asyncio.gather(*(_made(q, 10) for q in quotas))
        await asyncio.gather(*(q.release() for q in quotas))
        assert sorted(made) == [0, 10, 10, 10]
        assert (await quotas[0].spent()).count == 30
        assert len(await one.calls_since("dhl", DAY)) == 30
        # What was given back is there to be taken, and no more.
        assert await _made(quotas[1], 40) == 30
        assert (await quotas[0].spent()).remaining == 0


async def test_calls_held_on_one_day_are_not_spent_on_the_next(database: str) -> None:
    """The carrier counts a call in the day it is made: one held before midnight GMT and made
    after it is taken from the new day, and the old day gets its unmade calls back."""
    clock = FrozenClock(DAY + timedelta(hours=23, minutes=59, seconds=50))
    async with _stores(database, 1) as (store,):
        quota = Quota("fedex", 100, "day", clock, store)
        await quota.hold(5)
        await quota.take()
        clock.set(DAY + timedelta(days=1, seconds=1))
        await quota.take()
        await quota.release()
        assert await store.calls_on("fedex", DAY) == 1
        assert await store.calls_on("fedex", DAY + timedelta(days=1)) == 1


async def test_a_sliding_hour_takes_each_call_as_it_leaves(database: str) -> None:
    """A call held in a sliding hour would count from when it was held, not from when it
    was made (the carrier's count): nothing is held there."""
    clock = FrozenClock(DAY + timedelta(hours=15))
    async with _stores(database, 1) as (store,):
        quota = Quota("usps", 60, "hour", clock, store)
        await quota.hold(10)
        assert (await quota.spent()).count == 0
        clock.advance(timedelta(minutes=5))
        await quota.take()
        assert await store.calls_since("usps", DAY) == [clock.now()]
