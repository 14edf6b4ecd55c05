"""Virtual time for the daemon: its loops run in turn on a FrozenClock, which then jumps to
the next instant something is due (the daemon's own schedule, or the script of what
happens to it from outside), at least `step` at a time.

Time never moves while anything is in flight: a pass awaits every call it makes (HTTP to
the carriers, Apprise's sends from its threads to SMTP and webhooks, which return once the
server has taken the message) before the clock is set again. So the same inputs give the
same run, byte for byte, on a fast machine or a loaded one. The simulator and the demo both
run this way.

One thing the daemon must not do inside a pass is sleep on the clock (nobody would advance
it): a carrier client retrying after a short wait does. Settings for a stepped daemon set
`max_inline_wait_seconds = 0`, and a pass that sleeps anyway fails with ClockSleep rather
than hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from trackwatch.app import Daemon
from trackwatch.clock import FrozenClock

MONITOR_BATCH = 1000  # Monitor's default: a full batch means more are waiting
T = TypeVar("T")


class ClockSleep(RuntimeError):
    """A pass slept on the frozen clock, which only moves between passes."""


class Script(Protocol):
    """What happens to the daemon from outside: parcels shipped, customers' reports."""

    def next_at(self) -> datetime | None:
        """When the script next has something to do (a past instant: retry every step)."""
        ...

    async def act(self, now: datetime) -> bool:
        """Do what is due at `now`; True when the rules must judge again."""
        ...

    def after(self, now: datetime) -> None:
        """The daemon's pass at `now` is over (everything it sent has arrived)."""
        ...


class Stepper:
    """Drives one daemon's poll, rules, digest and outbox loops on a FrozenClock."""

    def __init__(self, daemon: Daemon, clock: FrozenClock, step: timedelta) -> None:
        self.daemon = daemon
        self.clock = clock
        self.step = step
        now = clock.now()
        self._due: list[datetime | None] = [now, now, now, now]  # poll, check, digest, notice
        self._push_due: list[datetime | None] = [None, None]  # subscriptions, push inbox

    async def run(self, script: Script, end: datetime) -> None:
        """Act and pass at each due instant before `end`; the clock is left at `end`."""
        while (now := self.clock.now()) < end:
            judge = await script.act(now)
            await self.pass_at(now, judge)
            script.after(now)
            upcoming = [d for d in (*self._due, *self._push_due) if d is not None]
            upcoming += [at] if (at := script.next_at()) is not None else []
            self.clock.set(min(max(min(upcoming, default=end), now + self.step), end))

    async def pass_at(self, now: datetime, judge: bool = False) -> None:
        """Run the loops due at `now`, in data-flow order, and note when each is due next."""
        daemon = self.daemon
        poll, check, digest, notice = (d is not None and d <= now for d in self._due)
        judge = await self._push_pass(now, judge) or judge
        polled = await self._guard(daemon.poller.poll_due()) if poll else 0
        opened = False
        if polled or judge or check:
            while True:
                judged = await self._guard(daemon.monitor.run_once())
                opened |= bool(judged.applied)
                if judged.judged < MONITOR_BATCH:
                    break
        digested = await self._guard(daemon.digests.run_once()) if digest else 0
        if opened or digested or notice:
            await self._guard(daemon.outbox.run_once())
        await self.refresh()

    async def _push_pass(self, now: datetime, acted: bool) -> bool:
        """The push loops (trackwatch.push): subscriptions made (after the script `acted`:
        it may have added shipments) or renewed when due, and the pushes received since the
        last pass merged; True when shipments changed."""
        if not self.daemon.subscriber.active:
            return False
        due = self._push_due[0]
        subscribe = acted or (due is not None and due <= now)
        changed = await self._guard(self.daemon.subscriber.run_once()) if subscribe else 0
        # Pushes arrive between passes (the script delivers them): the inbox is always read.
        merged = await self._guard(self.daemon.pushes.run_once())
        return bool(changed or merged)

    async def refresh(self) -> None:
        """Note when each loop is due next, from the database (where other daemons sharing
        it may have left work since this one's last pass)."""
        store = self.daemon.store
        due = await store.next_due_times()  # one reading of the three (a hop less each)
        self._due = [due.poll, due.check, await self.daemon.digests.next_due(), due.notice]
        if self.daemon.subscriber.active:
            self._push_due = [await self.daemon.subscriber.next_due(), await store.next_push_at()]

    def next_due(self) -> datetime | None:
        """The earliest instant one of the loops is due (None: nothing is)."""
        due = [*self._due, *self._push_due]
        return min((d for d in due if d is not None), default=None)

    async def _guard(self, work: Awaitable[T]) -> T:
        """`work`, or ClockSleep if it sleeps on the clock (it would never wake)."""
        task = asyncio.ensure_future(work)
        asleep = asyncio.ensure_future(self.clock.someone_sleeping())
        try:
            await asyncio.wait({task, asleep}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            asleep.cancel()
            stuck = not task.done()
            if stuck:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if stuck:
            raise ClockSleep("the daemon slept on the frozen clock inside a pass; "
                             "set max_inline_wait_seconds = 0")  # fmt: skip
        return task.result()
