"""Shopify fulfillment webhooks: the HMAC over the raw body, replays ignored by webhook id,
and one shipment per tracking number of a fulfillment. Payloads: Shopify's documented
fulfillments/create example (tests/fixtures/shopify/README.md)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.conftest import FIXTURES, both_backends
from tests.rulekit import at
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import AlertState, Audience, Finding, NoticeState, Severity, Shipment
from trackwatch.store import Store, open_store
from trackwatch.store.records import AlertOpen, Evaluation, NoticeDraft
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import Served, build_app, serve
from trackwatch.web.shopify import signature
from trackwatch.web.signing import ReportLinks

pytestmark = both_backends


SECRET = "shpss_0123456789abcdef0123456789abcdef"
DOCUMENTED = json.loads((FIXTURES / "shopify" / "fulfillments-create.json").read_text())
UPS_1, UPS_2, UPS_3 = "1Z5R89390357567127", "1Z5R89390333788764", "1Z5R89390325102732"


def fulfillment(*numbers: str, **changes: Any) -> dict[str, Any]:
    """The documented payload, as a shop that ships several packages sends it, created three
    days before the test's clock (the documented one is from 2021, long past)."""
    return {**DOCUMENTED, "tracking_number": numbers[0], "tracking_numbers": list(numbers),
            "tracking_urls": [f"https://www.ups.com/track?tracknum={n}" for n in numbers],
            "created_at": "2026-11-20T10:00:00-05:00", **changes}  # fmt: skip


@dataclass
class Hook:
    store: Store
    served: Served

    async def post(
        self, payload: Any, webhook_id: str, topic: str = "fulfillments/create",
        secret: str = SECRET, store: str = "shop", tamper: bool = False,
    ) -> tuple[int, Any]:  # fmt: skip
        body = json.dumps(payload).encode()
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id,
                   "X-Shopify-Shop-Domain": "shop.myshopify.com",
                   "X-Shopify-Hmac-Sha256": signature(secret, body),
                   "Content-Type": "application/json"}  # fmt: skip
        if tamper:
            body = body.replace(b"Steve Shipper", b"Mallory Shipper")
        url = f"{self.served.base_url}/webhooks/shopify/{store}"
        async with aiohttp.ClientSession() as http, http.post(url, data=body,
                                                              headers=headers) as response:  # fmt: skip
            return response.status, await response.json()

    async def numbers(self) -> list[tuple[str, str]]:
        return sorted(
            (s.carrier, s.tracking_number) for s in (await self.store.list_shipments()).shipments
        )


@pytest.fixture
async def hook(database: str) -> AsyncIterator[Hook]:
    settings = build_settings({"daemon": {"http_port": 0}, "stores": {
        "shop": {"name": "Shop", "shopify_secret": SECRET},
        "other": {"name": "No Shopify"}}})  # fmt: skip
    store = await open_store(database)
    desk = ReportDesk(store, FrozenClock(at(11, 23, 12)), settings, ReportLinks(b"k" * 32, ""))
    served = await serve(build_app(desk), settings.daemon)
    yield Hook(store, served)
    await served.stop()
    await store.close()


async def test_a_signed_fulfillment_adds_one_shipment_per_number(hook: Hook) -> None:
    status, body = await hook.post(fulfillment(UPS_1, UPS_2), "wh-1")
    assert status == 200 and body["refused"] == []
    assert [s["created"] for s in body["shipments"]] == [True, True]
    assert await hook.numbers() == sorted([("ups", UPS_1), ("ups", UPS_2)])
    first = (await hook.store.list_shipments()).shipments[0]
    assert first.order_id == "#9999" and first.store == "shop"
    assert first.customer_email == "jon@example.com" and first.customer_name == "Steve Shipper"
    assert (first.destination_country, first.destination_postal_code) == ("US", "40003")
    assert first.destination_city == "Shippington"
    assert first.shipped_at == at(11, 20, 10)  # created_at, -05:00


async def test_a_bad_signature_is_refused_and_stores_nothing(hook: Hook) -> None:
    payload = fulfillment(UPS_1)
    for secret, tamper in [("another-apps-secret-0123456789", False), (SECRET, True)]:
        status, body = await hook.post(payload, "wh-1", secret=secret, tamper=tamper)
        assert status == 401
        assert body["error"] == {"field": "X-Shopify-Hmac-Sha256",
                                 "reason": "does not match the body"}  # fmt: skip
    assert await hook.numbers() == []
    # Refused deliveries are not remembered: the genuine one with that id still counts.
    status, body = await hook.post(payload, "wh-1")
    assert status == 200 and await hook.numbers() == [("ups", UPS_1)]


async def test_a_replayed_webhook_id_is_ignored(hook: Hook) -> None:
    assert (await hook.post(fulfillment(UPS_1), "wh-1"))[0] == 200
    status, body = await hook.post(fulfillment(UPS_1, UPS_2), "wh-1")
    assert (status, body) == (200, {"duplicate": True, "webhook_id": "wh-1"})
    assert await hook.numbers() == [("ups", UPS_1)]
    # An update with a new id adds the package it adds, and leaves the known one alone.
    status, body = await hook.post(fulfillment(UPS_1, UPS_3), "wh-2", "fulfillments/update")
    assert [s["created"] for s in body["shipments"]] == [False, True]
    assert await hook.numbers() == sorted([("ups", UPS_1), ("ups", UPS_3)])


async def test_the_documented_example_is_refused_by_number_and_date_not_by_status(
    hook: Hook,
) -> None:
    status, body = await hook.post(DOCUMENTED, "wh-doc")
    assert status == 200 and body["shipments"] == []
    (refused,) = body["refused"]
    assert refused["tracking_number"] == "1z827wk74630"
    # Every problem, named as Shopify names the field.
    problems = {e["field"]: e["reason"] for e in refused["errors"]}
    assert sorted(problems) == ["created_at", "tracking_number"]
    assert (refused["field"], refused["reason"]) in problems.items()
    assert "does not match any UPS tracking-number format" in problems["tracking_number"]
    assert "2021-12-31T19:00:00-05:00 is more than 365 days ago" in problems["created_at"]
    assert await hook.numbers() == []


async def test_carriers_from_the_company_or_the_number(hook: Hook) -> None:
    dhl = fulfillment("0479666972", tracking_company="DHL Express")
    usps = fulfillment("9400111398259791907485", tracking_company="Other")
    await hook.post(dhl, "wh-1")
    await hook.post(usps, "wh-2")
    assert await hook.numbers() == [("dhl", "0479666972"), ("usps", "9400111398259791907485")]


async def test_what_is_not_a_trackable_fulfillment_is_ignored(hook: Hook) -> None:
    status, body = await hook.post(fulfillment(UPS_1), "wh-1", topic="orders/create")
    assert status == 200 and "not a fulfillment" in body["ignored"]
    # A cancelled fulfillment adds nothing (and stops what it shipped: see issue 17 below).
    status, body = await hook.post(fulfillment(UPS_1, status="cancelled"), "wh-2")
    assert status == 200 and (body["shipments"], body["stopped"]) == ([], [])
    status, body = await hook.post(fulfillment(UPS_1, destination=None), "wh-3")
    assert body["refused"][0]["field"] == "destination"
    status, body = await hook.post(fulfillment(UPS_1), "wh-4", store="other")
    assert status == 404 and body["error"]["field"] == "store"
    assert await hook.numbers() == []


# --- issue 16 ------------------------------------------------------------------------------


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00-05:00", "9999-12-31T19:00:00-05:00"])
async def test_a_fulfillment_with_an_implausible_date_is_refused(
    hook: Hook, created_at: str
) -> None:
    """Finding 1: such a date, stored, made the daemon exit on every pass."""
    status, body = await hook.post(fulfillment(UPS_1, created_at=created_at), "wh-1")
    assert status == 200 and body["shipments"] == []
    assert body["refused"][0]["field"] == "created_at"
    assert await hook.numbers() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tracking_company": 5}, "tracking_company"),
        ({"tracking_company": ["UPS"]}, "tracking_company"),
        ({"tracking_numbers": "1Z5R89390357567127"}, "tracking_numbers"),
        ({"tracking_numbers": [{"n": 1}]}, "tracking_numbers"),
        ({"tracking_numbers": None, "tracking_number": 7}, "tracking_number"),
        ({"destination": "Main Street"}, "destination"),
        ({"name": {"a": 1}}, "name"),
        ({"status": []}, "status"),
    ],
)
async def test_a_signed_payload_of_the_wrong_shape_is_a_400(
    hook: Hook, change: dict[str, Any], field: str
) -> None:
    """Finding 2: a correctly signed webhook whose tracking_company is not a string answered
    500."""
    status, body = await hook.post(fulfillment(UPS_1, **change), "wh-1")
    assert status == 400 and body["error"]["field"] == field
    assert await hook.numbers() == []


async def test_an_unsupported_carrier_is_refused_by_name(hook: Hook) -> None:
    """Finding 16: a Royal Mail S10 number was stored as USPS (any S10 maps to USPS)."""
    payload = fulfillment("RR123456785GB", tracking_company="Royal Mail")
    status, body = await hook.post(payload, "wh-1")
    assert status == 200 and body["shipments"] == []
    (refused,) = body["refused"]
    assert refused["field"] == "tracking_company"
    assert refused["reason"].startswith("Royal Mail is not supported")
    assert await hook.numbers() == []


async def test_a_surepost_label_is_tracked_with_usps(hook: Hook) -> None:
    """Finding 17: the USPS number of a UPS SurePost label."""
    payload = fulfillment("9261290113185417468510", tracking_company="UPS")
    status, body = await hook.post(payload, "wh-1")
    assert status == 200 and body["refused"] == []
    (added,) = body["shipments"]
    assert added["notes"] == [
        "UPS SurePost or Mail Innovations label: tracked with USPS, which delivers it"
    ]
    (shipment,) = (await hook.store.list_shipments()).shipments
    assert (shipment.carrier, shipment.sender_carrier) == ("usps", "ups")


async def test_a_fulfillment_without_email_is_watched_for_staff(hook: Hook) -> None:
    """Finding 18: was refused with the validation library's raw message."""
    status, body = await hook.post(fulfillment(UPS_1, email=None), "wh-1")
    assert status == 200 and body["refused"] == []
    (added,) = body["shipments"]
    assert any("no customer email" in note for note in added["notes"])
    (shipment,) = (await hook.store.list_shipments()).shipments
    assert shipment.customer_email == ""


# --- issue 17 ------------------------------------------------------------------------------

CANCELLED = "fulfillment cancelled in Shopify"
REPLACED = "replaced by a new tracking number in Shopify"


async def watched(hook: Hook) -> dict[str, str | None]:
    """Tracking number -> why it is no longer watched (None: still watched)."""
    found = (await hook.store.list_shipments()).shipments
    return {s.tracking_number: None if s.active else s.stopped for s in found}


async def customer_notice_for(store: Store, sid: int) -> None:
    """An open alert about the shipment whose customer email is waiting to go out."""
    found = Finding(rule="stalled", episode="e1", severity=Severity.WARNING,
                    audiences=(Audience.CUSTOMER, Audience.STAFF), summary="stalled",
                    action="look", explanation={"why": "test"})  # fmt: skip
    draft = NoticeDraft("opened", Audience.CUSTOMER, "customer_email.0", "shop", "Late",
                        "Your parcel", recipient="jon@example.com")  # fmt: skip
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, found, (draft,))]),
                                 at(11, 23, 12))  # fmt: skip


async def test_a_cancelled_fulfillment_stops_its_shipments(hook: Hook) -> None:
    """Finding 7: a cancelled fulfillment was ignored; its parcels were still watched and
    could still email the customer."""
    _, body = await hook.post(fulfillment(UPS_1, UPS_2), "wh-1")
    first = body["shipments"][0]["id"]
    await customer_notice_for(hook.store, first)
    await hook.post(fulfillment(UPS_3, id=999), "wh-2")  # another fulfillment of the order
    status, body = await hook.post(fulfillment(UPS_1, UPS_2, status="cancelled"), "wh-3",
                                   "fulfillments/update")  # fmt: skip
    assert status == 200 and body["shipments"] == []
    assert [(s["tracking_number"], s["reason"]) for s in body["stopped"]] == [
        (UPS_1, CANCELLED), (UPS_2, CANCELLED)]  # fmt: skip
    assert await watched(hook) == {UPS_1: f"by Shopify: {CANCELLED}",
                                   UPS_2: f"by Shopify: {CANCELLED}", UPS_3: None}  # fmt: skip
    (notice,) = await hook.store.notices()
    assert notice.state is NoticeState.CANCELLED
    (alert,) = await hook.store.alerts_for(first)
    assert (
        alert.state is AlertState.RESOLVED and alert.resolution == f"watching stopped: {CANCELLED}"
    )
    # The same delivery again, or the cancellation sent again: nothing changes.
    assert (await hook.post(fulfillment(UPS_1, status="cancelled"), "wh-3"))[1]["duplicate"]
    _, body = await hook.post(fulfillment(UPS_1, UPS_2, status="cancelled"), "wh-4",
                              "fulfillments/update")  # fmt: skip
    assert body["stopped"] == [] and len(await hook.store.notices()) == 1


@pytest.mark.parametrize("status", ["error", "failure"])
async def test_a_failed_fulfillment_stops_its_shipments(hook: Hook, status: str) -> None:
    """Shopify's `error` and `failure`: the fulfillment request failed, nothing ships under
    it (a retry is a new fulfillment, whose numbers are watched again)."""
    await hook.post(fulfillment(UPS_1), "wh-1")
    _, body = await hook.post(fulfillment(UPS_1, status=status), "wh-2", "fulfillments/update")
    reason = f"fulfillment failed in Shopify (status {status})"
    assert [s["reason"] for s in body["stopped"]] == [reason]
    assert await watched(hook) == {UPS_1: f"by Shopify: {reason}"}
    _, body = await hook.post(fulfillment(UPS_1, id=777, status="success"), "wh-3")
    assert [s["created"] for s in body["shipments"]] == [False]
    assert body["resumed"] == [body["shipments"][0]["id"]]
    assert await watched(hook) == {UPS_1: None}


async def test_a_replaced_tracking_number_stops_the_old_one_and_watches_the_new(
    hook: Hook,
) -> None:
    """Finding 7: a new number on the same fulfillment left the old one watched."""
    await hook.post(fulfillment(UPS_1, UPS_2), "wh-1")
    status, body = await hook.post(fulfillment(UPS_1, UPS_3, status="success"), "wh-2",
                                   "fulfillments/update")  # fmt: skip
    assert status == 200
    assert [(s["tracking_number"], s["reason"]) for s in body["stopped"]] == [(UPS_2, REPLACED)]
    assert [s["created"] for s in body["shipments"]] == [False, True]
    assert await watched(hook) == {UPS_1: None, UPS_2: f"by Shopify: {REPLACED}", UPS_3: None}
    # Put back (a typo undone): watched again, and the number it replaced stopped.
    _, body = await hook.post(fulfillment(UPS_1, UPS_2), "wh-3", "fulfillments/update")
    assert await watched(hook) == {UPS_1: None, UPS_2: None, UPS_3: f"by Shopify: {REPLACED}"}
    # An update that names no number at all stops nothing: it says nothing of the parcels.
    _, body = await hook.post(fulfillment(UPS_1, tracking_numbers=[], tracking_number=None),
                              "wh-4", "fulfillments/update")  # fmt: skip
    assert body["stopped"] == [] and (await watched(hook))[UPS_1] is None


async def test_a_refused_new_number_leaves_the_old_one_watched(hook: Hook) -> None:
    """A relabel whose new number cannot be watched (here a bad check digit) stopped the old
    one all the same: the parcel went unwatched. Its replacement refused, the old number
    stays watched, and the answer says why the new one was refused."""
    await hook.post(fulfillment(UPS_1, UPS_2), "wh-1")
    bad = "1Z5R89390357567128"  # UPS_1 with a wrong check digit
    for webhook, numbers in (("wh-2", (bad,)), ("wh-3", (UPS_1, bad))):
        status, body = await hook.post(fulfillment(*numbers, status="success"), webhook,
                                       "fulfillments/update")  # fmt: skip
        assert status == 200 and body["stopped"] == []
        assert [r["tracking_number"] for r in body["refused"]] == [bad]
        assert await watched(hook) == {UPS_1: None, UPS_2: None}
    # Its replacement watchable, the old number stops as before.
    _, body = await hook.post(fulfillment(UPS_1, UPS_3), "wh-4", "fulfillments/update")
    assert [(s["tracking_number"], s["reason"]) for s in body["stopped"]] == [(UPS_2, REPLACED)]


async def test_a_stop_by_staff_stands_when_shopify_names_the_number_again(hook: Hook) -> None:
    _, body = await hook.post(fulfillment(UPS_1), "wh-1")
    sid = body["shipments"][0]["id"]
    assert await hook.store.stop_watching(sid, "refunded", "staff (cli)", at(11, 23, 12))
    _, body = await hook.post(fulfillment(UPS_1, status="success"), "wh-2", "fulfillments/update")
    assert body["resumed"] == [] and await watched(hook) == {UPS_1: "by staff (cli): refunded"}


async def test_an_older_version_delivered_late_changes_nothing(hook: Hook) -> None:
    """Shopify does not deliver in order: a create retried after the cancellation must not
    bring the cancelled parcel back."""
    cancelled = fulfillment(UPS_1, status="cancelled", updated_at="2026-11-22T10:00:00-05:00")
    created = fulfillment(UPS_1, status="success", updated_at="2026-11-20T10:00:00-05:00")
    _, body = await hook.post(cancelled, "wh-2", "fulfillments/update")
    assert body["stopped"] == []
    status, body = await hook.post(created, "wh-1")
    assert status == 200 and body["stale"] is True and body["shipments"] == []
    assert await watched(hook) == {}
    # Relabelled, then the older label's update arrives: the new number stays the one watched.
    await hook.post(fulfillment(UPS_2, id=5, updated_at="2026-11-20T10:00:00-05:00"), "wh-3")
    await hook.post(fulfillment(UPS_3, id=5, updated_at="2026-11-21T10:00:00-05:00"), "wh-4",
                    "fulfillments/update")  # fmt: skip
    _, body = await hook.post(fulfillment(UPS_2, id=5, updated_at="2026-11-20T11:00:00-05:00"),
                              "wh-5", "fulfillments/update")  # fmt: skip
    assert body["stale"] is True
    assert await watched(hook) == {UPS_2: f"by Shopify: {REPLACED}", UPS_3: None}


async def test_shipments_added_another_way_are_found_by_number(hook: Hook) -> None:
    """A number first watched from a CSV or the API (or before sources were kept) belongs to
    the fulfillment that names it; another store's same number is not touched."""
    [(mine, _), (theirs, _)] = await hook.store.add_shipments([
        Shipment(store="shop", carrier="ups", tracking_number=UPS_1, order_id="#9999",
                 customer_email="jon@example.com", shipped_at=at(11, 20, 10)),
        Shipment(store="other", carrier="ups", tracking_number=UPS_1, order_id="#1",
                 customer_email="ann@example.com", shipped_at=at(11, 20, 10)),
    ], at(11, 23, 12))  # fmt: skip
    _, body = await hook.post(fulfillment(UPS_1, status="cancelled"), "wh-1",
                              "fulfillments/update")  # fmt: skip
    assert [s["id"] for s in body["stopped"]] == [mine]
    other = await hook.store.get_shipment(theirs)
    assert other is not None and other.active


@pytest.mark.parametrize(
    ("change", "field"),
    [({"id": "12a"}, "id"), ({"id": True}, "id"), ({"updated_at": "yesterday"}, "updated_at"),
     ({"updated_at": "2026-11-20T10:00:00"}, "updated_at"), ({"updated_at": 5}, "updated_at")],
)  # fmt: skip
async def test_a_fulfillment_id_or_version_of_the_wrong_shape_is_a_400(
    hook: Hook, change: dict[str, Any], field: str
) -> None:
    status, body = await hook.post(fulfillment(UPS_1, **change), "wh-1")
    assert status == 400 and body["error"]["field"] == field
    assert await hook.numbers() == []


# --- issue 22: orders/fulfilled ------------------------------------------------------------


def fulfilled_order(*fulfillments: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An orders/fulfilled body: the order (its documented id, name, email and shipping
    address, taken from the documented fulfillment's) with its fulfillments as the REST
    Order carries them, without `destination` or `email` (tests/fixtures/shopify/README)."""
    destination = DOCUMENTED["destination"]
    return {"id": DOCUMENTED["order_id"], "name": "#9999", "email": DOCUMENTED["email"],
            "shipping_address": destination, "fulfillments": [
                {k: v for k, v in f.items() if k not in ("destination", "email")}
                for f in fulfillments], **changes}  # fmt: skip


async def test_an_orders_fulfilled_webhook_watches_each_fulfillment(hook: Hook) -> None:
    """Issue 22: orders/fulfilled was answered 200 and ignored."""
    payload = fulfilled_order(fulfillment(UPS_1, UPS_2), fulfillment(UPS_3, id=777))
    status, body = await hook.post(payload, "wh-1", "orders/fulfilled")
    assert status == 200
    assert [[s["created"] for s in f["shipments"]] for f in body["fulfillments"]] == [
        [True, True], [True]]  # fmt: skip
    found = {s.tracking_number: s for s in (await hook.store.list_shipments()).shipments}
    assert sorted(found) == sorted([UPS_1, UPS_2, UPS_3])
    third = found[UPS_3]
    # The customer and the address come from the order: its fulfillments name neither.
    assert (third.customer_email, third.customer_name) == ("jon@example.com", "Steve Shipper")
    assert (third.destination_postal_code, third.order_id) == ("40003", "#9999")
    assert third.fulfillment_gid == "gid://shopify/Fulfillment/777"
    assert found[UPS_1].fulfillment_gid == DOCUMENTED["admin_graphql_api_id"]
    # Delivered again: nothing changes; a fulfillments/update of one of them later still
    # finds its shipments (a cancellation stops them).
    assert (await hook.post(payload, "wh-1", "orders/fulfilled"))[1] == {
        "duplicate": True, "webhook_id": "wh-1"}  # fmt: skip
    _, body = await hook.post(fulfillment(UPS_3, id=777, status="cancelled"), "wh-2",
                              "fulfillments/update")  # fmt: skip
    assert [s["tracking_number"] for s in body["stopped"]] == [UPS_3]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"fulfillments": None}, "fulfillments"), ({"fulfillments": [1]}, "fulfillments"),
     ({"shipping_address": "Main Street"}, "shipping_address")],
)  # fmt: skip
async def test_an_order_of_the_wrong_shape_is_a_400(
    hook: Hook, change: dict[str, Any], field: str
) -> None:
    status, body = await hook.post(fulfilled_order(fulfillment(UPS_1), **change), "wh-1",
                                   "orders/fulfilled")  # fmt: skip
    assert status == 400 and body["error"]["field"] == field
    assert await hook.numbers() == []
