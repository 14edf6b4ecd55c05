"""Subscriptions over time, on a FrozenClock: UPS's renewed before their 14 days run out, a
USPS subscription the carrier suspended noticed (a poll finds a scan no push brought) and
enabled again, and a parcel whose pushes stopped coming polled again, so nothing is missed.
Also the worker alone: a pushed date is read in the destination's zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carriers.pushes import READERS
from tests.conftest import SettingsFactory, both_backends
from tests.push_kit import (  # noqa: F401 (fixtures)
    at,
    parcel,
    push_fixture,
    push_settings,
    run,
    sandbox_fixture,
    shipment,
    started,
)
from trackwatch.app import Daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Shipment
from trackwatch.push.worker import PushWorker
from trackwatch.sandbox.push import SandboxPush
from trackwatch.sandbox.world import World
from trackwatch.store import Store
from trackwatch.store.push_records import InboxPush

pytestmark = both_backends


async def polls(daemon: Daemon) -> int:
    (found,) = (await daemon.store.list_shipments()).shipments
    return found.polls


async def test_ups_subscription_is_renewed_before_its_14_days_run_out(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, push: SandboxPush
) -> None:
    # A slow parcel, scanned every other day for three weeks.
    steps = [(at(23, 9), "label"), (at(23, 18), "picked_up")]
    steps += [(at(23, 12) + timedelta(days=2 * n), "in_transit") for n in range(1, 11)]
    parcel(world, "ups", *steps)
    clock.set(at(23, 9, 5))
    async for daemon in started(make_settings, clock, push, "ups"):
        await run(daemon, push, clock, at(23, 10))
        first = push.sub_of("ups", shipment("ups", at(23, 9)).tracking_number)
        assert push.calls["ups"] == 1 and first is not None and first.expires is not None
        ends = first.expires
        await run(daemon, push, clock, ends - timedelta(hours=1), timedelta(hours=1))
        assert push.calls["ups"] == 2  # renewed a day before it would have lapsed
        assert first.expires is not None and first.expires > ends
        await run(daemon, push, clock, at(13, 12, month=12), timedelta(hours=1))
        (found,) = (await daemon.store.list_shipments()).shipments
        events = (await daemon.store.events_for([found.id or 0]))[found.id or 0]
        assert len({e.occurred_at for e in events if e.occurred_at > ends}) == 4  # after day 14
        assert push.pushed["ups"] == 11  # every scan after the label


async def test_a_suspended_usps_subscription_is_noticed_and_enabled_again(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, push: SandboxPush
) -> None:
    parcel(world, "usps", (at(23, 9), "label"), (at(23, 18), "picked_up"),
           (at(24, 2), "departed"), (at(24, 14), "arrived"), (at(27, 7, 30), "out_for_delivery"),
           (at(27, 11, 7), "delivered"))  # fmt: skip
    clock.set(at(23, 9, 5))
    async for daemon in started(make_settings, clock, push, "usps"):
        await run(daemon, push, clock, at(23, 20))
        sub = push.sub_of("usps", shipment("usps", at(23, 9)).tracking_number)
        assert sub is not None and push.pushed["usps"] == 1  # the pickup
        sub.status = "SUSPENDED"  # as USPS does when it cannot reach the listener
        await run(daemon, push, clock, at(26, 8), timedelta(minutes=30))
        assert await polls(daemon) >= 2  # pushes went quiet: polled again, found the scans
        assert sub.status == "SUSPENDED" and push.calls["usps"] == 1
        await run(daemon, push, clock, at(26, 12), timedelta(minutes=30))
        assert sub.status == "ENABLED" and push.calls["usps"] == 3  # GET, then PUT If-Match
        await run(daemon, push, clock, at(27, 12))
        alerts = {a.rule: a for a in await daemon.store.all_alerts()}
        assert alerts["delivered"].opened_at - at(27, 11, 7) <= timedelta(minutes=10)


async def test_a_push_that_never_comes_is_caught_by_polling(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, push: SandboxPush
) -> None:
    parcel(world, "fedex", (at(23, 9), "label"), (at(23, 18), "picked_up"),
           (at(24, 2), "departed"), (at(24, 14), "arrived"), (at(25, 7, 30), "out_for_delivery"),
           (at(25, 11, 7), "delivered"))  # fmt: skip
    clock.set(at(23, 9, 5))
    async for daemon in started(make_settings, clock, push, "fedex"):
        push.portal.fedex_url = "http://127.0.0.1:9/push/fedex"  # every push lost on the way
        await run(daemon, push, clock, at(25, 10), timedelta(minutes=30))
        assert await polls(daemon) == 1  # covered: nothing polled while pushes might come
        await run(daemon, push, clock, at(27, 12), timedelta(minutes=30))
        alerts = {a.rule for a in await daemon.store.all_alerts()}
        assert "delivered" in alerts and await polls(daemon) > 1
        assert push.pushed["fedex"] == 0 and sum(push.refused.values()) == 6


async def test_a_pushed_date_is_read_in_the_destination_zone(
    any_store: Store, make_settings: SettingsFactory, clock: FrozenClock
) -> None:
    number = "1Z5R89390357567127"
    await any_store.add_shipment(Shipment(
        store="shop", carrier="ups", tracking_number=number, order_id="A", customer_email="c@x.io",
        destination_postal_code="80202", shipped_at=at(23, 9)), clock.now())  # fmt: skip
    # UPS's example out-for-delivery body (tests/fixtures/push), for this number, scanned in
    # Chicago: its scheduled date is a Denver day, the parcel's destination.
    body = json.loads((Path(__file__).parent / "fixtures/push/"
                       "ups-track-alert-webhook-out-for-delivery-spec-example.json").read_text())  # fmt: skip
    body |= {"trackingNumber": number, "scheduledDeliveryDate": "20261125",
             "gmtActivityDate": "20261124", "activityLocation": {"city": "Chicago",
                                                                 "stateProvince": "IL", "country": "US"}}  # fmt: skip
    raw = json.dumps(body)
    clock.set(at(24, 10))  # pushed just after the scan (a scan dated a day ahead is none)
    await any_store.receive_push(InboxPush("ups", raw, "d1"), clock.now())
    settings = make_settings(carriers={"ups": push_settings("ups")})
    assert await PushWorker(any_store, clock, settings, READERS).run_once() == 1
    (found,) = (await any_store.list_shipments()).shipments
    assert found.eta == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # midnight in Denver
