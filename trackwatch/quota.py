"""A carrier's long-window quota (USPS 60 calls an hour; DHL 250 and FedEx 100,000 a day,
reset at 00:00 GMT), decided in the database so that every daemon on it together stays
inside it.

Every call is taken from the call ledger before it leaves: `CallLedger.take` counts the
window's calls and records this one in one transaction, so two daemons cannot both take the
last call, and a daemon that restarts (or crashes) mid-window starts from what was really
spent: a crash can only cost calls, never overspend. A call past the quota raises RateLimited
before it leaves, with the wait until a call is allowed again; a daily quota says so, and the
poller parks the carrier's shipments until the reset instead of letting a worker sleep.

Short windows (1 call a second, 1,400 per 10 seconds) are the gateway's throttle: a
restart takes longer than they last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from trackwatch.clock import Clock
from trackwatch.errors import RateLimited
from trackwatch.store.contract import CallLedger

HOUR = timedelta(hours=1)
# A sliding hour excludes the call made exactly an hour ago: it counts calls from here on.
_TICK = timedelta(microseconds=1)


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Spent:
    """A quota's window as the ledger had it at `now`: the calls counted, oldest first."""

    quota: Quota
    now: datetime
    calls: tuple[datetime, ...]  # a sliding window's; a fixed day's are only counted
    count: int

    @property
    def remaining(self) -> int:
        return max(0, self.quota.limit - self.count)

    def frees_at(self, spare: int = 0) -> datetime:
        """When a call is allowed with `spare` calls still left over (now, when one is)."""
        limit = self.quota.limit
        allowed = limit - min(spare, limit - 1)
        if self.count < allowed:
            return self.now
        if self.quota.daily:
            return self.quota.window_end(self.now)
        return self.calls[len(self.calls) - allowed] + HOUR


class MemoryLedger:
    """A call ledger in this process alone: for gateways built without a database (tests,
    one-off tools); the daemon's ledger is its store's."""

    def __init__(self) -> None:
        self._calls: dict[str, list[datetime]] = {}

    async def take(
        self, carrier: str, at: datetime, limit: int, since: datetime, daily: bool = False
    ) -> bool:
        spent = await self.calls_since(carrier, since)
        if len(spent) >= limit:
            return False
        self._calls.setdefault(carrier, []).append(at)
        return True

    async def calls_on(self, carrier: str, day: datetime) -> int:
        return len(await self.calls_since(carrier, day))

    async def take_day(
        self, carrier: str, at: datetime, calls: int, limit: int, day: datetime
    ) -> int:
        taken = max(0, min(calls, limit - await self.calls_on(carrier, day)))
        self._calls.setdefault(carrier, []).extend([at] * taken)
        return taken

    async def give_back(self, carrier: str, at: datetime, calls: int, day: datetime) -> None:
        kept = self._calls.get(carrier, [])
        for _ in range(calls):
            if at in kept:
                kept.remove(at)

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]:
        return [t for t in self._calls.get(carrier, []) if t >= since]


class Quota:
    def __init__(
        self, carrier: str, calls: int, window: str, clock: Clock, ledger: CallLedger,
        spare: int = 0,
    ) -> None:  # fmt: skip
        self.carrier = carrier
        self.limit = calls
        self.spare = min(spare, calls - 1)  # kept from routine polls (token calls count too)
        self.daily = window == "day"
        self._clock = clock
        self._ledger = ledger
        # Calls of a daily quota taken for a pass in one go (`hold`) and not made yet: when
        # they were recorded, in which day, how many are left.
        self._held_at: datetime | None = None
        self._held_day: datetime | None = None
        self._held = 0

    def window_start(self, now: datetime) -> datetime:
        """The first instant whose calls count now."""
        return _day_start(now) if self.daily else now - HOUR + _TICK

    def window_end(self, now: datetime) -> datetime:
        """When the calls counted now stop counting (all of them, for a daily quota)."""
        return _day_start(now) + timedelta(days=1) if self.daily else now + HOUR

    async def spent(self, now: datetime | None = None) -> Spent:
        """The window's calls, read from the ledger (every daemon's)."""
        now = now or self._clock.now()
        start = self.window_start(now)
        if self.daily:
            return Spent(self, now, (), await self._ledger.calls_on(self.carrier, start))
        calls = tuple(sorted(await self._ledger.calls_since(self.carrier, start)))
        return Spent(self, now, calls, len(calls))

    async def hold(self, calls: int) -> None:
        """Take up to `calls` calls of a daily quota in one ledger transaction for the pass
        about to make them (`take` then spends them); `release` gives back what the pass did
        not make. A crash in between costs those calls for the day, never overspends.
        A sliding hour takes each call as it leaves: a call held there would be counted from
        when it was taken, while the carrier counts from when it was made."""
        await self.release()
        if not self.daily or calls < 2:
            return
        now = self._clock.now()
        day = self.window_start(now)
        self._held = await self._ledger.take_day(self.carrier, now, calls, self.limit, day)
        self._held_at, self._held_day = now, day

    async def release(self) -> None:
        """Give back the held calls not made (`hold`)."""
        held, self._held = self._held, 0
        if held and self._held_at is not None and self._held_day is not None:
            await self._ledger.give_back(self.carrier, self._held_at, held, self._held_day)

    async def take(self) -> None:
        """Count one call (recorded before it leaves), or raise RateLimited when spent."""
        now = self._clock.now()
        if self._held and self.window_start(now) == self._held_day:
            self._held -= 1  # taken by `hold`, in this day
            return
        if await self._ledger.take(self.carrier, now, self.limit, self.window_start(now),
                                   self.daily):  # fmt: skip
            return
        wait = ((await self.spent(now)).frees_at() - now).total_seconds()
        span = "daily" if self.daily else "hourly"
        raise RateLimited(self.carrier, f"{span} quota of {self.limit} calls spent",
                          retry_after=max(0.0, wait), daily=self.daily)  # fmt: skip
