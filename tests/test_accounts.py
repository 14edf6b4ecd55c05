"""Carrier accounts per store: a store may bring its own credentials (and quota); tokens,
quotas, the call ledger, 429 parking and outage alerts are that account's, and its alerts go
to the stores that use it. One store's revoked key holds no other store's parcels. The real
daemon against the sandbox, on a FrozenClock."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ALWAYS_STAFFED
from tests.test_end_to_end import CHICAGO, NYC, at, run_until
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import Shipment, Status
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import Milestone, Parcel, World

NUMBERS = {"a": "1Z5R89390357567127", "b": "1Z879E930346834440"}


def settings(tmp_path: Path, sandbox: SandboxServer, sink: HttpSink) -> Settings:
    ups = {"base_url": sandbox.base_url, "client_id": "platform", "client_secret": "s",
           "max_inline_wait_seconds": 0, "quota_calls": 40, "quota_window": "hour"}  # fmt: skip
    carriers = {name: {"enabled": False} for name in ("usps", "fedex", "dhl")} | {"ups": ups}
    stores = {s: {"name": s.upper(), "policy": {"staff": ALWAYS_STAFFED},
                  "channels": {"staff_chat": [sink.url(s)]}} for s in ("a", "b")}  # fmt: skip
    stores["b"]["carriers"] = {"ups": {"client_id": "store-b", "client_secret": "own",
                                       "quota_calls": 10}}  # fmt: skip
    return build_settings({"daemon": {"database": str(tmp_path / "tw.db"), "http_port": 0},
                           "carriers": carriers, "stores": stores})  # fmt: skip


async def test_a_store_s_own_account_is_its_own(
    tmp_path: Path, world: World, clock: FrozenClock, sandbox: SandboxServer, sink: HttpSink
) -> None:
    for number in NUMBERS.values():
        world.add(Parcel("ups", number, [Milestone(at(23, 9), "label", CHICAGO),
                                         Milestone(at(23, 18), "picked_up", CHICAGO)], NYC))  # fmt: skip
    world.refuse_client("ups", "store-b")  # store b's key was revoked at UPS
    async with open_daemon(settings(tmp_path, sandbox, sink), clock) as daemon:
        ids = {}
        for store, number in NUMBERS.items():
            ids[store] = await daemon.store.add_shipment(Shipment(
                store=store, carrier="ups", tracking_number=number, order_id=store.upper(),
                customer_email="c@example.com", destination_postal_code="10001",
                shipped_at=at(23, 9)), clock.now())  # fmt: skip
        await run_until(daemon, clock, at(24, 12))
        a = await daemon.store.get_shipment(ids["a"])
        b = await daemon.store.get_shipment(ids["b"])
        assert a is not None and a.status is Status.IN_TRANSIT  # the platform's key works
        assert b is not None and b.status is Status.UNKNOWN and b.polls == 0
        assert world.calls["ups:token:platform"] >= 1 and world.calls["ups:token:store-b"] >= 2
        failing = daemon.poller.health.failing
        assert set(failing) == {"ups@b"}  # only store b's account backs off
        quotas = daemon.poller._quotas
        assert quotas["ups@b"].limit == 10 and quotas["ups"].limit == 40
        ledger = daemon.store
        assert await ledger.calls_since("ups@b", at(23, 0))  # each account its own ledger
        assert await ledger.calls_since("ups", at(23, 0))
        (alert,) = await daemon.store.all_alerts()
    assert (alert.store, alert.subject) == ("b", "ups@b")
    assert alert.summary == "UPS (the store's own account) rejects our credentials"
    assert [r.path for r in sink.received] == ["/b"]  # store a hears nothing of it
