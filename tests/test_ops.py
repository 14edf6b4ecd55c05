"""/healthz and /metrics of a daemon in this process (FrozenClock, sandbox carriers)."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import NY, SettingsFactory
from tests.push_kit import push_settings
from trackwatch import __version__
from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.errors import RateLimited, Unavailable
from trackwatch.model import Audience, Finding, Place, Severity, Shipment
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store.records import AlertOpen, Evaluation, NoticeDraft

NUMBER = "1Z5R89390357567127"
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")
RULES_FILE = Path(__file__).parent.parent / "deploy" / "prometheus-rules.yml"
RULES_TESTS = Path(__file__).parent / "prometheus-rules.test.yml"  # promtool's unit tests


@pytest.fixture
async def daemon(make_settings: SettingsFactory, clock: FrozenClock) -> AsyncIterator[Daemon]:
    settings = make_settings(carriers={"usps": {}, "ups": push_settings("ups")})
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
    assert body["checks"]["carriers"] == {"ok": False, "failing": {"ups": "HTTP 503"}, "parked": {}}
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
    assert 'trackwatch_notices{state="pending",store="shop"} 1.0' in text
    assert 'trackwatch_notices{state="dead",store="shop"} 0.0' in text
    assert "trackwatch_oldest_pending_notice_seconds 600.0" in text
    await daemon.outbox.run_once()  # delivered to the chat sink
    status, text = await get(daemon, "/metrics")
    assert 'trackwatch_notices_sent_total{channel="staff_chat"} 1.0' in text
    assert "trackwatch_oldest_pending_notice_seconds 0.0" in text
    assert 'trackwatch_notices{state="sent",store="shop"} 1.0' in text


async def test_healthz_is_degraded_while_a_carrier_is_parked_and_says_until_when(
    daemon: Daemon, clock: FrozenClock
) -> None:
    until = await daemon.poller.health.rate_limited(
        "ups", RateLimited("ups", "HTTP 429", retry_after=600), clock.now()
    )
    status, body = await get(daemon, "/healthz")
    assert status == 200 and body["status"] == "degraded"
    assert body["checks"]["carriers"] == {"ok": False, "failing": {},
                                          "parked": {"ups": until.isoformat()}}  # fmt: skip
    status, text = await get(daemon, "/metrics")
    parked = 'trackwatch_carrier_parked_until_timestamp_seconds{carrier="ups"}'
    assert sample(text, parked) == until.timestamp()
    assert 'trackwatch_carrier_up{carrier="ups"} 1.0' in text  # parked is not down
    clock.advance(minutes=20)  # past the wait (at least min_poll_minutes)
    status, body = await get(daemon, "/healthz")
    assert body["status"] == "ok" and body["checks"]["carriers"]["parked"] == {}
    status, text = await get(daemon, "/metrics")
    assert sample(text, parked) == 0.0


def sample(text: str, series: str) -> float | None:
    """The value of one series in an exposition, None when it is not there."""
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else None


async def test_carrier_accounts_are_up_or_down_with_their_last_success_and_quota(
    daemon: Daemon, clock: FrozenClock
) -> None:
    _, text = await get(daemon, "/metrics")
    assert sample(text, 'trackwatch_carrier_up{carrier="ups"}') == 1.0
    assert sample(text, 'trackwatch_carrier_up{carrier="usps"}') == 1.0
    assert sample(text, 'trackwatch_carrier_quota_limit{carrier="usps"}') == 60.0
    assert sample(text, 'trackwatch_carrier_quota_remaining{carrier="usps"}') == 60.0
    assert "trackwatch_carrier_last_success_timestamp_seconds{" not in text  # none yet
    shipment = Shipment(store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
                        customer_email="c@example.com", shipped_at=clock.now())  # fmt: skip
    await daemon.store.add_shipment(shipment, clock.now())
    polled_at = clock.now()
    await daemon.tick()  # the sandbox answers (it knows nothing of the number yet)
    clock.advance(minutes=5)
    await daemon.poller.health.failed("ups", Unavailable("ups", "HTTP 503"), clock.now())
    _, text = await get(daemon, "/metrics")
    assert sample(text, 'trackwatch_carrier_up{carrier="ups"}') == 0.0
    assert sample(text, 'trackwatch_carrier_up{carrier="usps"}') == 1.0
    last = 'trackwatch_carrier_last_success_timestamp_seconds{carrier="ups"}'
    assert sample(text, last) == polled_at.timestamp()


async def test_open_alerts_by_store_drop_to_zero_when_the_last_resolves(
    daemon: Daemon, clock: FrozenClock
) -> None:
    _, text = await get(daemon, "/metrics")
    assert sample(text, 'trackwatch_open_alerts{rule="lost",store="shop"}') == 0.0  # every rule
    # A store no longer configured: its series exists only while it has counts, then 0.
    shipment = Shipment(store="gone", carrier="ups", tracking_number=NUMBER, order_id="A1",
                        customer_email="c@example.com", shipped_at=clock.now())  # fmt: skip
    sid = await daemon.store.add_shipment(shipment, clock.now())
    finding = Finding(rule="late", episode="e1", severity=Severity.WARNING,
                      audiences=(Audience.STAFF,), summary="late", action="-", explanation={})  # fmt: skip
    await daemon.store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, finding, ())]),
                                        clock.now())  # fmt: skip
    _, text = await get(daemon, "/metrics")
    assert sample(text, 'trackwatch_open_alerts{rule="late",store="gone"}') == 1.0
    assert sample(text, 'trackwatch_open_alerts{rule="late",store="shop"}') == 0.0
    assert await daemon.store.resolve_by_hand(sid, "late", "found", clock.now())
    _, text = await get(daemon, "/metrics")
    assert sample(text, 'trackwatch_open_alerts{rule="late",store="gone"}') == 0.0


async def test_build_process_and_renamed_metrics(daemon: Daemon) -> None:
    _, text = await get(daemon, "/metrics")
    assert sample(text, f'trackwatch_build_info{{version="{__version__}"}}') == 1.0
    assert (sample(text, "process_resident_memory_bytes") or 0) > 0
    assert (sample(text, "process_start_time_seconds") or 0) > 0
    assert sample(text, "trackwatch_watched_shipments") == 0.0
    assert "trackwatch_shipments_polled" not in text  # a gauge named like a counter


def exposed_names(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines()
            if line and not line.startswith("#")}  # fmt: skip


def promtool(*args: str) -> str:
    """promtool comes with Debian's prometheus package (.ci/run installs it)."""
    program = shutil.which("promtool")
    assert program, "promtool is missing: apt-get install prometheus (see .ci/run)"
    done = subprocess.run([program, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_example_alert_rules_pass_promtool_and_fire_when_they_should() -> None:
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", str(RULES_FILE))
    # Series played minute by minute; the alerts expected, and none before their `for`.
    assert "SUCCESS" in promtool("test", "rules", str(RULES_TESTS))


async def test_the_example_alert_rules_name_only_metrics_the_daemon_exposes(
    daemon: Daemon,
) -> None:
    """Every metric an expression names is on this daemon's /metrics (`up` is Prometheus's
    own): a renamed metric would leave a rule that never fires."""
    await daemon.poller.health.failed("ups", Unavailable("ups", "HTTP 503"), daemon.clock.now())
    _, text = await get(daemon, "/metrics")
    named = set(re.findall(r"\b((?:trackwatch|process)_[a-z_]+)", RULES_FILE.read_text()))
    assert len(named) >= 6 and named <= exposed_names(text), named - exposed_names(text)


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
