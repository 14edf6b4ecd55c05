"""`trackwatch sandbox`: the carriers' APIs in real time for trying the real daemon. What it
writes is a configuration and a CSV the real CLI and daemon take as they are; the first pass
finds parcels to alert on and tells staff chat and customers, which the sandbox prints.
Real servers on 127.0.0.1, a real SQLite file, an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from trackwatch.app import open_daemon
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.config import load_settings
from trackwatch.sandbox.live import instructions, open_sandbox
from trackwatch.store import open_store

NOW = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # a Tuesday, 11:00 in New York


async def test_the_real_daemon_works_against_the_sandbox_at_once(tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    printed: list[str] = []
    sandbox = await open_sandbox(tmp_path / "try", 0, 30, 1, clock, printed.append)
    try:
        text = instructions(sandbox)
        assert f"trackwatch import --config {sandbox.config} {sandbox.shipments}" in text
        assert f"trackwatch run --config {sandbox.config}" in text
        argv = ["import", "--config", str(sandbox.config), str(sandbox.shipments)]
        assert await asyncio.to_thread(main, argv, clock) == 0  # every row stored
        settings = load_settings(sandbox.config)
        async with open_daemon(settings, clock) as daemon:
            await daemon.tick()
            await daemon.outbox.run_once()
        store = await open_store(settings.daemon.database)
        polled = (await store.list_shipments()).shipments
        alerts = await store.all_alerts()
        await store.close()
    finally:
        await sandbox.close()
    assert len(polled) == 30 and all(s.polls == 1 for s in polled)
    assert {c for c, calls in sandbox.carriers.world.history.items() if calls} == {
        "usps", "ups", "fedex", "dhl"}  # fmt: skip
    assert alerts, "the first pass found nothing to alert on"
    assert any(line.startswith("[staff chat] ") for line in printed)
    assert any(line.startswith("[email to c") for line in printed)


async def test_the_sandbox_shop_backfills_and_takes_the_cases_back(tmp_path: Path) -> None:
    """Issue 22: the sandbox serves the store's Shopify Admin API too: `trackwatch shopify
    backfill` brings the parcels in, and the daemon writes its cases back to the orders."""
    clock = FrozenClock(NOW)
    printed: list[str] = []
    sandbox = await open_sandbox(tmp_path / "try", 0, 30, 1, clock, printed.append)
    try:
        text = instructions(sandbox)
        assert f"trackwatch shopify backfill --config {sandbox.config} --store shop" in text
        argv = ["shopify", "backfill", "--config", str(sandbox.config), "--store", "shop"]
        assert await asyncio.to_thread(main, argv, clock) == 0
        settings = load_settings(sandbox.config)
        async with open_daemon(settings, clock) as daemon:
            await daemon.tick()
            await daemon.outbox.run_once()
        store = await open_store(settings.daemon.database)
        found = (await store.list_shipments()).shipments
        written = [n for n in await store.notices() if n.channel == "shopify.0"]
        await store.close()
    finally:
        await sandbox.close()
    shop = sandbox.carriers.shop
    assert shop is not None
    assert len(found) == 30 and all(s.fulfillment_gid for s in found)
    assert written and {n.state.value for n in written} == {"sent"}
    assert sum(shop.events_written.values()) == len(written)
    assert sum(line.startswith("[shopify] order S") for line in printed) == len(written)
