"""The push receivers attacked over real HTTP on 127.0.0.1: by someone who can reach the port
(bodies nested to break the parser, forged tokens, one subscription's secret used for another
subscription's parcel) and by a carrier that misbehaves (impossible dates, text that is not
Unicode). Each refusal answers 4xx naming the field, never a server error, stores nothing,
and no push held in the inbox stops the ones after it. Bodies are the carriers' published
examples (tests/fixtures/push, as test_push_receivers uses them) with the one field changed
that each test names."""

from __future__ import annotations

import base64
import copy
import json
import logging
import sqlite3
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from carriers.push import b64_hmac
from tests.backends import execute
from tests.conftest import SettingsFactory, both_backends
from tests.push_kit import (  # noqa: F401 (fixtures)
    FEDEX_TOKEN,
    NUMBERS,
    UPS_CLIENT,
    at,
    parcel,
    push_fixture,
    push_settings,
    run,
    sandbox_fixture,
    started,
)
from tests.test_push_receivers import (
    DHL_TOKEN,
    DHL_TRACK,
    FEDEX_TRACK,
    UPS_DELIVERED,
    UPS_OUT,
    USPS_SECRET,
    WATCHED,
    daemon,
    dhl_message,
    fedex_output,
    shipment_of,
    ups_headers,
    ups_token,
    usps_now,
    usps_signed,
)
from trackwatch.app import Daemon
from trackwatch.clock import FrozenClock
from trackwatch.logs import RedactingFormatter, secrets_of
from trackwatch.model import Shipment, Status
from trackwatch.push.worker import LEASE, MAX_ATTEMPTS
from trackwatch.sandbox.push import SandboxPush
from trackwatch.sandbox.world import World
from trackwatch.store.push_records import InboxPush, Subscription, SubscriptionSave, SubState
from trackwatch.web.push import TOKEN_GUESS_SPAN, TOKEN_GUESSES

pytestmark = both_backends
__all__ = ["daemon"]  # the fixture, shared with test_push_receivers
Reply = tuple[int, str]


async def send(daemon: Daemon, path: str, raw: bytes, headers: dict[str, str]) -> Reply:
    """POST as it comes off the wire: the answer's text, whatever it is (a 500 is text)."""
    async with aiohttp.ClientSession() as session, session.post(
        f"{daemon.push_base}{path}", data=raw,
        headers={"Content-Type": "application/json", **headers},
    ) as response:  # fmt: skip
        return response.status, await response.text()


def refused(reply: Reply, status: int, field: str) -> bool:
    code, text = reply
    return code == status and json.loads(text)["error"]["field"] == field


async def signed(daemon: Daemon, carrier: str, raw: bytes) -> dict[str, str]:
    """The headers that verify `raw` on `carrier`'s path (DHL: sub-1's token)."""
    if carrier == "ups":
        return await ups_headers(daemon)
    if carrier == "fedex":
        return {"fdx-signature": b64_hmac(FEDEX_TOKEN, raw)}
    return {"X-Trackwatch-Token": DHL_TOKEN}


@pytest.mark.parametrize("carrier", ["usps", "dhl", "ups", "fedex"])
async def test_a_body_nested_thousands_deep_is_refused_not_a_server_error(
    daemon: Daemon, carrier: str
) -> None:
    # USPS and DHL read the body before verifying it (it names the subscription): anyone
    # could send this one. UPS and FedEx read it once verified.
    deep = b"[" * 50_000 + b"]" * 50_000
    raw = {"usps": b'{"subscriptionId": %s}' % deep, "dhl": b'{"self": %s}' % deep}.get(
        carrier, deep
    )
    reply = await send(daemon, f"/push/{carrier}", raw, await signed(daemon, carrier, raw))
    assert refused(reply, 400, "body"), reply
    assert await daemon.store.next_push_at() is None


async def test_a_ups_bearer_stamped_past_year_9999_is_refused_not_a_server_error(
    daemon: Daemon,
) -> None:
    headers = {**await ups_headers(daemon), "Authorization": "Bearer 999999999999.AAAA"}
    reply = await send(daemon, "/push/ups", json.dumps(UPS_DELIVERED).encode(), headers)
    assert refused(reply, 401, "authorization"), reply


def impossible_date(carrier: str, clock: FrozenClock) -> bytes:
    """A verified push whose one date matches the carrier's format but is no date."""
    if carrier == "ups":  # the published example, due on the last day there is
        return json.dumps({**UPS_DELIVERED, "scheduledDeliveryDate": "99991231"}).encode()
    if carrier == "fedex":  # month 13
        body = fedex_output(copy.deepcopy(FEDEX_TRACK))
        track = body["output"]["completeTrackResults"][0]["trackResults"][0]
        track["scanEvents"][0]["date"] = "2024-13-02T10:00:00-05:00"
        return json.dumps(body).encode()
    if carrier == "dhl":
        shipment = copy.deepcopy(DHL_TRACK["shipments"][0])
        shipment["events"][0]["timestamp"] = "2018-13-02T10:00:00"
        return json.dumps(dhl_message(shipment)).encode()
    envelope = usps_now(clock)
    payload = json.loads(envelope["payload"])
    payload["trackingEvents"][0]["GMTTimestamp"] = "2025-13-07T17:55:12Z"
    return json.dumps({**envelope, "payload": json.dumps(payload)}).encode()


@pytest.mark.parametrize("carrier", ["ups", "fedex", "dhl", "usps"])
async def test_a_verified_push_with_an_impossible_date_is_refused_by_field(
    daemon: Daemon, clock: FrozenClock, carrier: str
) -> None:
    raw = impossible_date(carrier, clock)
    if carrier == "usps":
        headers = usps_signed(json.loads(raw))
    else:
        headers = await signed(daemon, carrier, raw)
    code, text = await send(daemon, f"/push/{carrier}", raw, headers)
    assert code == 400, text  # the carrier is told it is malformed, not that we failed
    assert await daemon.store.next_push_at() is None


# A JSON escape of half a UTF-16 pair: valid JSON, but no text a database can store.
SURROGATE = "\\ud800"


def with_surrogate(body: dict[str, Any]) -> bytes:
    raw = json.dumps(body).replace("Delivered", f"Deliv{SURROGATE}ered", 1).encode()
    assert SURROGATE.encode() in raw
    return raw


async def test_a_push_with_a_lone_surrogate_is_refused_and_not_stored(daemon: Daemon) -> None:
    raw = with_surrogate(UPS_DELIVERED)
    reply = await send(daemon, "/push/ups", raw, await ups_headers(daemon))
    assert refused(reply, 400, "body"), reply
    assert await daemon.store.next_push_at() is None


async def test_a_poison_push_in_the_inbox_is_set_aside_and_the_ones_after_it_merged(
    daemon: Daemon, clock: FrozenClock
) -> None:
    # Stored before the receiver refused such bodies (or by a daemon of an older version
    # on the same database): the worker must not stay stuck on it.
    poison = with_surrogate(UPS_DELIVERED).decode()
    good = json.dumps(UPS_OUT)
    for body, digest in ((poison, "poison"), (good, "good")):
        await daemon.store.receive_push(InboxPush("ups", body, digest), clock.now())
    for _ in range(3):
        clock.advance(timedelta(minutes=6))  # past each claim's lease
        try:
            await daemon.pushes.run_once()
        except Exception:  # what the daemon's loop does: log it, try again
            continue
    shipment, events = await shipment_of(daemon, "ups")
    assert shipment.status is Status.OUT_FOR_DELIVERY and len(events) == 1
    assert await daemon.store.next_push_at() is None  # the poison set aside, not retried


async def watch(daemon: Daemon, clock: FrozenClock, sub: Subscription) -> int:
    """Another shipment of the carrier, with its own subscription `sub`; its id."""
    await daemon.store.add_shipment(Shipment(
        store="shop", carrier=sub.carrier, tracking_number=sub.tracking_number,
        order_id=f"other-{sub.carrier}", customer_email="d@example.com",
        shipped_at=WATCHED[sub.carrier][1]), clock.now())  # fmt: skip
    (found,) = [s for s in (await daemon.store.list_shipments()).shipments
                if s.tracking_number == sub.tracking_number]  # fmt: skip
    sid = found.id or 0
    await daemon.store.save_subscriptions(
        SubscriptionSave(kept=[sub.but(shipment_id=sid)]), clock.now()
    )
    return sid


async def events_of(daemon: Daemon, shipment_id: int) -> list[Any]:
    return (await daemon.store.events_for([shipment_id]))[shipment_id]


async def events_of_number(daemon: Daemon, number: str) -> list[Any]:
    (found,) = [s for s in (await daemon.store.list_shipments()).shipments
                if s.tracking_number == number]  # fmt: skip
    return await events_of(daemon, found.id or 0)


async def test_usps_a_secret_signs_only_its_own_subscriptions_parcel(
    daemon: Daemon, clock: FrozenClock
) -> None:
    # Subscription 123456789's secret (USPS_SECRET) is known to the attacker (a leak, a
    # log): it must not move the parcel of subscription 222, whose secret is another.
    other = "9400111899223408227426"
    sid = await watch(daemon, clock, Subscription(
        "usps", 0, other, SubState.ACTIVE, subscription_id="222", secret="s" * 32))  # fmt: skip
    envelope = usps_now(clock)
    payload = json.loads(envelope["payload"])  # the spec's example, for the other number
    envelope["payload"] = json.dumps({**payload, "trackingNumber": other})
    reply = await send(daemon, "/push/usps", json.dumps(envelope).encode(),
                       usps_signed(envelope, USPS_SECRET))  # fmt: skip
    assert refused(reply, 401, "payload.trackingNumber"), reply
    assert await daemon.store.next_push_at() is None
    assert await events_of(daemon, sid) == []


async def test_dhl_a_token_moves_only_its_own_subscriptions_shipments(
    daemon: Daemon, clock: FrozenClock
) -> None:
    # sub-1's static token, known to the attacker, sent with a shipment of sub-2.
    ours = DHL_TRACK["shipments"][0]
    theirs = {**copy.deepcopy(ours), "id": "JJD0000000000000002"}
    sid = await watch(daemon, clock, Subscription(
        "dhl", 0, theirs["id"], SubState.ACTIVE, subscription_id="sub-2", secret="t2"))  # fmt: skip
    token = {"X-Trackwatch-Token": DHL_TOKEN}
    alone = await send(daemon, "/push/dhl", json.dumps(dhl_message(theirs)).encode(), token)
    assert refused(alone, 401, "shipments[].id"), alone
    assert await daemon.store.next_push_at() is None
    # With one of sub-1's own shipments beside it: sub-1's is merged, sub-2's is not.
    both = await send(daemon, "/push/dhl", json.dumps(dhl_message(ours, theirs)).encode(), token)
    assert both[0] == 200, both
    assert await daemon.pushes.run_once() == 1
    assert await events_of(daemon, sid) == []
    assert len(await events_of_number(daemon, ours["id"])) == len(ours["events"])


@pytest.mark.parametrize("carrier", ["ups", "usps", "dhl", "fedex"])
async def test_no_secret_or_customer_data_is_logged_even_at_debug(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, push: SandboxPush,
    caplog: pytest.LogCaptureFixture, carrier: str,
) -> None:  # fmt: skip
    # A parcel subscribed, pushed to delivered, unsubscribed; forged pushes on the way.
    # Logged as the daemon logs at DEBUG (trackwatch.logs.configure): redacted of the
    # configuration's secrets and of addresses, aiosqlite's statements left out. The
    # secrets of each subscription and the tokens minted are not in the configuration.
    caplog.set_level(logging.DEBUG)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    parcel(world, carrier, (at(23, 9), "label"), (at(23, 18), "picked_up"),
           (at(24, 14), "out_for_delivery"), (at(24, 16), "delivered"))  # fmt: skip
    clock.set(at(23, 9, 5))
    minted: set[str] = set()
    async for running in started(make_settings, clock, push, carrier):
        await run(running, push, clock, at(23, 19))
        sub = push.sub_of(carrier, NUMBERS[carrier])
        minted |= {sub.secret, sub.header[1]} if sub is not None else set()
        forged = json.dumps({"self": "x/subscription/1", "subscriptionId": "1"}).encode()
        await send(running, f"/push/{carrier}", forged, {"X-HMAC": "forged"})
        await run(running, push, clock, at(26, 12), timedelta(minutes=30))
        minted.add(str((await ups_token(running))[1].get("access_token", "")))
        formatter = RedactingFormatter(secrets_of(running.settings), journald=False)
    assert push.pushed[carrier] >= 3
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    for secret in minted - {""}:
        assert secret not in logged


async def test_guessing_the_ups_webhook_secret_is_slowed_to_a_few_tries_an_address(
    daemon: Daemon, clock: FrozenClock
) -> None:
    # The secret is one the merchant typed on developer.ups.com: the endpoint must not
    # answer guesses as fast as they come. Past the allowance even the right secret waits
    # (an answer would say which guess was right).
    for _ in range(TOKEN_GUESSES):
        status, body = await ups_token(daemon, secret="guess")
        assert status == 401 and body["error"]["field"] == "authorization"
    status, body = await ups_token(daemon)
    assert status == 429 and body["error"]["field"] == "authorization"
    assert "access_token" not in body
    clock.advance(TOKEN_GUESS_SPAN)
    status, body = await ups_token(daemon)
    assert status == 200 and body["access_token"]


async def test_a_scan_dated_years_ahead_is_not_merged(daemon: Daemon, clock: FrozenClock) -> None:
    # A scan of 2099 would be the parcel's newest for 73 years: its status and its last
    # scan fixed, so no later scan would move it and no stall would ever be seen.
    headers = await ups_headers(daemon)
    ahead = {**UPS_OUT, "gmtActivityDate": "20991231"}
    assert (await send(daemon, "/push/ups", json.dumps(ahead).encode(), headers))[0] == 200
    assert (await send(daemon, "/push/ups", json.dumps(UPS_DELIVERED).encode(), headers))[0] == 200
    await daemon.pushes.run_once()
    shipment, events = await shipment_of(daemon, "ups")
    assert [e.status for e in events] == [Status.DELIVERED]
    assert shipment.last_event_at is not None and shipment.last_event_at < clock.now()
    assert await daemon.store.next_push_at() is None  # done with, not retried


async def test_a_ups_token_is_not_cached_and_dies_with_the_secret_it_was_minted_under(
    daemon: Daemon, make_settings: SettingsFactory
) -> None:
    async with aiohttp.ClientSession() as session, session.post(
        f"{daemon.push_base}/push/ups/token", data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(":".join(UPS_CLIENT).encode()).decode()},
    ) as response:  # fmt: skip
        assert response.status == 200
        # RFC 6749 5.1: a token answer is never kept by a cache between UPS and us.
        assert response.headers.get("Cache-Control") == "no-store"
        assert response.headers.get("Pragma") == "no-cache"
    headers = await ups_headers(daemon)
    rotated = push_settings("ups")
    rotated["push"]["webhook_client_secret"] = "rotated-on-both-sides"
    await daemon.reload(make_settings(carriers={**{c: push_settings(c) for c in WATCHED},
                                                "ups": rotated}))  # fmt: skip
    reply = await send(daemon, "/push/ups", json.dumps(UPS_DELIVERED).encode(), headers)
    assert refused(reply, 401, "authorization"), reply


async def test_a_push_whose_merge_fails_does_not_hold_back_the_others(
    daemon: Daemon, clock: FrozenClock, database: str
) -> None:
    # The UPS parcel's stored scan unreadable (a bug, a hand edit, an older version): its
    # push cannot be merged until that is mended; FedEx's push beside it must not wait.
    headers = await ups_headers(daemon)
    assert (await send(daemon, "/push/ups", json.dumps(UPS_OUT).encode(), headers))[0] == 200
    await daemon.pushes.run_once()
    ups, _ = await shipment_of(daemon, "ups")
    await execute(database, "UPDATE events SET data=? WHERE shipment_id=?", "{", ups.id)
    raw = json.dumps(UPS_DELIVERED).encode()
    assert (await send(daemon, "/push/ups", raw, headers))[0] == 200
    raw = json.dumps(fedex_output(FEDEX_TRACK)).encode()
    assert (await send(daemon, "/push/fedex", raw, await signed(daemon, "fedex", raw)))[0] == 200
    assert await daemon.pushes.run_once() == 1
    assert (await shipment_of(daemon, "fedex"))[0].status is Status.DELIVERED
    for _ in range(MAX_ATTEMPTS - 1):  # claimed again after each lease, then set aside
        assert await daemon.store.next_push_at() is not None
        clock.advance(LEASE)
        assert await daemon.pushes.run_once() == 0
    assert await daemon.store.next_push_at() is None


async def test_a_push_met_by_a_locked_store_is_merged_once_it_is_free(
    daemon: Daemon, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store busy (SQLite locked past its timeout, a deadlock between daemons) on every
    # claim, MAX_ATTEMPTS times and more: that says nothing of the push, which must not be
    # kept as failed (review finding: it was, and its scans waited for the next poll).
    headers = await ups_headers(daemon)
    assert (await send(daemon, "/push/ups", json.dumps(UPS_OUT).encode(), headers))[0] == 200
    apply = daemon.store.apply_pushes

    async def locked(*args: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(daemon.store, "apply_pushes", locked)
    for _ in range(MAX_ATTEMPTS + 1):
        with pytest.raises(sqlite3.OperationalError):
            await daemon.pushes.run_once()
        clock.advance(LEASE)
    monkeypatch.setattr(daemon.store, "apply_pushes", apply)
    assert await daemon.pushes.run_once() == 1
    assert (await shipment_of(daemon, "ups"))[0].status is Status.OUT_FOR_DELIVERY


async def test_dhl_a_handshake_message_for_an_active_subscription_changes_nothing(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, push: SandboxPush
) -> None:
    # DHL's validate message once more, after the handshake: replayed (its body is stored
    # only until worked) or made by whoever holds the static token, with any secret. Each
    # would start the activation again, against DHL's daily quota: refused, it was tried
    # five times over (and a refused one may make the subscription fail).
    parcel(world, "dhl", (at(23, 9), "label"), (at(23, 18), "picked_up"),
           (at(25, 14), "delivered"))  # fmt: skip
    clock.set(at(23, 9, 5))
    async for running in started(make_settings, clock, push, "dhl"):
        await run(running, push, clock, at(23, 19))
        sub = push.sub_of("dhl", NUMBERS["dhl"])
        assert sub is not None and sub.status == "ready"
        (before,) = await running.store.subscriptions_by_id("dhl", sub.sid)
        assert before.state is SubState.ACTIVE
        calls = push.calls["dhl"]
        again = {"scope": "subscription.validate", "secret": "not-the-hook-secret",
                 "self": f"https://api-eu.dhl.com/tracking/push/v1/subscription/{sub.sid}"}  # fmt: skip
        reply = await send(running, "/push/dhl", json.dumps(again).encode(),
                           {sub.header[0]: sub.header[1]})  # fmt: skip
        assert reply[0] == 200
        await run(running, push, clock, at(23, 20))
        (after,) = await running.store.subscriptions_by_id("dhl", sub.sid)
        assert after.state is SubState.ACTIVE and after.error is None
        assert push.calls["dhl"] == calls  # no activation tried again, once or five times


async def test_an_old_scan_pushed_after_the_delivery_or_replayed_later_moves_nothing_back(
    daemon: Daemon, clock: FrozenClock
) -> None:
    # Out for delivery, stamped an hour after the delivery scan (a carrier's late or
    # mis-stamped scan), then the delivery push replayed a day later, once worked.
    headers = await ups_headers(daemon)
    late = {**UPS_OUT, "gmtActivityTime": "145004"}  # the delivery is at 13:50:04
    for body in (UPS_DELIVERED, late):
        assert (await send(daemon, "/push/ups", json.dumps(body).encode(), headers))[0] == 200
    await daemon.pushes.run_once()
    clock.advance(timedelta(days=1))
    replay = await send(daemon, "/push/ups", json.dumps(UPS_DELIVERED).encode(),
                        await ups_headers(daemon))  # fmt: skip
    assert replay[0] == 200
    assert await daemon.pushes.run_once() == 0  # nothing it did not have
    shipment, events = await shipment_of(daemon, "ups")
    assert shipment.status is Status.DELIVERED and len(events) == 2
