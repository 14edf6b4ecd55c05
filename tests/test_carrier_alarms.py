"""Carrier alarms: an outage is told once it lasts, credentials at once, 429s never; each
store hears once per outage, and a restarted daemon still resolves what it had opened."""

from __future__ import annotations

from tests.conftest import both_backends
from tests.rulekit import at
from trackwatch.carrier_alarms import CARRIER_DOWN, CarrierAlarms
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.errors import (
    AuthFailed,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    Unavailable,
)
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter
from trackwatch.notify.render import Renderer
from trackwatch.store import open_store

pytestmark = both_backends


async def test_outages_are_told_once_they_last_and_resolved_after_a_restart(
    database: str,
) -> None:
    settings = build_settings({"stores": {s: {"name": s, "channels": {
        "staff_email": ["mailto://127.0.0.1:9?from=a@b.c"]}} for s in ("a", "b")}})  # fmt: skip
    clock = FrozenClock(at(11, 24, 10))
    store = await open_store(database)
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
    await alarms.failed("ups", AuthFailed("ups", "token rejected"), ["b"])
    await alarms.failed("ups", AuthFailed("ups", "token rejected"), ["b"], 2)  # confirmed
    assert set(await store.open_store_alerts(CARRIER_DOWN)) == {("a", "dhl"), ("b", "dhl"),
                                                                ("b", "ups")}  # fmt: skip
    assert len(await store.notices()) == 3  # one per store and carrier

    restarted = CarrierAlarms(store, clock, settings.daemon, drafter)
    await restarted.succeeded("dhl")
    await restarted.succeeded("dhl")
    assert set(await store.open_store_alerts(CARRIER_DOWN)) == {("b", "ups")}
    assert [n.event for n in await store.notices()].count("resolved") == 2
    await store.close()


async def test_a_single_rejected_token_is_not_told_a_second_one_is(database: str) -> None:
    """UPS answered 250003 once, then the same token worked: staff heard nothing. A second
    refusal in a row is told at once, without waiting for the outage delay."""
    settings = build_settings({"stores": {"a": {"name": "a", "channels": {
        "staff_email": ["mailto://127.0.0.1:9?from=a@b.c"]}}}})  # fmt: skip
    clock = FrozenClock(at(11, 24, 10))
    store = await open_store(database)
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer())
    alarms = CarrierAlarms(store, clock, settings.daemon, drafter)
    await alarms.failed("ups", AuthFailed("ups", "token rejected (250003)"), ["a"])
    await alarms.succeeded("ups")
    assert await store.notices() == [] and await store.all_alerts() == []
    clock.advance(minutes=15)
    await alarms.failed("ups", AuthFailed("ups", "token rejected (250003)"), ["a"])
    assert await store.open_store_alerts(CARRIER_DOWN) == {}
    clock.advance(minutes=15)
    await alarms.failed("ups", AuthFailed("ups", "token rejected (250003)"), ["a"], 2)
    (alert,) = await store.all_alerts()
    assert alert.summary == "UPS rejects our credentials" and alert.severity.value == "urgent"
    await store.close()


async def test_each_failure_is_told_for_what_it_is(database: str) -> None:
    """A malformed or refused answer is not 'cannot be reached'."""
    settings = build_settings({"stores": {"a": {"name": "a"}}})
    clock = FrozenClock(at(11, 24, 10))
    store = await open_store(database)
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer())
    alarms = CarrierAlarms(store, clock, settings.daemon, drafter)
    for carrier, error in (("fedex", MalformedResponse("fedex", "output is not an object")),
                           ("dhl", RequestRejected("dhl", "HTTP 400")),
                           ("usps", Unavailable("usps", "HTTP 503"))):  # fmt: skip
        await alarms.failed(carrier, error, ["a"])
    clock.advance(minutes=31)
    for carrier, error in (("fedex", MalformedResponse("fedex", "output is not an object")),
                           ("dhl", RequestRejected("dhl", "HTTP 400")),
                           ("usps", Unavailable("usps", "HTTP 503"))):  # fmt: skip
        await alarms.failed(carrier, error, ["a"])
    summaries = sorted(a.summary for a in await store.all_alerts())
    assert summaries == ["DHL refuses our requests", "FedEx answers in a form trackwatch "
                         "cannot read", "USPS cannot be reached"]  # fmt: skip
    await store.close()
