"""SQLite's hot transactions (the call ledger, poll answers, claims, judgements) run whole on
the connection's own thread, one hop there and back instead of one per statement (issue 21).
They must stay transactions: all or nothing, one at a time, and a caller that gives up
waiting cannot leave half of one behind or overspend a quota."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trackwatch.clock import FrozenClock
from trackwatch.errors import RateLimited
from trackwatch.quota import Quota
from trackwatch.store import open_store
from trackwatch.store.sqlite import SqliteStore

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


async def _sqlite(tmp_path: Path) -> SqliteStore:
    store = await open_store(str(tmp_path / "tw.db"))
    assert isinstance(store, SqliteStore)
    return store


async def test_a_transaction_that_fails_on_the_connections_thread_keeps_nothing(
    tmp_path: Path,
) -> None:
    store = await _sqlite(tmp_path)

    def half_done(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO carrier_calls (carrier, at) VALUES ('dhl', '2026-12-07')")
        raise ValueError("the second statement failed")

    with pytest.raises(ValueError, match="second statement"):
        await store._in_tx(half_done)
    assert await store.calls_since("dhl", NOW - timedelta(days=30)) == []
    # The connection is not left inside the failed transaction: the next one commits.
    quota = Quota("dhl", 5, "day", FrozenClock(NOW), store)
    await quota.take()
    assert (await quota.spent()).count == 1
    await store.close()


@pytest.mark.parametrize("window", ["hour", "day"])
async def test_takes_given_up_midway_never_overspend_nor_half_record_a_call(
    tmp_path: Path, window: str
) -> None:
    """Callers cancelled while their take is on the connection's thread: each take there
    is recorded whole or not at all, and never more than the limit."""
    store = await _sqlite(tmp_path)
    quota = Quota("usps", 30, window, FrozenClock(NOW), store)

    async def take() -> None:
        with contextlib.suppress(RateLimited):
            await quota.take()

    tasks = [asyncio.create_task(take()) for _ in range(80)]
    await asyncio.sleep(0)
    for task in tasks[::3]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    recorded = await store.calls_since("usps", NOW - timedelta(hours=1))
    counted = (await quota.spent()).count
    assert len(recorded) == counted == 30
    with pytest.raises(RateLimited):
        await quota.take()
    await store.close()
