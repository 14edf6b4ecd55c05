"""The event loop's pulse: a task that wakes every second, in real time, and measures how late
it woke. A loop blocked by a stuck call stops beating, so systemd's watchdog (pinged from
here, at half of WatchdogSec) restarts the daemon, and /healthz reports the lag it saw.

Real time on purpose: systemd's watchdog counts real seconds whatever clock the daemon's
work runs on (the simulator's is frozen).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from trackwatch.sdnotify import Notifier

PERIOD = 1.0
TOO_LATE = 2.0  # seconds of lag, or of silence beyond a period, that mean a stuck loop


class Heartbeat:
    def __init__(self, notifier: Notifier | None = None) -> None:
        self._notifier = notifier
        interval = notifier.watchdog if notifier is not None else None
        self._ping_every = interval
        self.period = min(PERIOD, interval) if interval else PERIOD
        self.lag = 0.0
        self.last = time.monotonic()

    def alive(self) -> bool:
        silent = time.monotonic() - self.last - self.period
        return self.lag < TOO_LATE and silent < TOO_LATE

    async def run(self, stopping: asyncio.Event) -> None:
        self.last = time.monotonic()
        next_ping = self.last
        while not stopping.is_set():
            started = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.period)
            now = time.monotonic()
            self.lag = max(0.0, now - started - self.period) if not stopping.is_set() else 0.0
            self.last = now
            if self._ping_every is not None and self._notifier is not None and now >= next_ping:
                self._notifier.watchdog_ping()
                next_ping = now + self._ping_every
