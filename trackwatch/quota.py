"""A carrier's long-window quota (USPS 60 calls an hour; DHL 250 and FedEx 100,000 a day,
reset at 00:00 GMT), counted in the gateway so that no call is made past it.

A call past the quota raises RateLimited before it leaves, with the wait until a call is
allowed again; a daily quota says so, and the poller parks the carrier's shipments until
the reset instead of letting a worker sleep. Counts live in memory for now: a restart
forgets them (issue 6 persists them).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, time, timedelta

from trackwatch.clock import Clock
from trackwatch.errors import RateLimited

HOUR = timedelta(hours=1)


class Quota:
    def __init__(self, carrier: str, calls: int, window: str, clock: Clock) -> None:
        self._carrier = carrier
        self._calls = calls
        self._daily = window == "day"
        self._clock = clock
        self._recent: deque[datetime] = deque()  # hourly: call times in the last hour
        self._day: tuple[object, int] = (None, 0)  # daily: (UTC date, calls that day)

    def take(self) -> None:
        """Count one call, or raise RateLimited when the quota is spent."""
        now = self._clock.now()
        if self._daily:
            today = now.astimezone(UTC).date()
            day, used = self._day if self._day[0] == today else (today, 0)
            if used >= self._calls:
                reset = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
                raise RateLimited(self._carrier, f"daily quota of {self._calls} calls spent",
                                  retry_after=(reset - now).total_seconds(), daily=True)  # fmt: skip
            self._day = (day, used + 1)
            return
        while self._recent and now - self._recent[0] >= HOUR:
            self._recent.popleft()
        if len(self._recent) >= self._calls:
            wait = (self._recent[0] + HOUR - now).total_seconds()
            raise RateLimited(self._carrier, f"hourly quota of {self._calls} calls spent",
                              retry_after=wait)  # fmt: skip
        self._recent.append(now)
