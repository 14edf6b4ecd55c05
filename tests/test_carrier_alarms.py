"""Carrier alarms: an outage is told once it lasts, credentials at once, 429s never; each
store hears once per outage, and a restarted daemon still resolves what it had opened."""

from __future__ import annotations

from pathlib import Path

from tests.rulekit import at
from trackwatch.carrier_alarms import CARRIER_DOWN, CarrierAlarms
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.errors import AuthFailed, RateLimited, Unavailable
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter
from trackwatch.notify.render import Renderer
from trackwatch.store import SqliteStore


async def test_outages_are_told_once_they_last_and_resolved_after_a_restart(
    tmp_path: Path,
) -> None:
    settings = build_settings({"stores": {s: {"name": s, "channels": {
        "staff_email": ["mailto://127.0.0.1:9?from=a@b.c"]}} for s in ("a", "b")}})  # fmt: skip
    clock = FrozenClock(at(11, 24, 10))
    store = await SqliteStore.open(tmp_path / "tw.db")
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer())
    alarms = CarrierAlarms(store, clock, settings.daemon, drafter)
    await alarms.failed("dhl", RateLimited("dhl", "429"), ["a"])
    await alarms.failed("dhl", Unavailable("dhl", "HTTP 503"), ["a"])
    clock.advance(minutes=29)
    await alarms.failed("dhl", Unavailable("dhl", "HTTP 503"), ["a"])
    assert await store.open_store_alerts(CARRIER_DOWN) == {}  # a blip, not an outage
    clock.advance(minutes=1)
    await alarms.failed("dhl", Unavailable("dhl", "HTTP 503"), ["a", "b", "a"])
    await alarms.failed("dhl", Unavailable("dhl", "HTTP 503"), ["a"])
    await alarms.failed("ups", AuthFailed("ups", "token rejected"), ["b"])  # at once
    assert set(await store.open_store_alerts(CARRIER_DOWN)) == {("a", "dhl"), ("b", "dhl"),
                                                                ("b", "ups")}  # fmt: skip
    assert len(await store.notices()) == 3  # one per store and carrier

    restarted = CarrierAlarms(store, clock, settings.daemon, drafter)
    await restarted.succeeded("dhl")
    await restarted.succeeded("dhl")
    assert set(await store.open_store_alerts(CARRIER_DOWN)) == {("b", "ups")}
    assert [n.event for n in await store.notices()].count("resolved") == 2
    await store.close()
