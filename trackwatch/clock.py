"""Time, injected: the daemon never calls datetime.now() or asyncio.sleep() for its own timing.

SystemClock is real time. FrozenClock only moves when a test calls advance(); its sleep()
waits until the clock has been advanced past the wake time, so loops behave as they would in
real time without a test ever waiting on the wall clock. The demo and the simulator step a
FrozenClock to the next instant something is due (trackwatch/sim/stepping.py), so that their
output does not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for `seconds` of this clock's time."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware start time")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._asleep = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (wake, next(self._seq), fut))
        self._asleep.set()
        await fut

    async def someone_sleeping(self) -> None:
        """Return once a task sleeps on this clock (so that a test can then advance it)."""
        while not self._sleepers:
            self._asleep.clear()
            await self._asleep.wait()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward and wake every sleeper whose time has come."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += step
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        return self._now

    def set(self, instant: datetime) -> datetime:
        return self.advance(instant.astimezone(UTC) - self._now)


async def sleep_until(clock: Clock, instant: datetime, wake: asyncio.Event | None = None) -> None:
    """Sleep until `instant` on `clock`, or until `wake` is set, whichever comes first."""
    seconds = (instant - clock.now()).total_seconds()
    if wake is None:
        await clock.sleep(seconds)
        return
    if wake.is_set():
        return
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waiter = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waiter):
            task.cancel()
        await asyncio.gather(sleeper, waiter, return_exceptions=True)
