"""POST /push/<carrier>: the carriers' pushes (webhooks), and /push/ups/token, the OAuth
endpoint UPS fetches its webhook token from.

Each receiver refuses what it cannot verify (401, naming the header or field), reads the
body with the carrier's reader so that a malformed one is refused at once (400, naming the
field), stores the push in the inbox (a body received before is stored once) and answers
200: the merge is the PushWorker's, moments later. How each carrier is verified:

- UPS Track Alert v2: UPS gets a bearer token from our token endpoint with the client id
  and secret set on developer.ups.com (client_secret_basic, grant client_credentials), sends
  it as `Authorization: Bearer`, the client id in `x-api-key` and `User-Agent:
  UPSPubSubTrackingService`. (The spec's `clientOauth2` does not name the header the token
  rides in: Bearer is the OAuth default, our choice.) Tokens are stateless: the expiry and
  an HMAC of it under the client secret, so every daemon on the database accepts them.
  Wrong credentials at the token endpoint: TOKEN_GUESSES per client address in
  TOKEN_GUESS_SPAN, then 429 (the secret is one a person typed).
- USPS Subscriptions – Tracking: `X-HMAC` (or the deprecated `hmac-header`) is Base64
  HMAC-SHA256 under the subscription's 32-character secret of the envelope's `timestamp`
  followed by its `payload` string, as received; a `timestamp` outside the replay window is
  refused (USPS names no window: ours is `replay_window_minutes`).
- DHL Unified Push: the static header and token we chose when subscribing, on every message
  (`X-Trackwatch-Token`, per subscription, named by the message's `self`).
- FedEx AIV: `fdx-signature` is Base64 HMAC-SHA256 of the raw body under the security
  token of the FedEx portal's webhook project.

A USPS or DHL push is verified by one subscription's secret: it moves only the parcels of
that subscription (refused when it names none of them; the others are not merged).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from carriers.dhl.push import subscription_id_of
from carriers.push import MalformedPush, PushReader, b64_hmac, load, same
from trackwatch.clock import Clock
from trackwatch.config import PushSettings, Settings
from trackwatch.metrics import Metrics
from trackwatch.store.contract import PushStore
from trackwatch.store.push_records import InboxPush, Subscription
from trackwatch.web.errors import ApiError
from trackwatch.web.throttle import Window
from trackwatch.web.tracking import client_of

log = logging.getLogger("trackwatch.push")
UPS_AGENT = "UPSPubSubTrackingService"
TOKEN_LIFETIME = timedelta(hours=1)
NOT_CACHED = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # a token answer (RFC 6749 5.1)
# Wrong credentials at /push/ups/token a client address may send in a span: the webhook
# secret is one a person typed, and UPS itself fails only after a rotation on one side.
TOKEN_GUESSES, TOKEN_GUESS_SPAN = 10, timedelta(minutes=15)
DHL_HEADER = "X-Trackwatch-Token"
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little
_REFUSALS = {400: "malformed", 401: "unverified", 404: "not_enabled"}
_NUMBER_FIELDS = {"usps": "payload.trackingNumber", "dhl": "shipments[].id"}


@dataclass
class PushDesk:
    """What the receivers need: the inbox, the clock, the settings of the moment, the
    carriers' readers, and a way to wake the worker."""

    store: PushStore
    clock: Clock
    settings: Callable[[], Settings]
    readers: Mapping[str, PushReader]
    wake: Callable[[], None]
    metrics: Metrics = field(default_factory=Metrics)

    def push(self, carrier: str) -> PushSettings:
        push = self.settings().carriers.get(carrier).push
        if not push.enabled:
            raise ApiError(404, "carrier", f"{carrier} push is not enabled here")
        return push


def ups_token(secret: str, expires: datetime) -> str:
    stamp = str(int(expires.timestamp()))
    mac = hmac.digest(secret.encode(), f"ups-push:{stamp}".encode(), hashlib.sha256)
    return f"{stamp}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def ups_token_valid(secret: str, token: str, now: datetime) -> bool:
    stamp, _, _ = token.partition(".")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return False
    try:
        expires = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError):  # past year 9999: not one of ours
        return False
    return expires > now and same(token, ups_token(secret, expires))


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""


class PushReceivers:
    def __init__(self, desk: PushDesk) -> None:
        self._desk = desk
        self._guesses = Window(TOKEN_GUESS_SPAN)  # wrong credentials by client address

    def routes(self) -> list[web.RouteDef]:
        counted = {"ups": self.ups, "usps": self.usps, "dhl": self.dhl, "fedex": self.fedex}
        # A token refused counts as a push refused: with a secret rotated on one side only,
        # UPS fails there and never posts a push at all.
        return [web.post("/push/ups/token", self._counted("ups", self.ups_token))] + [
            web.post(f"/push/{carrier}", self._counted(carrier, receive))
            for carrier, receive in counted.items()
        ]

    def _counted(
        self, carrier: str, receive: Callable[[web.Request], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Each push counted by what became of it, so that an operator sees pushes refused
        (a wrong secret after a rotation) or stopped coming, not only the polls."""

        async def handler(request: web.Request) -> web.Response:
            try:
                return await receive(request)
            except ApiError as exc:
                self._desk.metrics.pushes.labels(
                    carrier, _REFUSALS.get(exc.status, "refused")
                ).inc()
                raise

        return handler

    async def ups_token(self, request: web.Request) -> web.Response:
        push = self._desk.push("ups")
        client = ("ups-token", client_of(request, self._desk.settings().daemon.forwarded_by))
        now = self._desk.clock.now()
        wait = self._guesses.retry_after(client, TOKEN_GUESSES, now)
        if wait is not None:
            raise ApiError(429, "authorization", "too many wrong credentials from this "
                           "address; try again later", {"Retry-After": str(wait)})  # fmt: skip
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            given_id, _, given_secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            given_id, given_secret = "", ""
        secret = _secret(push.webhook_client_secret)
        if scheme.lower() != "basic" or not (same(given_id, push.webhook_client_id)
                                             and same(given_secret, secret)):  # fmt: skip
            self._guesses.hit(client, now)
            raise ApiError(401, "authorization", "send the webhook client id and secret as "
                           "Basic credentials", {"WWW-Authenticate": 'Basic realm="push"'})  # fmt: skip
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "grant_type", "must be client_credentials")
        expires = now + TOKEN_LIFETIME
        return web.json_response({"access_token": ups_token(secret, expires), "token_type": "Bearer",
                                  "expires_in": int(TOKEN_LIFETIME.total_seconds())},
                                 headers=NOT_CACHED)  # fmt: skip

    async def ups(self, request: web.Request) -> web.Response:
        push = self._desk.push("ups")
        if request.headers.get("User-Agent", "") != UPS_AGENT:
            raise ApiError(401, "User-Agent", f"must be {UPS_AGENT}")
        if not same(request.headers.get("x-api-key", ""), push.webhook_client_id):
            raise ApiError(401, "x-api-key", "is not the webhook client id")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        secret = _secret(push.webhook_client_secret)
        if scheme.lower() != "bearer" or not ups_token_valid(secret, token.strip(),
                                                              self._desk.clock.now()):  # fmt: skip
            raise ApiError(401, "authorization", "no valid bearer token from /push/ups/token")
        return await self._keep("ups", await request.read())

    async def usps(self, request: web.Request) -> web.Response:
        push = self._desk.push("usps")
        body = await request.read()
        envelope = _object(body)
        sid, stamp, payload = (
            _field(envelope, k) for k in ("subscriptionId", "timestamp", "payload")
        )
        rows = await self._desk.store.subscriptions_by_id("usps", sid)
        secret = next((r.secret for r in rows if r.secret), None)
        if secret is None:
            raise ApiError(401, "subscriptionId", "is not a subscription of ours")
        given = request.headers.get("X-HMAC") or request.headers.get("hmac-header") or ""
        if not same(given, b64_hmac(secret, (stamp + payload).encode())):
            raise ApiError(401, "X-HMAC", "does not match the timestamp and payload")
        self._check_fresh(stamp, push)
        return await self._keep("usps", body, _numbers(rows))

    def _check_fresh(self, stamp: str, push: PushSettings) -> None:
        try:
            when = datetime.fromisoformat(stamp)
        except ValueError:
            raise ApiError(400, "timestamp", "is not an ISO-8601 date-time") from None
        if when.tzinfo is None:
            raise ApiError(400, "timestamp", "has no offset")
        now = self._desk.clock.now()
        if when < now - timedelta(minutes=push.replay_window_minutes) or when > now + FUTURE_SLACK:
            raise ApiError(401, "timestamp", "is outside the replay window (a replay?)")

    async def dhl(self, request: web.Request) -> web.Response:
        self._desk.push("dhl")
        body = await request.read()
        message = _object(body)
        try:
            sid = subscription_id_of(message)
        except MalformedPush as exc:
            raise ApiError(400, exc.field, exc.reason) from None
        rows = await self._desk.store.subscriptions_by_id("dhl", sid)
        token = next((r.secret for r in rows if r.secret), None)
        if token is None:
            raise ApiError(401, "self", "is not a subscription of ours")
        if not same(request.headers.get(DHL_HEADER, ""), token):
            raise ApiError(401, DHL_HEADER, "is not the token chosen for this subscription")
        return await self._keep("dhl", body, _numbers(rows))

    async def fedex(self, request: web.Request) -> web.Response:
        push = self._desk.push("fedex")
        body = await request.read()
        expected = b64_hmac(_secret(push.security_token), body)
        if not same(request.headers.get("fdx-signature", ""), expected):
            raise ApiError(401, "fdx-signature", "does not match the body")
        return await self._keep("fedex", body)

    async def _keep(
        self, carrier: str, body: bytes, bound: frozenset[str] | None = None
    ) -> web.Response:
        """Read the verified body (refused if malformed), then store it once. `bound`: the
        numbers of the subscription whose secret verified it (USPS, DHL); a push of none of
        them is refused (the worker merges only those of them, of a push naming others too).
        """
        try:
            message = self._desk.readers[carrier](body)
            text = body.decode()
        except MalformedPush as exc:
            raise ApiError(400, exc.field, exc.reason) from None
        except UnicodeDecodeError:
            raise ApiError(400, "body", "is not UTF-8") from None
        numbers = {r.tracking_number for r in message.results}
        if bound is not None and numbers and not numbers & bound:
            raise ApiError(401, _NUMBER_FIELDS.get(carrier, "body"),
                           "is not a number of the subscription it names")  # fmt: skip
        digest = hashlib.sha256(body).hexdigest()
        stored = await self._desk.store.receive_push(InboxPush(carrier, text, digest),
                                                     self._desk.clock.now())  # fmt: skip
        self._desk.metrics.pushes.labels(carrier, "duplicate" if stored is None else "stored").inc()
        if stored is None:
            return web.json_response({"received": True, "duplicate": True})
        self._desk.wake()
        return web.json_response({"received": True, "id": stored})


def _object(body: bytes) -> dict[str, Any]:
    """Read before the push is verified (it names the subscription whose secret verifies
    it): refused as the carrier's reader refuses it, so anyone's body is depth-checked."""
    try:
        data = load(body)
    except MalformedPush as exc:
        raise ApiError(400, exc.field, exc.reason) from None
    if not isinstance(data, dict):
        raise ApiError(400, "body", "must be a JSON object")
    return data


def _numbers(rows: Sequence[Subscription]) -> frozenset[str]:
    return frozenset(r.tracking_number for r in rows)


def _field(envelope: Mapping[str, Any], key: str) -> str:
    value = envelope.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(400, key, "is missing or not a text")
    return value
