"""Shared test fixtures: real servers on 127.0.0.1, real databases (SQLite files, and a
throwaway PostgreSQL: tests/postgres.py), an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from tests.postgres import (
    Cluster,
    create_database,
    drop_database,
    give_back,
    prepare,
    start_cluster,
    stop_cluster,
    take_database,
)
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.sandbox.world import World
from trackwatch.store import Store, open_store

NY = ZoneInfo("America/New_York")
FIXTURES = Path(__file__).parent / "fixtures"


BACKENDS = ("sqlite", "postgres")
# A module (or test) marked so runs each test on both backends: its `database`, `any_store`
# and `make_settings` are SQLite's, then PostgreSQL's. Unmarked tests use SQLite. A module
# where only some tests reach the store overrides the `backend` fixture (params=BACKENDS)
# instead, so that the others run once.
both_backends = pytest.mark.parametrize("backend", BACKENDS)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One real PostgreSQL for the session (see tests/postgres.py), started on first use."""
    cluster = start_cluster()
    try:
        prepare(cluster)
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def cluster(backend: str, request: pytest.FixtureRequest) -> Cluster | None:
    """The session's PostgreSQL when the test runs on it (started here, outside any event
    loop, on first use)."""
    return request.getfixturevalue("postgres") if backend == "postgres" else None


async def _fresh(tmp_path: Path, cluster: Cluster | None, file: str) -> AsyncIterator[str]:
    """A fresh, empty database of the test's backend: a SQLite file, or a PostgreSQL database
    of its own (migrated: a copy of the session's template, or one emptied since)."""
    if cluster is None:
        yield str(tmp_path / file)
        return
    name = await take_database(cluster)
    yield cluster.url(name)
    await give_back(cluster, name)


@pytest.fixture
async def database(tmp_path: Path, cluster: Cluster | None) -> AsyncIterator[str]:
    async for url in _fresh(tmp_path, cluster, "tw.db"):
        yield url


@pytest.fixture
async def another_database(tmp_path: Path, cluster: Cluster | None) -> AsyncIterator[str]:
    """A second database of the test's backend (two shops, staging and production)."""
    async for url in _fresh(tmp_path, cluster, "another.db"):
        yield url


@pytest.fixture
async def old_database(tmp_path: Path, cluster: Cluster | None) -> AsyncIterator[str]:
    """An empty database, not migrated (PostgreSQL's test databases come migrated): an older
    release makes its own schema in it (tests of an upgrade)."""
    if cluster is None:
        yield str(tmp_path / "old.db")
        return
    name = await create_database(cluster, template="template0")
    yield cluster.url(name)
    await drop_database(cluster, name)


@pytest.fixture
async def any_store(database: str) -> AsyncIterator[Store]:
    store = await open_store(database)
    yield store
    await store.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 0, 0, tzinfo=NY))


T = TypeVar("T")


async def run_on_clock(clock: FrozenClock, work: Awaitable[T], step: timedelta) -> T:
    """Await `work`, moving `clock` on by `step` each time something sleeps on it: time
    passes only while the code under test waits on the clock, never with the wall clock,
    so each of its waits ends less than `step` after it was due."""
    task = asyncio.ensure_future(work)
    while True:
        sleeping = asyncio.ensure_future(clock.someone_sleeping())
        await asyncio.wait({task, sleeping}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            sleeping.cancel()
            return await task
        clock.advance(step)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def sandbox(world: World, clock: FrozenClock) -> AsyncIterator[SandboxServer]:
    server = await SandboxServer(world, clock).start()
    yield server
    await server.stop()


@pytest.fixture
async def sink() -> AsyncIterator[HttpSink]:
    server = await HttpSink().start()
    yield server
    await server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


SettingsFactory = Callable[..., Settings]


# Staff hours around the clock, for tests about something else than staff hours.
ALWAYS_STAFFED = {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                  "day_starts": 0, "day_ends": 24}  # fmt: skip


@pytest.fixture
def make_settings(database: str, sandbox: SandboxServer, sink: HttpSink) -> SettingsFactory:
    def make(
        stall_days: int = 3, carriers: dict[str, dict[str, Any]] | None = None, **daemon: Any
    ) -> Settings:
        """Settings for the test shop; `carriers` enables and tunes carriers (UPS alone
        is enabled when it is not given)."""
        tuned = carriers or {"ups": {}}
        sections = {
            name: {"enabled": name in tuned, "base_url": sandbox.base_url, "client_id": "id",
                   "client_secret": "secret", "api_key": "key", "rate_limit": 100,
                   "max_inline_wait_seconds": 0, **tuned.get(name, {})}
            for name in ("usps", "ups", "fedex", "dhl")
        }  # fmt: skip
        return build_settings(
            {
                "daemon": {"database": database, "http_port": 0, **daemon},
                "carriers": sections,
                "stores": {
                    "shop": {
                        "name": "Test Shop",
                        "policy": {
                            "stall": {"domestic_business_days": stall_days},
                            "staff": ALWAYS_STAFFED,
                        },
                        "channels": {"staff_chat": [sink.url("staff")]},
                    }
                },
            }
        )

    return make
