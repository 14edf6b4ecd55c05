"""Push end to end: the stand-in carriers take the daemon's subscriptions and push each scan to
its receivers; the daemon merges the pushes, alerts within minutes of the scan, polls less
while pushes come, and polls a parcel whose pushes went quiet. Real HTTP on 127.0.0.1, a
FrozenClock, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

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
from trackwatch.clock import FrozenClock
from trackwatch.model import Status
from trackwatch.sandbox.push import SandboxPush
from trackwatch.sandbox.world import World

pytestmark = both_backends


# Subscription API calls for one parcel, subscribed to delivered: UPS one subscribe (its
# subscriptions lapse); USPS create, then GET (for an ETag) and DELETE with If-Match once
# delivered; DHL create, activate (after its validate message), DELETE; FedEx none (the
# portal's account project pushes every parcel).
CALLS = {"ups": 1, "usps": 3, "dhl": 3, "fedex": 0}
# Polls: the first (back-fill: subscriptions bring no history); after a delivery, UPS's push
# (which does not say where the parcel was left) is followed by one poll that does, and
# USPS's and DHL's (whose subscriptions end at delivery) by the confirmation poll 48 hours
# later; UPS and FedEx go on pushing, so they need no confirmation poll.
POLLS_AT_DELIVERY = {"ups": 2, "usps": 1, "dhl": 1, "fedex": 1}
POLLS = {"ups": 2, "usps": 2, "dhl": 2, "fedex": 1}


@pytest.mark.parametrize("carrier", ["ups", "usps", "dhl", "fedex"])
async def test_a_delivery_is_alerted_within_minutes_of_the_scan_with_few_polls(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, push: SandboxPush,
    carrier: str,
) -> None:  # fmt: skip
    parcel(world, carrier, (at(23, 9), "label"), (at(23, 18), "picked_up"),
           (at(24, 2), "departed"), (at(24, 14), "arrived"), (at(25, 7, 30), "out_for_delivery"),
           (at(25, 11, 7), "delivered"))  # fmt: skip
    clock.set(at(23, 9, 5))
    async for daemon in started(make_settings, clock, push, carrier):
        await run(daemon, push, clock, at(25, 12))
        alerts = {a.rule: a for a in await daemon.store.all_alerts()}
        assert alerts["delivered"].opened_at - at(25, 11, 7) <= timedelta(minutes=10)
        # Said where it was left, even for UPS, whose push does not: the alert waits for
        # the poll that says it.
        assert alerts["delivered"].explanation["left at"] == "front door" or carrier == "dhl"
        (s,) = (await daemon.store.list_shipments()).shipments
        assert s.polls == POLLS_AT_DELIVERY[carrier]  # every scan after the first poll was pushed
        events = (await daemon.store.events_for([s.id or 0]))[s.id or 0]
        delivered = [e for e in events if e.status is Status.DELIVERED]
        # Where it was left: in the push (USPS's words, FedEx's and DHL's details), or, for
        # UPS, from the poll after it, which fills in the pushed scan.
        assert len(delivered) == 1 and delivered[0].delivery_location is not None
        # Each scan once: a pushed one the poll reads again with a postal code is replaced.
        scans = [(e.code, e.occurred_at) for e in events]
        assert len(scans) == len(set(scans)), [(e.code, e.place.label()) for e in events]
        assert push.pushed[carrier] >= 5 and not push.refused
        await run(daemon, push, clock, at(28, 12), timedelta(minutes=30))
        (s,) = (await daemon.store.list_shipments()).shipments
        assert s.polls == POLLS[carrier] and s.stopped == "delivered"
        assert push.calls[carrier] == CALLS[carrier]
        assert push.sub_of(carrier, s.tracking_number) is None or carrier in ("ups", "fedex")
