"""Kill -9 mid-run, run again: a real `trackwatch shopify backfill` subprocess watches
nothing twice, and a real daemon writing back records no fulfillment event twice (the
sandbox's Shopify stand-in counts events per fulfillment). Real time: the subprocesses have
their own clocks, and so does the stand-in's bucket."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import both_backends
from tests.shopify_kit import TOKEN, order, stocked
from tests.test_crash import CHICAGO, NUMBERS, NYC, start_daemon, until
from trackwatch.chaos.process import to_toml
from trackwatch.clock import SystemClock
from trackwatch.config import build_settings
from trackwatch.model import NoticeState
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.shopify_shop import Bucket, Shop
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.shopify.landing import land
from trackwatch.store import open_store


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    """The carriers and the shop. The bucket holds one page of orders (287 points asked,
    about 30 spent) and refills 40 points a second: the backfill waits half a second
    between pages, long enough to be killed there."""
    shop = Shop(SystemClock(), access_token=TOKEN,
                bucket=Bucket(maximum=300, restore_rate=40, available=300))  # fmt: skip
    found = await SandboxServer(World(), SystemClock(), shop=shop).start()
    yield found
    await found.stop()


def write_config(tmp_path: Path, database: str, server: SandboxServer, **extra: Any) -> Path:
    shopify = {"shop_domain": "sandbox-shop.myshopify.com", "access_token": TOKEN,
               "admin_url": server.base_url, "page_size": 5, **extra}  # fmt: skip
    carriers = {n: {"enabled": n == "ups", "base_url": server.base_url, "client_id": "id",
                    "client_secret": "secret", "rate_limit": 100}
                for n in ("usps", "ups", "fedex", "dhl")}  # fmt: skip
    data = {"daemon": {"database": database, "http_port": 0, "notice_lease_seconds": 2,
                       "notice_concurrency": 1, "min_poll_minutes": 1},
            "carriers": carriers,
            "stores": {"shop": {"name": "Shop", "shopify": shopify, "policy": {"staff": {
                "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "day_starts": 0, "day_ends": 24, "digest_at": ""}}}}}  # fmt: skip
    path = tmp_path / "trackwatch.toml"
    path.write_text(to_toml(data))
    return path


async def backfill(path: Path, *more: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "trackwatch.cli", "shopify", "backfill", "--config", str(path),
        "--store", "shop", *more, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def counts(path: Path) -> dict[str, Any]:
    done = await backfill(path, "--json")
    out, err = await done.communicate()
    assert done.returncode == 0, err.decode()
    found: dict[str, Any] = json.loads(out)
    return found


@both_backends
async def test_a_backfill_killed_mid_run_and_run_again_watches_each_parcel_once(
    tmp_path: Path, database: str, server: SandboxServer
) -> None:
    assert server.shop is not None
    kinds = stocked(server.shop, datetime.now(UTC), in_transit=18)
    path = write_config(tmp_path, database, server)
    first = await backfill(path)
    assert first.stdout is not None
    lines = [(await first.stdout.readline()).decode() for _ in range(2)]
    assert lines[1].startswith("page 2: 5 orders"), lines
    first.send_signal(signal.SIGKILL)
    await first.wait()
    store = await open_store(database)
    try:
        before = {s.tracking_number: s.id for s in (await store.list_shipments()).shipments}
        assert 0 < len(before) < len(kinds["in_transit"])  # killed half way
        again = await counts(path)
        after = (await store.list_shipments()).shipments
        assert sorted(s.tracking_number for s in after) == sorted(kinds["in_transit"])
        assert {s.tracking_number: s.id for s in after if s.tracking_number in before} == before
        # What the killed run had landed is seen again, not watched again.
        assert again.get("watched", 0) == len(kinds["in_transit"]) - len(before)
    finally:
        await store.close()


async def test_a_daemon_killed_while_writing_back_records_each_event_once(
    tmp_path: Path, server: SandboxServer
) -> None:
    """Five parcels with an address problem: five cases, five events to write. Shopify
    records the first one and its answer is held until the daemon is killed, so the dead
    daemon never marked it sent; the next one claims it again and must not write it twice."""
    shop = server.shop
    assert shop is not None
    now = datetime.now(UTC)
    database = str(tmp_path / "tw.db")
    path = write_config(tmp_path, database, server, write_back=True)
    settings = build_settings(tomllib.loads(path.read_text()))
    store = await open_store(database)
    for i, number in enumerate(NUMBERS):
        server.world.add(Parcel("ups", number, [
            Milestone(now - timedelta(days=2), "label", CHICAGO),
            Milestone(now - timedelta(days=2, hours=-6), "picked_up", CHICAGO),
            Milestone(now - timedelta(hours=3), "address_issue", NYC)], NYC))  # fmt: skip
        placed = order(shop, 1001 + i, now - timedelta(days=3), [number])
        fulfillment = placed.fulfillments[0]
        await land(store, settings, now, "shop", {
            "id": fulfillment.id, "admin_graphql_api_id": fulfillment.gid, "name": placed.name,
            "status": "success", "tracking_company": "UPS", "tracking_numbers": [number],
            "created_at": fulfillment.created_at.isoformat(),
            "destination": {"zip": "10001", "country_code": "US"}}, f"test:{i}")  # fmt: skip
    shop.hold_writes = asyncio.Event()
    log = tmp_path / "daemon.log"

    async def written() -> bool:
        return sum(shop.events_written.values()) >= 1

    async def all_sent() -> bool:
        notices = [n for n in await store.notices() if n.channel == "shopify.0"]
        return len(notices) == 5 and all(n.state is NoticeState.SENT for n in notices)

    daemon = await start_daemon(path, log)
    try:
        await until(written, "Shopify to record the first event")
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()
        shop.hold_writes.set()
        assert sum(shop.events_written.values()) == 1  # the dead daemon never heard back
        daemon = await start_daemon(path, log)
        await until(all_sent, "every write-back sent after the restart", seconds=60)
    finally:
        if daemon.returncode is None:
            daemon.send_signal(signal.SIGTERM)
            await asyncio.wait_for(daemon.wait(), 20)
        print(log.read_text() if log.exists() else "")
    notices = [n for n in await store.notices() if n.channel == "shopify.0"]
    await store.close()
    gids = {o.fulfillments[0].gid for o in shop.orders}
    assert dict(shop.events_written) == dict.fromkeys(gids, 1)
    assert max(n.attempts for n in notices) == 2  # the one claimed again after the kill
    assert {e["status"] for o in shop.orders for e in o.fulfillments[0].events} == {"DELAYED"}
