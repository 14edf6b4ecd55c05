"""What every carrier adapter is, and what it may use.

Adapters do I/O only through a `Transport` (trackwatch.http.HttpGateway in the daemon), so
throttling, retries and error classification live in one place; parsing is pure and lives
in each carrier's parse.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Protocol

from multidict import CIMultiDict, CIMultiDictProxy

from trackwatch.clock import Clock
from trackwatch.errors import BrokenAnswer, MalformedResponse
from trackwatch.model import Place, TrackingResult
from trackwatch.zones import zone_for


def seconds_until_retry(value: str | None, now: datetime) -> float | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "UTC, zone unknown"
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class HttpResponse:
    """A carrier's answer. `headers` are always case-insensitive (HTTP's own rule): a
    `Retry-After` sent as `retry-after` is still found, whatever built the response."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CIMultiDictProxy):
            headers = CIMultiDictProxy(CIMultiDict(self.headers))
            object.__setattr__(self, "headers", headers)

    def retry_after(self, now: datetime) -> float | None:
        """Seconds the carrier asked us to wait (Retry-After), None when it did not say."""
        return seconds_until_retry(self.headers.get("Retry-After"), now)

    def json(self, carrier: str) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise BrokenAnswer(carrier, f"HTTP {self.status} body is not JSON: {exc}") from None

    def error_object(self) -> Mapping[str, Any]:
        """An error answer's JSON object; empty when the body is not one (error bodies are
        read for their message only, so a bad one must not hide the status)."""
        try:
            body = json.loads(self.body)
        except ValueError:
            return {}
        return body if isinstance(body, Mapping) else {}


class Transport(Protocol):
    async def request(
        self,
        carrier: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; raises RateLimited or Unavailable, returns other statuses."""
        ...


@dataclass(frozen=True)
class Query:
    """One number to track, with what the shipment knows that helps the carrier answer:
    the ship date picks the right parcel when a number was reused, and the destination
    gives local times without an offset a zone."""

    number: str
    shipped_on: date | None = None
    destination: Place = field(default_factory=Place)

    @property
    def zone(self) -> tzinfo:
        return zone_of(self.destination, UTC)


def zone_of(place: Place, fallback: tzinfo) -> tzinfo:
    """The zone of a carrier's place; `fallback` when the carrier named no place at all."""
    if not (place.country or place.state or place.postal_code):
        return fallback
    return zone_for(place.country, place.postal_code, place.state)


class Carrier(Protocol):
    name: ClassVar[str]
    batch_size: ClassVar[int]

    async def track(self, queries: Sequence[Query]) -> dict[str, TrackingResult]:
        """Results keyed by tracking number; raises CarrierError subclasses for whole-call
        failures. Per-number outcomes (no info yet, invalid) are results, not exceptions."""
        ...


@dataclass(frozen=True)
class Credentials:
    """What an adapter needs from the configuration (secrets already read)."""

    base_url: str
    client_id: str = ""
    client_secret: str = ""
    api_key: str = ""


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime


class TokenCache:
    """One OAuth token per carrier account, refreshed before it expires.

    Expiry is read from the injected Clock. Concurrent callers share one refresh.
    """

    def __init__(
        self,
        clock: Clock,
        fetch: Callable[[], Awaitable[tuple[str, float]]],
        margin: timedelta = timedelta(minutes=5),
    ) -> None:
        self._clock = clock
        self._fetch = fetch
        self._margin = margin
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        async with self._lock:
            token = self._token
            if token is None or self._clock.now() >= token.expires_at - self._margin:
                value, lifetime = await self._fetch()
                self.fetches += 1
                token = Token(value, self._clock.now() + timedelta(seconds=lifetime))
                self._token = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget the token if it is still the one that was rejected."""
        if self._token is not None and self._token.value == value:
            self._token = None


def seconds(value: object, carrier: str, field: str) -> float:
    """A lifetime that carriers send as a number or as a numeric string."""
    try:
        return float(str(value))
    except ValueError:
        raise MalformedResponse(carrier, f"{field} is not a number") from None


async def send_with_token(
    tokens: TokenCache,
    send: Callable[[str], Awaitable[HttpResponse]],
    expired: Callable[[HttpResponse], bool],
) -> HttpResponse:
    """Send with the cached token; after a 401 that says the token expired, refresh it and
    send once more. Any other 401 (or a second one) is returned for the caller to raise."""
    token = await tokens.get()
    response = await send(token)
    if response.status == 401 and expired(response):
        tokens.invalidate(token)
        response = await send(await tokens.get())
    return response
