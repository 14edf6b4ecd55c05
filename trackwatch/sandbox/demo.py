"""`trackwatch demo`: the real daemon against the sandbox, Thanksgiving week 2026, fast.

Six parcels to New York, across all four carriers. Three UPS parcels: one delivered on time;
one that goes quiet on the Wednesday before Thanksgiving (the holiday and the weekend don't
count, so its stall alert comes the next Wednesday); one quiet since the Friday before,
whose alert opens on Thanksgiving and resolves when it moves again on Friday. A USPS, a
FedEx and a DHL parcel are delivered on time through their own APIs' shapes (batch POSTs
for USPS and FedEx, an API-key GET for DHL) and raise nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from trackwatch.app import open_daemon
from trackwatch.clock import ScaledClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import NoticeState, Place, Shipment
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink, Received
from trackwatch.sandbox.world import Milestone, Parcel, World

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
END = datetime(2026, 12, 2, 12, 0, tzinfo=NY)
DEST = Place(city="New York", state="NY", postal_code="10001", country="US")

_PLACES = {
    "chicago": Place(city="Chicago", state="IL", postal_code="60601", country="US"),
    "atlanta": Place(city="Atlanta", state="GA", postal_code="30301", country="US"),
    "dallas": Place(city="Dallas", state="TX", postal_code="75201", country="US"),
    "memphis": Place(city="Memphis", state="TN", postal_code="38118", country="US"),
    "philadelphia": Place(city="Philadelphia", state="PA", postal_code="19019", country="US"),
    "secaucus": Place(city="Secaucus", state="NJ", postal_code="07094", country="US"),
    "new york": DEST,
}


def _at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=NY)


def _timeline(*steps: tuple[datetime, str, str]) -> list[Milestone]:
    return [Milestone(at, kind, _PLACES[where]) for at, kind, where in steps]


@dataclass(frozen=True)
class DemoParcel:
    order_id: str
    number: str
    shipped_at: datetime
    timeline: list[Milestone]
    expect_opened: int
    expect_resolved: int
    carrier: str = "ups"


PARCELS = (
    DemoParcel("1001", "1Z5R89390357567127", _at(23, 9), _timeline(
        (_at(23, 9), "label", "chicago"), (_at(23, 18), "picked_up", "chicago"),
        (_at(24, 2), "departed", "chicago"), (_at(24, 20), "arrived", "secaucus"),
        (_at(25, 8), "out_for_delivery", "new york"), (_at(25, 14), "delivered", "new york"),
    ), expect_opened=0, expect_resolved=0),
    DemoParcel("1002", "1Z879E930346834440", _at(23, 10), _timeline(
        (_at(23, 10), "label", "atlanta"), (_at(23, 19), "picked_up", "atlanta"),
        (_at(24, 3), "departed", "atlanta"), (_at(25, 4), "arrived", "philadelphia"),
    ), expect_opened=1, expect_resolved=0),
    DemoParcel("1003", "1Z410E7W0392751591", _at(19, 12), _timeline(
        (_at(19, 12), "label", "dallas"), (_at(19, 18), "picked_up", "dallas"),
        (_at(20, 9), "arrived", "memphis"), (_at(27, 10), "departed", "memphis"),
        (_at(28, 6), "arrived", "secaucus"), (_at(30, 8), "out_for_delivery", "new york"),
        (_at(30, 13), "delivered", "new york"),
    ), expect_opened=1, expect_resolved=1),
    DemoParcel("1004", "9400111206206406260787", _at(23, 8), _timeline(
        (_at(23, 8), "label", "philadelphia"), (_at(23, 17), "picked_up", "philadelphia"),
        (_at(24, 1), "departed", "philadelphia"), (_at(24, 22), "arrived", "secaucus"),
        (_at(25, 7), "out_for_delivery", "new york"), (_at(25, 12), "delivered", "new york"),
    ), expect_opened=0, expect_resolved=0, carrier="usps"),
    DemoParcel("1005", "738488882438", _at(23, 11), _timeline(
        (_at(23, 11), "label", "memphis"), (_at(23, 20), "picked_up", "memphis"),
        (_at(24, 4), "departed", "memphis"), (_at(25, 9), "arrived", "secaucus"),
        (_at(27, 8), "out_for_delivery", "new york"), (_at(27, 15), "delivered", "new york"),
    ), expect_opened=0, expect_resolved=0, carrier="fedex"),
    DemoParcel("1006", "3318810025", _at(23, 9), _timeline(
        (_at(23, 9), "label", "chicago"), (_at(23, 21), "picked_up", "chicago"),
        (_at(24, 6), "arrived", "secaucus"), (_at(24, 20), "out_for_delivery", "new york"),
        (_at(25, 11), "delivered", "new york"),
    ), expect_opened=0, expect_resolved=0, carrier="dhl"),
)  # fmt: skip


def demo_world() -> World:
    world = World()
    for parcel in PARCELS:
        world.add(Parcel(parcel.carrier, parcel.number, parcel.timeline, DEST))
    return world


def demo_settings(database: Path, carrier_url: str, chat_url: str) -> Settings:
    data: dict[str, Any] = {
        "daemon": {"database": str(database)},
        "carriers": {
            name: {"base_url": carrier_url, "client_id": "demo", "client_secret": "demo-secret",
                   "api_key": "demo-key", "rate_limit": 100}
            for name in ("usps", "ups", "fedex", "dhl")
        },
        "stores": {"demo": {"name": "Demo Prints", "contact_email": "help@demo-prints.example",
                            "policy": {"stall_business_days": 3},
                            "channels": {"staff_chat": [chat_url]}}},
    }  # fmt: skip
    return build_settings(data)


def _printer(clock: ScaledClock, out: Callable[[str], None]) -> Callable[[Received], None]:
    def show(item: Received) -> None:
        when = clock.now().astimezone(NY).strftime("%a %d %b %H:%M")
        out(f"[{when}] staff chat <- {item.body.get('title', '')}")
        for line in str(item.body.get("message", "")).splitlines():
            out(f"    {line}")

    return show


async def run_demo(out: Callable[[str], None] = print, seconds: float = 20.0) -> int:
    """Play the scenario; 0 when exactly the expected alerts and notices happened."""
    clock = ScaledClock(START, scale=(END - START).total_seconds() / seconds)
    sandbox = await SandboxServer(demo_world(), clock).start()
    sink = await HttpSink(_printer(clock, out)).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = demo_settings(Path(tmp) / "demo.db", sandbox.base_url, sink.url("staff"))
            status = await _play(settings, clock, sink, out)
            calls = sandbox.world.calls
            out("carrier calls: " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))
            return status
    finally:
        await sink.stop()
        await sandbox.stop()


async def _play(settings: Settings, clock: ScaledClock, sink: HttpSink,
                out: Callable[[str], None]) -> int:  # fmt: skip
    out(f"demo: {START:%a %d %b %Y} to {END:%a %d %b %Y} (America/New_York), "
        f"simulated {clock.scale:,.0f}x faster than real time")  # fmt: skip
    async with open_daemon(settings, clock, idle=timedelta(minutes=30)) as daemon:
        ids = {}
        for parcel in PARCELS:
            shipment = Shipment(store="demo", carrier=parcel.carrier, tracking_number=parcel.number,
                                order_id=parcel.order_id, customer_email="customer@example.com",
                                destination_country="US", destination_postal_code="10001",
                                shipped_at=parcel.shipped_at)  # fmt: skip
            ids[parcel.order_id] = await daemon.store.add_shipment(shipment, clock.now())
        stopper = _stop_at(daemon.stop, clock)
        async with asyncio.TaskGroup() as group:
            group.create_task(daemon.run())
            group.create_task(stopper)
        await daemon.outbox.run_once()
        alerts = await daemon.store.all_alerts()
        failed = await daemon.store.notices(NoticeState.DEAD)
        ok = True
        for parcel in PARCELS:
            mine = [a for a in alerts if a.shipment_id == ids[parcel.order_id]]
            resolved = [a for a in mine if a.resolved_at is not None]
            ok &= len(mine) == parcel.expect_opened and len(resolved) == parcel.expect_resolved
        kinds = Counter(a.rule for a in alerts)
        expected_notices = sum(p.expect_opened + p.expect_resolved for p in PARCELS)
        ok &= len(sink.received) == expected_notices and not failed
        by_kind = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"
        out(f"summary: {len(PARCELS)} shipments, alerts {by_kind} "
            f"({sum(a.resolved_at is not None for a in alerts)} resolved), "
            f"notices sent {daemon.outbox.sent}, notices failed {len(failed)} "
            f"-> {'OK' if ok else 'UNEXPECTED'}")  # fmt: skip
        return 0 if ok else 1


async def _stop_at(stop: Callable[[], None], clock: ScaledClock) -> None:
    await clock.sleep((END - clock.now()).total_seconds())
    stop()
