"""Write-back: a case opening or closing on a Shopify fulfillment's parcel records a
fulfillment event on it, through the outbox, against the sandbox's stand-in for the Admin
API on 127.0.0.1; a sender that died after Shopify took the event never writes it again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from rules import RULES
from tests.conftest import both_backends, run_on_clock
from tests.shopify_kit import TOKEN, order
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import Audience, Finding, NoticeState, Severity, Shipment, Status
from trackwatch.monitor import Monitor
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Pacing
from trackwatch.notify.outbox import Outbox
from trackwatch.notify.render import Renderer
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.shopify_shop import Shop
from trackwatch.sandbox.world import World
from trackwatch.shopify import writeback
from trackwatch.shopify.landing import land
from trackwatch.store import Store, open_store
from trackwatch.store.records import Evaluation

pytestmark = both_backends
UPS = "1Z5R89390357567127"
GID = "gid://shopify/Fulfillment/901001"
STEP = timedelta(milliseconds=250)


@dataclass
class Rig:
    store: Store
    shop: Shop
    settings: Settings
    clock: FrozenClock
    monitor: Monitor

    def outbox(self) -> Outbox:
        return Outbox(self.store, self.clock, self.settings.daemon,
                      ChannelDirectory(self.settings.stores))  # fmt: skip

    async def send(self) -> int:
        return await run_on_clock(self.clock, self.outbox().run_once(), STEP)

    async def shipment(self) -> Shipment:
        (found,) = (await self.store.list_shipments()).shipments
        return found

    async def open_case(self, rule: str, **facts: str) -> int:
        finding = Finding(rule=rule, episode="e1", severity=Severity.WARNING,
                          audiences=(Audience.STAFF,), summary="s", action="a",
                          explanation={"why": "test"}, facts=facts)  # fmt: skip
        shipment = await self.shipment()
        opened = self.monitor._open(self.monitor.view(shipment, []), finding,
                                    Pacing(self.clock.now()))  # fmt: skip
        applied = await self.store.apply_evaluation(Evaluation(opens=[opened]), self.clock.now())
        assert applied.opened
        return max(a.id for a in await self.store.alerts_for(shipment.id or 0))

    async def close_case(self, reason: str) -> None:
        shipment = await self.shipment()
        (alert,) = [a for a in await self.store.alerts_for(shipment.id or 0)
                    if a.resolved_at is None]  # fmt: skip
        resolve = self.monitor._resolve(self.monitor.view(shipment, []), alert, reason,
                                        Pacing(self.clock.now()))  # fmt: skip
        await self.store.apply_evaluation(Evaluation(resolves=[resolve]), self.clock.now())

    def events(self) -> list[tuple[str, str]]:
        found = self.shop.fulfillment(GID)
        assert found is not None
        return [(str(e["status"]), str(e["message"])) for e in found[1].events]


def settings_for(database: str, server: SandboxServer, write_back: bool = True) -> Settings:
    shopify = {"shop_domain": "sandbox-shop.myshopify.com", "access_token": TOKEN,
               "admin_url": server.base_url, "write_back": write_back}  # fmt: skip
    return build_settings({"daemon": {"database": database}, "stores": {
        "shop": {"name": "Shop", "shopify": shopify}}})  # fmt: skip


@pytest.fixture
async def rig(database: str, clock: FrozenClock) -> AsyncIterator[Rig]:
    shop = Shop(clock, access_token=TOKEN)
    order(shop, 1001, clock.now() - timedelta(days=3), [UPS])
    server = await SandboxServer(World(), clock, shop=shop).start()
    settings = settings_for(database, server)
    store = await open_store(database)
    fulfillment = {"id": 901001, "admin_graphql_api_id": GID, "name": "#1001.1",
                   "status": "success", "tracking_company": "UPS", "tracking_numbers": [UPS],
                   "created_at": (clock.now() - timedelta(days=2)).isoformat(),
                   "email": "jon@example.com", "destination": {"zip": "40003",
                                                              "country_code": "US"}}  # fmt: skip
    await land(store, settings, clock.now(), "shop", fulfillment, "test:1")
    monitor = Monitor(store, RULES, clock, settings, ChannelDirectory(settings.stores),
                      Renderer())  # fmt: skip
    yield Rig(store, shop, settings, clock, monitor)
    await store.close()
    await server.stop()


async def test_a_delay_and_its_end_are_recorded_on_the_fulfillment(rig: Rig) -> None:
    assert (await rig.shipment()).fulfillment_gid == GID
    await rig.open_case("stalled")
    assert await rig.send() == 1
    assert rig.events() == [("DELAYED", f"UPS {UPS}: delayed: no movement reported by the "
                             "carrier for a while")]  # fmt: skip
    rig.clock.advance(hours=5)
    await rig.close_case("the carrier reported it in transit at Mon 23 Nov 10:00")
    await rig.send()
    assert [s for s, _ in rig.events()] == ["DELAYED", "IN_TRANSIT"]
    assert rig.events()[1][1].endswith("back on track: the carrier reported it in transit at "
                                       "Mon 23 Nov 10:00")  # fmt: skip
    notices = await rig.store.notices()
    assert [(n.channel, n.event, n.state) for n in notices] == [
        ("shopify.0", "opened", NoticeState.SENT),
        ("shopify.0", "resolved", NoticeState.SENT),
    ]
    assert rig.shop.events_written[GID] == 2 and await rig.send() == 0


async def test_a_sender_that_died_after_shopify_took_the_event_does_not_write_it_again(
    rig: Rig,
) -> None:
    await rig.open_case("exceptions", kind="delivery_attempted")
    # The first sender claims the notice, Shopify records the event, and the sender dies
    # before it can mark the notice sent (the write went through writeback.deliver as the
    # outbox sends it; nothing marked it).
    lease = rig.clock.now() + timedelta(seconds=rig.settings.daemon.notice_lease_seconds)
    (claimed,) = await rig.store.claim_notices(rig.clock.now(), lease, 10)
    outcome = await run_on_clock(rig.clock, writeback.deliver(
        rig.settings.stores["shop"].shopify, claimed, rig.clock), STEP)  # fmt: skip
    assert outcome.error is None and not outcome.already
    assert await rig.send() == 0  # still leased to the dead sender
    rig.clock.advance(seconds=rig.settings.daemon.notice_lease_seconds + 1)
    assert await rig.send() == 1
    assert rig.shop.events_written[GID] == 1
    assert rig.events() == [("ATTEMPTED_DELIVERY", f"UPS {UPS}: the carrier attempted "
                             "delivery")]  # fmt: skip
    (notice,) = await rig.store.notices()
    assert notice.state is NoticeState.SENT and notice.attempts == 2


@pytest.mark.parametrize(
    ("rule", "kind", "status"),
    [("late", "", "DELAYED"), ("lost", "", "FAILURE"),
     ("delivered_not_received", "", "FAILURE"), ("exceptions", "returned_to_sender", "FAILURE"),
     ("exceptions", "customs_hold", "DELAYED"),
     ("exceptions", "available_for_pickup", "READY_FOR_PICKUP")],
)  # fmt: skip
async def test_each_case_maps_to_shopifys_status(
    rig: Rig, rule: str, kind: str, status: str
) -> None:
    await rig.open_case(rule, **({"kind": kind} if kind else {}))
    await rig.send()
    assert [s for s, _ in rig.events()] == [status]


async def test_what_writes_nothing(rig: Rig, database: str) -> None:
    """A case another one took over ends silently (the new one writes); a rule that is not
    a case (a delivery, a risky one) writes nothing; a store without write_back nothing."""
    await rig.open_case("stalled")
    await rig.close_case("superseded by lost")
    await rig.open_case("delivered")
    shipment = await rig.shipment()
    off = settings_for(database, SandboxServer(World(), rig.clock), write_back=False)
    assert writeback.drafts(off, shipment, "stalled", "opened", {}, None, rig.clock.now()) == ()
    unshopified = shipment.model_copy(update={"fulfillment_gid": None})
    assert writeback.drafts(rig.settings, unshopified, "stalled", "opened", {}, None,
                            rig.clock.now()) == ()  # fmt: skip
    assert [n.event for n in await rig.store.notices()] == ["opened"]


async def test_a_closed_case_reports_the_carriers_last_status(rig: Rig) -> None:
    shipment = (await rig.shipment()).model_copy(update={"status": Status.DELIVERED})
    (draft,) = writeback.drafts(rig.settings, shipment, "lost", "resolved", {},
                                "the carrier reported it delivered", rig.clock.now())  # fmt: skip
    given = json.loads(draft.body)
    assert given == {"fulfillmentId": GID, "status": "DELIVERED",
                     "happenedAt": "2026-11-23T05:00:00Z",
                     "message": f"UPS {UPS}: back on track: the carrier reported it "
                                "delivered"}  # fmt: skip
