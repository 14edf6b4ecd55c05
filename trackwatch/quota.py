"""A carrier's long-window quota (USPS 60 calls an hour; DHL 250 and FedEx 100,000 a day,
reset at 00:00 GMT), counted in the gateway so that no call is made past it.

Every call is written to the database's call ledger before it leaves, so a daemon that
restarts (or crashes) mid-window starts from what was really spent: a crash can only cost
calls, never overspend. A call past the quota raises RateLimited before it leaves, with the
wait until a call is allowed again; a daily quota says so, and the poller parks the
carrier's shipments until the reset instead of letting a worker sleep.

Short windows (1 call a second, 1,400 per 10 seconds) are the gateway's throttle: a
restart takes longer than they last.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, time, timedelta
from typing import Protocol

from trackwatch.clock import Clock
from trackwatch.errors import RateLimited

HOUR = timedelta(hours=1)


class CallLedger(Protocol):
    async def record_call(self, carrier: str, at: datetime) -> None: ...

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]: ...


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


class Quota:
    def __init__(
        self,
        carrier: str,
        calls: int,
        window: str,
        clock: Clock,
        ledger: CallLedger | None = None,
        spare: int = 0,
    ) -> None:
        self.carrier = carrier
        self.limit = calls
        self.spare = min(spare, calls - 1)  # kept from routine polls (token calls count too)
        self.daily = window == "day"
        self._clock = clock
        self._ledger = ledger
        self._calls: deque[datetime] = deque()  # this window's calls, oldest first

    async def load(self) -> None:
        """Read what the current window has spent (before the first call of a run)."""
        if self._ledger is not None:
            since = self.window_start(self._clock.now())
            self._calls = deque(sorted(await self._ledger.calls_since(self.carrier, since)))

    def window_start(self, now: datetime) -> datetime:
        return _day_start(now) if self.daily else now - HOUR

    def window_end(self, now: datetime) -> datetime:
        """When the calls counted now stop counting (all of them, for a daily quota)."""
        return _day_start(now) + timedelta(days=1) if self.daily else now + HOUR

    def _expire(self, now: datetime) -> None:
        start = self.window_start(now)
        # A day's window includes its first instant; a sliding hour excludes the call made
        # exactly an hour ago.
        while self._calls and (
            self._calls[0] < start or (not self.daily and self._calls[0] == start)
        ):
            self._calls.popleft()

    def remaining(self, now: datetime | None = None) -> int:
        now = now or self._clock.now()
        self._expire(now)
        return max(0, self.limit - len(self._calls))

    def frees_at(self, now: datetime | None = None, spare: int = 0) -> datetime:
        """When a call is allowed with `spare` calls still left over (now, when one is)."""
        now = now or self._clock.now()
        self._expire(now)
        allowed = self.limit - min(spare, self.limit - 1)
        if len(self._calls) < allowed:
            return now
        if self.daily:
            return self.window_end(now)
        return self._calls[len(self._calls) - allowed] + HOUR

    async def take(self) -> None:
        """Count one call (persisted before it leaves), or raise RateLimited when spent."""
        now = self._clock.now()
        if self.remaining(now) == 0:
            wait = (self.frees_at(now) - now).total_seconds()
            span = "daily" if self.daily else "hourly"
            raise RateLimited(self.carrier, f"{span} quota of {self.limit} calls spent",
                              retry_after=wait, daily=self.daily)  # fmt: skip
        self._calls.append(now)
        if self._ledger is not None:
            await self._ledger.record_call(self.carrier, now)
