"""The push receivers over real HTTP on 127.0.0.1: each carrier's push verified as the carrier
documents it, refused with the header or field named when it does not verify or cannot be
read, stored once when delivered twice, and merged by the worker so that order and repeats
do not matter. Bodies come from the carriers' published examples (tests/fixtures/push)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from carriers.push import b64_hmac
from tests.conftest import SettingsFactory, both_backends
from tests.push_kit import FEDEX_TOKEN, UPS_CLIENT, push_settings
from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Shipment, Status
from trackwatch.store.push_records import Subscription, SubscriptionSave, SubState

pytestmark = both_backends
FIXTURES = Path(__file__).parent / "fixtures"
USPS_SECRET = "MySecretKeyPhraseIs32BytesLength"  # the spec's example secret (32 characters)
DHL_TOKEN = "dhl-static-token-chosen-at-subscription"
Reply = tuple[int, dict[str, Any]]


def fixture(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / path).read_text())
    return data


UPS_DELIVERED = fixture("push/ups-track-alert-webhook-delivered-spec-example.json")
UPS_OUT = fixture("push/ups-track-alert-webhook-out-for-delivery-spec-example.json")
USPS_EVENT = fixture("push/usps-subscriptions-notification-scan-event-spec-example.json")
FEDEX_TRACK = fixture("fedex/fedex-track-delivered-mixed-timestamp-formats.json")
DHL_TRACK = fixture("dhl/dhl-track-ecommerce-in-transit-customs-spec-example.json")
# Each fixture's number, shipped a few days before its first scan.
WATCHED = {"ups": ("1Z204W4R0308071865", datetime(2024, 4, 20, tzinfo=UTC)),
           "usps": ("12345678", datetime(2025, 2, 5, tzinfo=UTC)),
           "fedex": ("738488882438", datetime(2024, 4, 20, tzinfo=UTC)),
           "dhl": (DHL_TRACK["shipments"][0]["id"], datetime(2018, 8, 1, tzinfo=UTC))}  # fmt: skip


@pytest.fixture
async def daemon(make_settings: SettingsFactory, clock: FrozenClock) -> AsyncIterator[Daemon]:
    settings = make_settings(carriers={c: push_settings(c) for c in WATCHED})
    async with open_daemon(settings, clock) as running:
        for carrier, (number, shipped) in WATCHED.items():
            await running.store.add_shipment(Shipment(
                store="shop", carrier=carrier, tracking_number=number, order_id=carrier,
                customer_email="c@example.com", shipped_at=shipped), clock.now())  # fmt: skip
        ids = {s.carrier: s.id or 0 for s in (await running.store.list_shipments()).shipments}
        subs = [Subscription("usps", ids["usps"], "12345678", SubState.ACTIVE,
                             subscription_id="123456789", secret=USPS_SECRET),
                Subscription("dhl", ids["dhl"], WATCHED["dhl"][0], SubState.ACTIVE,
                             subscription_id="sub-1", secret=DHL_TOKEN)]  # fmt: skip
        await running.store.save_subscriptions(SubscriptionSave(kept=subs), clock.now())
        yield running


async def post(daemon: Daemon, path: str, body: bytes | dict[str, Any],
               headers: dict[str, str] | None = None) -> Reply:  # fmt: skip
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session, session.post(
        f"{daemon.push_base}{path}", data=raw,
        headers={"Content-Type": "application/json", **(headers or {})},
    ) as response:  # fmt: skip
        return response.status, await response.json()


async def ups_token(daemon: Daemon, secret: str = UPS_CLIENT[1]) -> Reply:
    basic = base64.b64encode(f"{UPS_CLIENT[0]}:{secret}".encode()).decode()
    async with aiohttp.ClientSession() as session, session.post(
        f"{daemon.push_base}/push/ups/token", data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ) as response:  # fmt: skip
        return response.status, await response.json()


async def ups_headers(daemon: Daemon) -> dict[str, str]:
    status, body = await ups_token(daemon)
    assert status == 200 and body["token_type"] == "Bearer"
    return {"Authorization": f"Bearer {body['access_token']}", "x-api-key": UPS_CLIENT[0],
            "User-Agent": "UPSPubSubTrackingService"}  # fmt: skip


async def shipment_of(daemon: Daemon, carrier: str) -> tuple[Shipment, list[Any]]:
    (found,) = [s for s in (await daemon.store.list_shipments()).shipments
                if s.carrier == carrier]  # fmt: skip
    events = (await daemon.store.events_for([found.id or 0]))[found.id or 0]
    return found, events


async def test_ups_token_endpoint_gives_tokens_for_the_webhook_client_only(daemon: Daemon) -> None:
    status, body = await ups_token(daemon, secret="not-the-secret")
    assert status == 401 and body["error"]["field"] == "authorization"
    status, body = await ups_token(daemon)
    assert status == 200 and body["expires_in"] == 3600


async def test_ups_push_is_stored_once_and_merged(daemon: Daemon) -> None:
    headers = await ups_headers(daemon)
    first = await post(daemon, "/push/ups", UPS_DELIVERED, headers)
    again = await post(daemon, "/push/ups", UPS_DELIVERED, headers)
    assert first[0] == again[0] == 200 and again[1]["duplicate"] is True
    assert await daemon.pushes.run_once() == 1
    shipment, events = await shipment_of(daemon, "ups")
    assert shipment.status is Status.DELIVERED and shipment.polls == 0
    assert [(e.code, e.occurred_at, e.signed_by) for e in events] == [
        ("D/FS/011", datetime(2024, 4, 23, 13, 50, 4, tzinfo=UTC), "John")
    ]
    assert shipment.push_until is not None
    assert await daemon.pushes.run_once() == 0  # nothing left


@pytest.mark.parametrize("forge", ["no token", "other secret", "expired", "x-api-key",
                                   "user agent", "absurd expiry"])  # fmt: skip
async def test_ups_push_that_does_not_verify_is_refused_and_not_stored(
    daemon: Daemon, clock: FrozenClock, forge: str
) -> None:
    headers = await ups_headers(daemon)
    field = {"no token": "authorization", "other secret": "authorization",
             "expired": "authorization", "x-api-key": "x-api-key", "user agent": "User-Agent",
             "absurd expiry": "authorization"}[forge]  # fmt: skip
    if forge == "no token":
        del headers["Authorization"]
    elif forge == "other secret":
        stamp = headers["Authorization"].split()[1].partition(".")[0]
        headers["Authorization"] = f"Bearer {stamp}.{'A' * 43}"
    elif forge == "expired":
        clock.advance(timedelta(hours=2))
    elif forge == "absurd expiry":  # a stamp no clock reaches: refused, not a server error
        headers["Authorization"] = f"Bearer {'9' * 40}.{'A' * 43}"
    elif forge == "x-api-key":
        headers["x-api-key"] = "someone-else"
    else:
        headers["User-Agent"] = "curl/8"
    status, body = await post(daemon, "/push/ups", UPS_DELIVERED, headers)
    assert status == 401 and body["error"]["field"] == field
    assert await daemon.store.next_push_at() is None


async def test_ups_pushes_out_of_order_land_as_in_order(daemon: Daemon) -> None:
    headers = await ups_headers(daemon)
    assert (await post(daemon, "/push/ups", UPS_DELIVERED, headers))[0] == 200
    await daemon.pushes.run_once()
    assert (await post(daemon, "/push/ups", UPS_OUT, headers))[0] == 200  # the older scan
    await daemon.pushes.run_once()
    shipment, events = await shipment_of(daemon, "ups")
    assert shipment.status is Status.DELIVERED
    assert [e.status for e in events] == [Status.OUT_FOR_DELIVERY, Status.DELIVERED]
    assert shipment.last_event_at == datetime(2024, 4, 23, 13, 50, 4, tzinfo=UTC)


async def test_malformed_pushes_are_refused_by_field_and_lose_nothing_stored(
    daemon: Daemon,
) -> None:
    headers = await ups_headers(daemon)
    assert (await post(daemon, "/push/ups", UPS_OUT, headers))[0] == 200
    no_status = {k: v for k, v in UPS_DELIVERED.items() if k != "activityStatus"}
    bad_offset = {k: v for k, v in UPS_OUT.items() if not k.startswith("gmtActivity")}
    bad_offset["gmtOffset"] = "-04:00 hours"
    cases: list[tuple[bytes | dict[str, Any], str]] = [
        (b"{not json", "body"),
        (no_status, "activityStatus"),
        (bad_offset, "gmtActivityDate"),
    ]
    for body, field in cases:
        status, reply = await post(daemon, "/push/ups", body, headers)
        assert (status, reply["error"]["field"]) == (400, field)
    assert await daemon.pushes.run_once() == 1
    shipment, events = await shipment_of(daemon, "ups")
    assert shipment.status is Status.OUT_FOR_DELIVERY and len(events) == 1


def usps_signed(envelope: dict[str, Any], secret: str = USPS_SECRET) -> dict[str, str]:
    return {"X-HMAC": b64_hmac(secret, (envelope["timestamp"] + envelope["payload"]).encode())}


def usps_now(clock: FrozenClock) -> dict[str, Any]:
    """The spec's example envelope, stamped now (its own stamp is of 2024: a replay)."""
    return {**USPS_EVENT, "timestamp": clock.now().astimezone(UTC).isoformat()}


async def test_usps_notification_verified_over_timestamp_and_payload(
    daemon: Daemon, clock: FrozenClock
) -> None:
    envelope = usps_now(clock)
    assert (await post(daemon, "/push/usps", envelope, usps_signed(envelope)))[0] == 200
    again = await post(
        daemon, "/push/usps", envelope, {"hmac-header": usps_signed(envelope)["X-HMAC"]}
    )
    assert again[1]["duplicate"] is True  # the deprecated header is read too
    await daemon.pushes.run_once()
    shipment, events = await shipment_of(daemon, "usps")
    assert shipment.status is Status.DELIVERED
    assert [e.occurred_at for e in events] == [datetime(2025, 2, 7, 17, 55, 12, tzinfo=UTC)]


@pytest.mark.parametrize("forge", ["hmac", "subscription", "replay", "payload"])
async def test_usps_notification_that_does_not_verify_or_read_is_refused(
    daemon: Daemon, clock: FrozenClock, forge: str
) -> None:
    envelope = usps_now(clock)
    headers = usps_signed(envelope)
    expected = {"hmac": (401, "X-HMAC"), "subscription": (401, "subscriptionId"),
                "replay": (401, "timestamp"), "payload": (400, "payload")}[forge]  # fmt: skip
    if forge == "hmac":
        headers = usps_signed(envelope, "x" * 32)
    elif forge == "subscription":
        envelope["subscriptionId"] = "999"
    elif forge == "replay":  # the spec's example as published: signed right, but of 2024
        envelope, headers = USPS_EVENT, usps_signed(USPS_EVENT)
    else:
        envelope["payload"] = "{" + envelope["payload"]
        headers = usps_signed(envelope)
    status, body = await post(daemon, "/push/usps", envelope, headers)
    assert (status, body["error"]["field"]) == expected
    assert await daemon.store.next_push_at() is None


def dhl_message(*shipments: dict[str, Any], sid: str = "sub-1") -> dict[str, Any]:
    """A subscription.push message (shape per DHL's Postman collection) of Unified Tracking
    shipment objects."""
    return {"scope": "subscription.push", "shipments": list(shipments),
            "self": f"https://api-eu.dhl.com/tracking/push/v1/subscription/{sid}"}  # fmt: skip


async def test_dhl_push_carries_several_shipments_and_its_static_header(daemon: Daemon) -> None:
    ours = DHL_TRACK["shipments"][0]
    other = {**copy.deepcopy(ours), "id": "NOT-WATCHED-1"}  # a shipment we do not watch
    message = dhl_message(ours, other)
    refused = await post(daemon, "/push/dhl", message, {"X-Trackwatch-Token": "guess"})
    assert refused[0] == 401 and refused[1]["error"]["field"] == "X-Trackwatch-Token"
    unknown = await post(daemon, "/push/dhl", dhl_message(ours, sid="sub-9"),
                         {"X-Trackwatch-Token": DHL_TOKEN})  # fmt: skip
    assert unknown[0] == 401 and unknown[1]["error"]["field"] == "self"
    bad = await post(daemon, "/push/dhl", {**message, "scope": "subscription.gossip"},
                     {"X-Trackwatch-Token": DHL_TOKEN})  # fmt: skip
    assert bad[0] == 400 and bad[1]["error"]["field"] == "scope"
    assert (await post(daemon, "/push/dhl", message, {"X-Trackwatch-Token": DHL_TOKEN}))[0] == 200
    assert await daemon.pushes.run_once() == 1
    shipment, events = await shipment_of(daemon, "dhl")
    assert len(events) == len(ours["events"]) and shipment.status is not Status.UNKNOWN


def fedex_output(track: dict[str, Any]) -> dict[str, Any]:
    """An AIV push: the Track answer's `output`, with the attempt metadata FedEx's
    TestWebhookOutputVO fragment describes."""
    return {"outputMetaData": [{"timestamp": "2024-04-26T10:00:00Z", "attempt": 1}],
            "output": track["output"]}  # fmt: skip


async def test_fedex_repeated_and_out_of_order_states_merge_by_scan_time(daemon: Daemon) -> None:
    full = fedex_output(FEDEX_TRACK)
    result = full["output"]["completeTrackResults"][0]["trackResults"][0]
    older = copy.deepcopy(full)  # an earlier state update, arriving after the later one
    older_result = older["output"]["completeTrackResults"][0]["trackResults"][0]
    older_result["scanEvents"] = result["scanEvents"][len(result["scanEvents"]) // 2 :]
    for body in (full, older, full):
        raw = json.dumps(body).encode()
        status, reply = await post(daemon, "/push/fedex", raw,
                                   {"fdx-signature": b64_hmac(FEDEX_TOKEN, raw)})  # fmt: skip
        assert status == 200
    assert reply["duplicate"] is True
    forged = await post(daemon, "/push/fedex", json.dumps(full).encode(),
                        {"fdx-signature": b64_hmac("not-the-token", b"{}")})  # fmt: skip
    assert forged[0] == 401 and forged[1]["error"]["field"] == "fdx-signature"
    await daemon.pushes.run_once()
    shipment, events = await shipment_of(daemon, "fedex")
    assert shipment.status is Status.DELIVERED
    assert len(events) == len({(e.occurred_at, e.status) for e in events}) > 1


async def test_pushes_are_counted_by_what_became_of_them(daemon: Daemon) -> None:
    headers = await ups_headers(daemon)
    await post(daemon, "/push/ups", UPS_DELIVERED, headers)
    await post(daemon, "/push/ups", UPS_DELIVERED, headers)
    await post(daemon, "/push/ups", UPS_DELIVERED, {**headers, "x-api-key": "someone-else"})
    await post(daemon, "/push/fedex", b"{}", {"fdx-signature": "forged"})
    assert (await ups_token(daemon, secret="rotated-at-ups-only"))[0] == 401
    text = daemon.metrics.exposition().decode()
    counted = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
               if line.startswith("trackwatch_pushes_total") and not line.endswith(" 0.0")}  # fmt: skip
    assert counted == {
        'trackwatch_pushes_total{carrier="ups",outcome="stored"}': 1.0,
        'trackwatch_pushes_total{carrier="ups",outcome="duplicate"}': 1.0,
        'trackwatch_pushes_total{carrier="ups",outcome="unverified"}': 2.0,
        'trackwatch_pushes_total{carrier="fedex",outcome="unverified"}': 1.0,
    }
