"""What the push tests share: a sandbox whose carriers push, settings with push on, and a
driver that moves the FrozenClock in steps, delivering the carriers' pushes between the
daemon's passes (as the simulator does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SettingsFactory
from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Place, Shipment
from trackwatch.sandbox.push import SandboxPush
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.sim.pushing import CLIENT, connect
from trackwatch.sim.pushing import FEDEX_TOKEN as SIM_FEDEX_TOKEN

NY = ZoneInfo("America/New_York")
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")
BERLIN = Place(city="Berlin", postal_code="10115", country="DE")
# The simulator's webhook credentials: its `connect` enters them in the carriers' portals.
UPS_CLIENT, FEDEX_TOKEN = CLIENT, SIM_FEDEX_TOKEN
NUMBERS = {"ups": "1Z5R89390357567127", "usps": "9400111899223408227426",
           "fedex": "123456789012", "dhl": "JJD0099999999"}  # fmt: skip


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def push_settings(carrier: str) -> dict[str, Any]:
    """`[carriers.<carrier>.push]` for a test: on, with what the carrier needs."""
    extras: dict[str, dict[str, Any]] = {
        "ups": {"webhook_client_id": UPS_CLIENT[0], "webhook_client_secret": UPS_CLIENT[1]},
        "usps": {"admin_emails": ["ops@example.com"]},
        "fedex": {"security_token": FEDEX_TOKEN},
        "dhl": {"service": "parcel-de"},
    }
    extra = extras[carrier]
    return {"push": {"enabled": True, **extra}}


def parcel(world: World, carrier: str, *steps: tuple[datetime, str]) -> Parcel:
    destination = BERLIN if carrier == "dhl" else NYC
    timeline = [Milestone(when, kind, CHICAGO if kind != "delivered" else destination)
                for when, kind in steps]  # fmt: skip
    return world.add(Parcel(carrier, NUMBERS[carrier], timeline, destination))


def shipment(carrier: str, shipped_at: datetime) -> Shipment:
    country = "DE" if carrier == "dhl" else "US"
    postal = "10115" if carrier == "dhl" else "10001"
    return Shipment(store="shop", carrier=carrier, tracking_number=NUMBERS[carrier],
                    order_id="A1", customer_email="c@example.com", destination_country=country,
                    destination_postal_code=postal, shipped_at=shipped_at)  # fmt: skip


async def run(daemon: Daemon, push: SandboxPush, clock: FrozenClock, until: datetime,
              step: timedelta = timedelta(minutes=5)) -> None:  # fmt: skip
    """Step the clock to `until`: at each step the carriers push what happened, then the
    daemon does one pass of each loop."""
    while clock.now() < until:
        clock.advance(step)
        await push.deliver(clock.now())
        await daemon.tick()


@pytest.fixture(name="push")
def push_fixture(world: World, clock: FrozenClock) -> SandboxPush:
    return SandboxPush(world, clock)


@pytest.fixture(name="sandbox")
async def sandbox_fixture(world: World, clock: FrozenClock, push: SandboxPush
                  ) -> AsyncIterator[SandboxServer]:  # fmt: skip
    server = await SandboxServer(world, clock, push=push).start()
    yield server
    await server.stop()


async def started(make_settings: SettingsFactory, clock: FrozenClock, push: SandboxPush,
                  carrier: str) -> AsyncIterator[Daemon]:  # fmt: skip
    settings = make_settings(carriers={carrier: push_settings(carrier)})
    async with open_daemon(settings, clock) as daemon:
        connect(push, daemon)
        await daemon.store.add_shipment(shipment(carrier, at(23, 9)), clock.now())
        yield daemon
