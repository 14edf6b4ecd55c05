"""/healthz and /metrics of a daemon in this process (FrozenClock, sandbox carriers)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.conftest import NY, SettingsFactory
from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.errors import Unavailable
from trackwatch.model import Audience, Place, Shipment
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store.records import NoticeDraft

NUMBER = "1Z5R89390357567127"
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")


@pytest.fixture
async def daemon(make_settings: SettingsFactory, clock: FrozenClock) -> AsyncIterator[Daemon]:
    settings = make_settings(carriers={"usps": {}, "ups": {}})
    async with open_daemon(settings, clock) as running:
        beating = asyncio.create_task(running.heartbeat.run(running.stopping))
        yield running
        running.stop()
        await beating


async def get(daemon: Daemon, path: str) -> tuple[int, Any]:
    assert daemon.desk is not None
    url = daemon.desk.links.base_url + path
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_healthy_then_degraded_by_a_carrier_then_failing_on_the_database(
    daemon: Daemon,
) -> None:
    status, body = await get(daemon, "/healthz")
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["event_loop"]["ok"] and body["checks"]["database"] == {"ok": True}
    await daemon.poller.health.failed("ups", Unavailable("ups", "HTTP 503"), daemon.clock.now())
    status, body = await get(daemon, "/healthz")
    assert status == 200 and body["status"] == "degraded"
    assert body["checks"]["carriers"] == {"ok": False, "failing": {"ups": "HTTP 503"}}
    # Another process holds the database's write lock: no write gets through.
    assert daemon.vitals is not None
    daemon.vitals.database_timeout = 0.3
    blocker = sqlite3.connect(daemon.settings.daemon.database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        status, body = await get(daemon, "/healthz")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert status == 503 and body["status"] == "failing"
    assert body["checks"]["database"] == {"ok": False, "error": "no write within 0.3s"}


async def test_metrics_read_the_state_of_the_work(daemon: Daemon, clock: FrozenClock) -> None:
    draft = NoticeDraft("daily", Audience.STAFF, "staff_chat.0", "shop", "Digest", "body",
                        key="tw-test-digest")  # fmt: skip
    await daemon.store.enqueue([draft], clock.now())
    clock.advance(minutes=10)
    status, text = await get(daemon, "/metrics")
    assert status == 200
    assert 'trackwatch_carrier_quota_remaining{carrier="usps"} 60.0' in text
    assert 'trackwatch_notices{state="pending"} 1.0' in text
    assert 'trackwatch_notices{state="dead"} 0.0' in text
    assert "trackwatch_oldest_pending_notice_seconds 600.0" in text
    await daemon.outbox.run_once()  # delivered to the chat sink
    status, text = await get(daemon, "/metrics")
    assert 'trackwatch_notices_sent_total{channel="staff_chat"} 1.0' in text
    assert "trackwatch_oldest_pending_notice_seconds 0.0" in text
    assert 'trackwatch_notices{state="sent"} 1.0' in text


async def test_a_reloaded_policy_judges_every_shipment_again(
    make_settings: SettingsFactory, clock: FrozenClock, world: World
) -> None:
    # Picked up Monday evening, then silence (the end-to-end test's stall, due Saturday 00:00
    # under a 3-business-day policy).
    timeline = [Milestone(clock.now() + timedelta(hours=h), kind, CHICAGO)
                for h, kind in ((9, "label"), (18, "picked_up"))]  # fmt: skip
    world.add(Parcel("ups", NUMBER, timeline, NYC))
    async with open_daemon(make_settings(stall_days=8), clock) as daemon:
        shipment = Shipment(store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
                            customer_email="c@example.com", destination_postal_code="10001",
                            shipped_at=clock.now() + timedelta(hours=9))  # fmt: skip
        await daemon.store.add_shipment(shipment, clock.now())
        while clock.now() < datetime(2026, 11, 28, 12, tzinfo=NY):
            clock.advance(minutes=30)
            await daemon.tick()
        assert await daemon.store.all_alerts() == []  # 8 business days have not passed
        later = await daemon.reload(make_settings(stall_days=3))
        assert later == []
        await daemon.tick()  # judged now: the stall needs fresh data, so it is polled
        await daemon.tick()  # polled, and judged on what the poll brought
        assert [a.rule for a in await daemon.store.all_alerts()] == ["stalled"]
        changed = make_settings(stall_days=3, carriers={"ups": {"max_in_flight": 2}})
        assert await daemon.reload(changed) == ["carriers"]  # applied at the next start
