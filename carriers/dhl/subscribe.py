"""DHL Shipment Tracking – Unified – Push subscriptions: I/O only.

`POST /tracking/push/v1/subscription` (header `DHL-API-Key`) subscribes 1 to 10 shipment
ids at once (`"type": "Shipment"`, `shipmentIDs`), with the hook's URI and the static header
and token DHL must send on every message (`ApiKeyAuthentication`; the token is new for each
subscription). DHL then posts `subscription.validate` with a secret, which is answered by
`POST /subscription/{id}` with `DHL-API-Hook-Secret` (the activation; the subscription loop
does it when the worker reads the validate message), and later `subscription.ready`.
`DELETE /subscription/{id}` unsubscribes. The lifecycle is [UNCONFIRMED] beyond three
clients' code and DHL's Postman collection (CARRIER-PUSH.md §4).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, ClassVar

from carriers.base import HttpResponse, Transport
from carriers.dhl.client import problem
from carriers.push import Held, Hook, Subscribed
from trackwatch.clock import Clock
from trackwatch.errors import AuthFailed, BrokenAnswer, RateLimited, Unavailable

CARRIER = "dhl"
PATH = "/tracking/push/v1/subscription"
HEADER = "X-Trackwatch-Token"  # the static header DHL sends back (trackwatch.web.push)
EVENTS = ["Pre-Transit", "Transit", "Delivered", "Failure", "Unknown"]


class DhlPush:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = 10

    def __init__(self, transport: Transport, clock: Clock, base_url: str, api_key: str,
                 service: str) -> None:  # fmt: skip
        self._transport = transport
        self._base = base_url.rstrip("/") + PATH
        self._key = api_key
        self._service = service

    async def _call(self, method: str, url: str, body: Any = None,
                    headers: dict[str, str] | None = None) -> HttpResponse:  # fmt: skip
        response = await self._transport.request(
            CARRIER, method, url, json_body=body,
            headers={"DHL-API-Key": self._key, "Accept": "application/json", **(headers or {})},
        )  # fmt: skip
        if response.status in (401, 403):
            raise AuthFailed(CARRIER, f"push API: {problem(response)}")
        if response.status == 429:
            raise RateLimited(CARRIER, f"push API: {problem(response)}")
        if response.status >= 500:
            raise Unavailable(CARRIER, f"push API: HTTP {response.status}")
        return response

    async def subscribe(self, numbers: Sequence[str], hook: Hook) -> list[Subscribed]:
        if len(numbers) > self.batch_size:
            raise ValueError(f"DHL subscribes at most {self.batch_size} shipments a call")
        token = secrets.token_urlsafe(24)
        body = {"hook": {"uri": hook.url, "authentication": {
                    "type": "ApiKeyAuthentication", "header": HEADER, "token": token}},
                "format": "Default", "type": "Shipment", "service": self._service,
                "events": EVENTS, "shipmentIDs": list(numbers)}  # fmt: skip
        response = await self._call("POST", self._base, body)
        if response.status not in (200, 201):
            why = f"DHL: {problem(response)}"
            return [Subscribed(Held(n), "failed", why) for n in numbers]
        made = response.json(CARRIER)
        link = str(made.get("self") or made.get("id") or "") if isinstance(made, dict) else ""
        sid = link.rstrip("/").rpartition("/")[2]
        if not sid:
            raise BrokenAnswer(CARRIER, "subscription answer names no subscription (self)")
        return [Subscribed(Held(n, sid, token), "validating") for n in numbers]

    async def activate(self, held: Held, secret: str) -> Subscribed:
        response = await self._call("POST", f"{self._base}/{held.subscription_id}",
                                    headers={"DHL-API-Hook-Secret": secret})  # fmt: skip
        if response.status not in (200, 201, 204):
            return Subscribed(held, "failed", f"DHL refused the activation: {problem(response)}")
        return Subscribed(held, "active")

    async def check(self, held: Held) -> Subscribed:
        response = await self._call("GET", f"{self._base}/{held.subscription_id}")
        if response.status == 404:
            return Subscribed(held, "failed", "DHL no longer has this subscription")
        return Subscribed(held, "active")

    async def unsubscribe(self, held: Sequence[Held]) -> None:
        for one in held:
            await self._call("DELETE", f"{self._base}/{one.subscription_id}")
