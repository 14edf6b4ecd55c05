"""Shopify's Admin GraphQL API, within its cost-based rate limit.

Shopify meters an app on a shop with a leaky bucket of query cost: each answer's
`extensions.cost.throttleStatus` says what the bucket holds (`currentlyAvailable`), its size
(`maximumAvailable`) and how fast it refills (`restoreRate`, points a second). Before each
call the client works out what the bucket holds now from the last answer, and if that is
less than the call's cost (the last `requestedQueryCost` of the same document, else the
caller's estimate) it waits on its clock until it has refilled; a call answered `THROTTLED`
(HTTP 200, or 429) waits for the refill the answer states and is sent again. A wait longer
than `max_wait` is not slept through: `Throttled` is raised (the outbox retries later).

The access token travels in X-Shopify-Access-Token and appears in no error or log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from trackwatch.clock import Clock
from trackwatch.config import ShopifyAdminSettings

TIMEOUT = aiohttp.ClientTimeout(total=30)
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


class AdminApiError(Exception):
    """A call that failed; the message names what failed, never the token. `transient`:
    worth trying again later (the network, a 5xx, throttling)."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class Throttled(AdminApiError):
    """The bucket will not hold the call's cost within the wait allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"throttled by Shopify: the bucket refills in {wait:.1f} s", True)
        self.wait = wait


@dataclass(frozen=True)
class Bucket:
    """The throttle status of the last answer, and when it came."""

    maximum: float
    available: float
    restore_rate: float
    at: datetime

    def holds(self, now: datetime) -> float:
        elapsed = max(0.0, (now - self.at).total_seconds())
        return min(self.maximum, self.available + elapsed * self.restore_rate)

    def wait_for(self, cost: float, now: datetime) -> float:
        """Seconds until the bucket holds `cost` (0 when it does now)."""
        short = min(cost, self.maximum) - self.holds(now)
        return max(0.0, short / self.restore_rate) if self.restore_rate > 0 else 0.0


def _bucket(body: Any, now: datetime) -> Bucket | None:
    try:
        status = body["extensions"]["cost"]["throttleStatus"]
        return Bucket(float(status["maximumAvailable"]), float(status["currentlyAvailable"]),
                      float(status["restoreRate"]), now)  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


def _requested(body: Any) -> float | None:
    try:
        return float(body["extensions"]["cost"]["requestedQueryCost"])
    except (KeyError, TypeError, ValueError):
        return None


def _seconds(text: str | None) -> float:
    """Retry-After in seconds (1 when absent or not a number)."""
    try:
        return max(0.0, float(text or 1))
    except ValueError:
        return 1.0


def _codes(body: Any) -> list[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [str((e.get("extensions") or {}).get("code", "")) for e in errors
            if isinstance(e, dict)]  # fmt: skip


def _messages(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else body
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                         for e in errors)  # fmt: skip
    return str(errors)


class AdminApi:
    """One shop's Admin GraphQL API for one run (the backfill) or one notice (write-back).
    `clock` times the waits (tests step a FrozenClock)."""

    def __init__(self, settings: ShopifyAdminSettings, http: aiohttp.ClientSession,
                 clock: Clock, max_wait: float = 600.0, attempts: int = 8) -> None:  # fmt: skip
        if not settings.configured:
            raise AdminApiError("the store has no [shopify] shop_domain and access_token")
        self._settings = settings
        self._http = http
        self._clock = clock
        self._max_wait = max_wait
        self._attempts = attempts
        self._bucket: Bucket | None = None
        self._costs: dict[str, float] = {}  # document -> its last requested cost
        self.calls = 0
        self.waited = 0.0  # seconds spent waiting for the bucket

    async def call(self, document: str, variables: dict[str, Any], estimate: float) -> Any:
        """The `data` of one query or mutation; AdminApiError when it fails."""
        for attempt in range(self._attempts):
            await self._wait(self._costs.get(document, estimate))
            body = await self._post(document, variables, attempt)
            if body is None:
                continue  # a transient failure, waited for
            if (requested := _requested(body)) is not None:
                self._costs[document] = requested
            if "THROTTLED" in _codes(body):
                continue  # _wait above sleeps until the bucket holds the cost
            if body.get("errors"):
                raise AdminApiError(f"Shopify refused the call: {_messages(body)}")
            return body.get("data")
        raise AdminApiError(f"no answer after {self._attempts} attempts", transient=True)

    async def _wait(self, cost: float) -> None:
        if self._bucket is None:
            return
        seconds = self._bucket.wait_for(cost, self._clock.now())
        if seconds > self._max_wait:
            raise Throttled(seconds)
        if seconds > 0:
            self.waited += seconds
            await self._clock.sleep(seconds)

    async def _post(self, document: str, variables: dict[str, Any], attempt: int) -> Any:
        """The answer's JSON; None after a transient failure (already waited for)."""
        headers = {"X-Shopify-Access-Token": self._token(), "Content-Type": "application/json"}
        self.calls += 1
        try:
            async with self._http.post(self._settings.endpoint(), headers=headers,
                                       json={"query": document, "variables": variables},
                                       timeout=TIMEOUT) as response:  # fmt: skip
                status = response.status
                retry_after = _seconds(response.headers.get("Retry-After"))
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return await self._transient(f"{type(exc).__name__}", attempt)
        self._bucket = _bucket(body, self._clock.now()) or self._bucket
        if status in TRANSIENT_STATUSES:
            return await self._transient(f"HTTP {status}", attempt)
        if status == 429:  # throttled: wait as its cost says, else as Retry-After does
            if _bucket(body, self._clock.now()) is None:
                await self._clock.sleep(min(self._max_wait, retry_after))
            cost = body.get("extensions") if isinstance(body, dict) else None
            return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": cost}  # fmt: skip
        if status >= 400:
            raise AdminApiError(f"HTTP {status} from the Admin API: {_messages(body)}",
                                transient=False)  # fmt: skip
        return body

    async def _transient(self, what: str, attempt: int) -> None:
        seconds = float(min(60, 2**attempt))
        if attempt + 1 >= self._attempts or seconds > self._max_wait:
            raise AdminApiError(f"the Admin API did not answer ({what})", transient=True)
        await self._clock.sleep(seconds)

    def _token(self) -> str:
        token = self._settings.access_token
        if token is None:
            raise AdminApiError("the store has no [shopify] access_token")
        return token.get_secret_value()
