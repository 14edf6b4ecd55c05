"""UPS Track Alert API v2 package subscriptions: I/O only.

`POST /api/track/v2/subscription/{standard|enhanced}/package` with up to 100 numbers
(`trackingNumberList` maxItems 100), the Track API's OAuth token, and the transId and
transactionSrc headers. UPS answers which numbers it subscribed (`validTrackingNumbers`)
and which it refused (`invalidTrackingNumbers`; a 400 `VSS…` when none was valid). Each
subscription lasts 14 days; subscribing again renews it. v2 carries no webhook URL: UPS
pushes to the URL and credentials set on developer.ups.com ("Manage Webhook Credentials").
There is no per-package unsubscribe: a package subscription lapses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from carriers.base import HttpResponse, Transport, send_with_token
from carriers.push import Held, Hook, Subscribed
from carriers.ups.client import UpsClient, error_codes, token_expired
from trackwatch.clock import Clock
from trackwatch.errors import AuthFailed, MalformedResponse, RateLimited, Unavailable

CARRIER = "ups"
PATH = "/api/track/v2/subscription/{type}/package"
LIFETIME = timedelta(days=14)


class UpsAlerts:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = 100

    def __init__(self, transport: Transport, clock: Clock, base_url: str, client_id: str,
                 client_secret: str, kind: str = "standard") -> None:  # fmt: skip
        self._transport = transport
        self._clock = clock
        self._url = base_url.rstrip("/") + PATH.format(type=kind)
        # The Track API's OAuth token serves the subscription API too.
        self._tokens = UpsClient(transport, clock, base_url, client_id, client_secret).tokens

    async def _post(self, numbers: Sequence[str], token: str) -> HttpResponse:
        body = {"locale": "en_US", "countryCode": "US", "trackingNumberList": list(numbers)}
        return await self._transport.request(
            CARRIER, "POST", self._url, json_body=body,
            headers={"Authorization": f"Bearer {token}", "transId": uuid.uuid4().hex,
                     "transactionSrc": "trackwatch", "Accept": "application/json"},
        )  # fmt: skip

    async def subscribe(self, numbers: Sequence[str], hook: Hook) -> list[Subscribed]:
        if len(numbers) > self.batch_size:
            raise ValueError(f"UPS subscribes at most {self.batch_size} numbers a call")
        response = await send_with_token(self._tokens, lambda t: self._post(numbers, t),
                                         token_expired)  # fmt: skip
        body = _answer(response)
        valid = {str(n) for n in body.get("validTrackingNumbers") or []}
        codes = ", ".join(code for code, _ in error_codes(response)) or "refused by UPS"
        until = self._clock.now() + LIFETIME
        return [Subscribed(Held(n, expires_at=until), "active") if n in valid
                else Subscribed(Held(n), "failed", f"UPS did not subscribe it ({codes})")
                for n in numbers]  # fmt: skip

    async def check(self, held: Held) -> Subscribed:
        """UPS has no API to read a package subscription (renewing is subscribing again,
        which the subscription loop does before the 14 days run out): nothing to ask."""
        return Subscribed(held, "active")

    async def unsubscribe(self, held: Sequence[Held]) -> None:
        """Nothing to call: package subscriptions lapse after 14 days."""

    async def activate(self, held: Held, secret: str) -> Subscribed:
        return Subscribed(held, "active")


def _answer(response: HttpResponse) -> dict[str, Any]:
    if response.status in (401, 403):
        raise AuthFailed(CARRIER, f"subscription refused: HTTP {response.status}")
    if response.status == 429:
        raise RateLimited(CARRIER, "subscription API: too many requests")
    if response.status >= 500:
        raise Unavailable(CARRIER, f"subscription API: HTTP {response.status}")
    if response.status not in (200, 400):
        raise MalformedResponse(CARRIER, f"subscription API: unexpected HTTP {response.status}")
    body = response.json(CARRIER)
    if not isinstance(body, dict):
        raise MalformedResponse(CARRIER, "subscription answer is not a JSON object")
    return body
