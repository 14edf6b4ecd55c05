"""USPS Subscriptions – Tracking v3r2: I/O only.

One subscription per tracking number (`filterProperties.trackingNumber`; the API has no
batch), created with `POST /subscriptions-tracking/v3r2/subscriptions` under an OAuth token
of scope `subscriptions-tracking`, with a listener URL, a secret of exactly 32 characters
(the X-HMAC key, one per subscription) and 1 to 3 admin addresses. PUT and DELETE need
`If-Match` with an ETag that is good for an hour or one use, so each is preceded by a GET
of the subscription (which is also how its status is read: SUSPENDED when USPS could not
reach the listener, then enabled again with a PUT).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from carriers.base import HttpResponse, TokenCache, Transport, send_with_token
from carriers.push import Held, Hook, Subscribed
from carriers.usps.client import TOKEN_PATH, error_message, read_token, token_expired
from trackwatch.clock import Clock
from trackwatch.errors import AuthFailed, BrokenAnswer, MalformedResponse, RateLimited, Unavailable

CARRIER = "usps"
PATH = "/subscriptions-tracking/v3r2/subscriptions"
SCOPE = "subscriptions-tracking"
STATES = {"ENABLED": "active", "SUSPENDED": "suspended", "DISABLED": "failed"}


def new_secret() -> str:
    """32 characters, as the spec requires (minLength = maxLength = 32)."""
    return secrets.token_hex(16)


class UspsSubscriptions:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = 1

    def __init__(self, transport: Transport, clock: Clock, base_url: str, client_id: str,
                 client_secret: str) -> None:  # fmt: skip
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._client = (client_id, client_secret)
        self._tokens = TokenCache(clock, self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        body = {"client_id": self._client[0], "client_secret": self._client[1],
                "grant_type": "client_credentials", "scope": SCOPE}  # fmt: skip
        response = await self._transport.request(CARRIER, "POST", self._base + TOKEN_PATH,
                                                 json_body=body)  # fmt: skip
        # Not the tracking scope: this token is for subscriptions, and what USPS lists in
        # the answer's scope for one is not published.
        return read_token(response, tracking=False)

    async def _call(self, method: str, path: str, body: Any = None,
                    headers: dict[str, str] | None = None) -> HttpResponse:  # fmt: skip
        async def send(token: str) -> HttpResponse:
            return await self._transport.request(
                CARRIER, method, self._base + path, json_body=body,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                         **(headers or {})},
            )  # fmt: skip

        response = await send_with_token(self._tokens, send, token_expired)
        _raise_for(response)
        return response

    async def subscribe(self, numbers: Sequence[str], hook: Hook) -> list[Subscribed]:
        return [await self._one(number, hook) for number in numbers]

    async def _one(self, number: str, hook: Hook) -> Subscribed:
        secret = new_secret()
        body = {"listenerURL": hook.url, "secret": secret,
                "adminNotification": [{"email": e} for e in hook.emails],
                "filterProperties": {"trackingNumber": number,
                                     "trackingEventTypes": ["ALL_UPDATES"]}}  # fmt: skip
        response = await self._call("POST", PATH, body)
        if response.status != 201:
            return Subscribed(Held(number), "failed", f"USPS: {error_message(response)}")
        made = _object(response)
        held = Held(number, str(made.get("subscriptionId") or ""), secret,
                    response.headers.get("ETag"), _when(made.get("expirationTimestamp")))  # fmt: skip
        if not held.subscription_id:
            raise BrokenAnswer(CARRIER, "subscription answer has no subscriptionId")
        return Subscribed(held, STATES.get(str(made.get("status", "ENABLED")), "active"))

    async def _get(self, held: Held) -> HttpResponse:
        return await self._call("GET", f"{PATH}/{held.subscription_id}")

    async def check(self, held: Held) -> Subscribed:
        """Its status by GET (the list endpoint is cached; GET by id is authoritative); a
        SUSPENDED one is enabled again (PUT, If-Match the ETag just read)."""
        response = await self._get(held)
        if response.status == 404:
            return Subscribed(held, "failed", "USPS no longer has this subscription")
        status = str(_object(response).get("status", ""))
        if status != "SUSPENDED":
            return Subscribed(held, STATES.get(status, "failed"), None if status == "ENABLED"
                              else f"USPS status {status or 'missing'}")  # fmt: skip
        etag = response.headers.get("ETag", "")
        put = await self._call("PUT", f"{PATH}/{held.subscription_id}", {"status": "ENABLED"},
                               {"If-Match": etag})  # fmt: skip
        if put.status != 200:
            return Subscribed(held, "suspended", f"USPS: {error_message(put)}")
        return Subscribed(Held(held.number, held.subscription_id, held.secret,
                               put.headers.get("ETag"), held.expires_at), "active")  # fmt: skip

    async def unsubscribe(self, held: Sequence[Held]) -> None:
        for one in held:
            response = await self._get(one)
            if response.status == 404:
                continue  # gone already
            await self._call("DELETE", f"{PATH}/{one.subscription_id}",
                             headers={"If-Match": response.headers.get("ETag", "")})  # fmt: skip

    async def activate(self, held: Held, secret: str) -> Subscribed:
        return Subscribed(held, "active")


def _raise_for(response: HttpResponse) -> None:
    if response.status in (401, 403):
        raise AuthFailed(CARRIER, f"subscriptions API: {error_message(response)}")
    if response.status == 429:
        raise RateLimited(CARRIER, error_message(response))
    if response.status >= 500:
        raise Unavailable(CARRIER, f"subscriptions API: HTTP {response.status}")


def _object(response: HttpResponse) -> dict[str, Any]:
    body = response.json(CARRIER)
    if not isinstance(body, dict):
        raise MalformedResponse(CARRIER, "subscription answer is not a JSON object")
    return body


def _when(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
