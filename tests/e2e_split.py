"""Where one end-to-end response's CPU goes: `trackwatch bench`'s end-to-end run on DHL (one
number a call), its poll passes and its judging timed apart, and the time SQLite's own
thread spends in each summed (aiosqlite's calls wrapped here, for this measurement only),
beside raw aiohttp GETs against the same server.

    python -m tests.e2e_split [PARCELS]     (default 4000, of which DHL's about a quarter)
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import aiosqlite.core

from trackwatch.app import Daemon
from trackwatch.benchmark import endtoend
from trackwatch.benchmark.server import ServedWorld, serve_world
from trackwatch.chaos.world import past_parcels
from trackwatch.collector import tune

_thread = {"on": 0.0, "total": 0.0}  # SQLite thread seconds; "on" > 0 while timing


def _timed_sqlite() -> None:
    run = cast(Callable[..., Awaitable[Any]], aiosqlite.core.Connection._execute)

    async def execute(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def timed(*a: Any, **kw: Any) -> Any:
            started = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                if _thread["on"]:
                    _thread["total"] += time.thread_time() - started

        return await run(self, timed, *args, **kwargs)

    aiosqlite.core.Connection._execute = execute  # type: ignore[method-assign]


async def _drive(daemon: Daemon, served: ServedWorld, responses: int) -> endtoend.Rate:
    """endtoend._drive, each phase timed apart."""
    first, started = served.calls(), time.process_time()
    poll = judge = sqlite_judge = 0.0
    _thread["on"] = 1.0
    while True:
        before = time.process_time()
        polled = await daemon.poller.poll_due()
        polled_at, thread_before = time.process_time(), _thread["total"]
        while (await daemon.monitor.run_once()).judged:
            pass
        poll += polled_at - before
        judge += time.process_time() - polled_at
        sqlite_judge += _thread["total"] - thread_before
        done = served.calls() - first
        if done >= responses or not polled:
            _thread["on"] = 0.0
            per = 1000 / max(1, done)
            sqlite_poll = _thread["total"] - sqlite_judge
            print(f"per response: poll {poll * per:.3f} ms (SQLite thread {sqlite_poll * per:.3f}),"
                  f" judge {judge * per:.3f} ms (SQLite thread {sqlite_judge * per:.3f})")  # fmt: skip
            return endtoend.Rate("", done, time.process_time() - started)


async def main(count: int) -> None:
    now = datetime.now(UTC)
    parcels = [p for p in past_parcels(count, endtoend.SEED, now) if p.parcel.carrier == "dhl"]
    served = await asyncio.to_thread(serve_world, count, endtoend.SEED, now)
    try:
        raw = await endtoend.raw_rate(served, [p.parcel.number for p in parcels])
        print(f"raw aiohttp: {raw.per_cpu_second:.0f}/s = {1000 / raw.per_cpu_second:.3f} ms")
        endtoend._drive = _drive
        rate = await endtoend.daemon_rate(served, parcels, "dhl")
        print(f"daemon, DHL: {rate.per_cpu_second:.0f}/s")
    finally:
        await asyncio.to_thread(served.stop)


if __name__ == "__main__":
    tune()
    _timed_sqlite()
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000))
