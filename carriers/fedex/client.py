"""FedEx Track API v1: I/O only.

OAuth client credentials at /oauth/token (form body; tokens last 60 minutes and are cached).
Track is a POST of up to 30 numbers with includeDetailedScans (without it FedEx sends no
scans) and a ship-date range around ours, which FedEx uses to tell reused numbers apart.
Answers are re-keyed by completeTrackResults[].trackingNumber, never by position.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar

from carriers import shape
from carriers.assemble import rekeyed, require_distinct
from carriers.base import HttpResponse, Query, TokenCache, Transport, seconds, send_with_token
from carriers.fedex.codes import DAILY_QUOTA_WORDS, EXPIRED_TOKEN
from carriers.fedex.parse import parse
from carriers.text import clean
from trackwatch.clock import Clock
from trackwatch.errors import (
    AuthFailed,
    BrokenAnswer,
    CarrierError,
    MalformedResponse,
    RateLimited,
    RequestRejected,
    Unavailable,
)
from trackwatch.model import TrackingResult

CARRIER = "fedex"
TOKEN_PATH = "/oauth/token"
TRACK_PATH = "/track/v1/trackingnumbers"
BATCH = 30
RATE_WINDOW_SECONDS = 10.0  # FedEx refuses for the rest of its 10-second window
SHIP_DATE_SLACK = timedelta(days=7)


def errors(response: HttpResponse) -> list[tuple[str, str]]:
    """(code, message) pairs from FedEx's {"errors": [...]} envelope."""
    try:
        body = response.json(CARRIER)
        return [(clean(e.get("code")), clean(e.get("message"))) for e in body["errors"]]
    except (MalformedResponse, KeyError, TypeError, AttributeError):
        return []


def _summary(response: HttpResponse) -> str:
    found = errors(response)
    return "; ".join(f"{code}: {message}" for code, message in found) or f"HTTP {response.status}"


def until_midnight_gmt(now: datetime) -> float:
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)
    return (tomorrow - now).total_seconds()


def classify(response: HttpResponse, now: datetime) -> CarrierError | None:
    """A 429 is either the 10-second window or the daily quota ("Retry after 12:00AM GMT")."""
    if response.status != 429:
        return None
    text = response.body.decode("utf-8", "replace").lower()
    if DAILY_QUOTA_WORDS in text:
        return RateLimited(CARRIER, "daily transaction quota exceeded",
                           retry_after=until_midnight_gmt(now), daily=True)  # fmt: skip
    wait = response.retry_after(now)
    if wait is None:
        wait = RATE_WINDOW_SECONDS
    return RateLimited(CARRIER, "too many requests in the 10-second window", retry_after=wait)


def token_expired(response: HttpResponse) -> bool:
    return any(code == EXPIRED_TOKEN for code, _ in errors(response))


def read_token(response: HttpResponse) -> tuple[str, float]:
    if response.status != 200:
        raise AuthFailed(CARRIER, f"token request refused: {_summary(response)}")
    token = shape.obj(CARRIER, response.json(CARRIER), "token response")
    if not token.get("access_token"):
        raise BrokenAnswer(CARRIER, "token response has no access_token")
    return str(token["access_token"]), seconds(token.get("expires_in", 0), CARRIER, "expires_in")


def request_body(queries: Sequence[Query]) -> dict[str, Any]:
    infos: list[dict[str, Any]] = []
    for query in queries:
        info: dict[str, Any] = {"trackingNumberInfo": {"trackingNumber": query.number}}
        if query.shipped_on is not None:
            info["shipDateBegin"] = (query.shipped_on - SHIP_DATE_SLACK).isoformat()
            info["shipDateEnd"] = (query.shipped_on + SHIP_DATE_SLACK).isoformat()
        infos.append(info)
    return {"includeDetailedScans": True, "trackingInfo": infos}


def read_track(response: HttpResponse, queries: Sequence[Query]) -> dict[str, TrackingResult]:
    """Per-number results from a track answer, or the typed error for the whole call."""
    status = response.status
    if status in (401, 403):
        raise AuthFailed(CARRIER, f"credentials rejected: {_summary(response)}")
    if status == 429:
        # The gateway classifies 429s with its clock before they get here.
        raise RateLimited(CARRIER, _summary(response))
    if status >= 500:
        raise Unavailable(CARRIER, _summary(response))
    if status in (400, 404):
        raise RequestRejected(CARRIER, _summary(response))
    if status != 200:
        raise MalformedResponse(CARRIER, f"unexpected {_summary(response)}")
    return rekeyed(parse(response.json(CARRIER), {q.number: q.zone for q in queries}), queries)


class FedexClient:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = BATCH

    def __init__(
        self, transport: Transport, clock: Clock, base_url: str, client_id: str, client_secret: str
    ) -> None:
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._form: Mapping[str, str] = {"grant_type": "client_credentials",
                                         "client_id": client_id, "client_secret": client_secret}  # fmt: skip
        self.tokens = TokenCache(clock, self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        response = await self._transport.request(
            CARRIER, "POST", self._base + TOKEN_PATH, form=self._form,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        return read_token(response)

    async def _post(self, body: dict[str, Any], token: str) -> HttpResponse:
        headers = {"Authorization": f"Bearer {token}", "X-locale": "en_US",
                   "x-customer-transaction-id": uuid.uuid4().hex}  # fmt: skip
        return await self._transport.request(
            CARRIER, "POST", self._base + TRACK_PATH, json_body=body, headers=headers
        )

    async def track(self, queries: Sequence[Query]) -> dict[str, TrackingResult]:
        if len(queries) > BATCH:
            raise ValueError(f"FedEx takes at most {BATCH} numbers per call")
        require_distinct(queries)
        body = request_body(queries)
        response = await send_with_token(self.tokens, lambda t: self._post(body, t), token_expired)
        return read_track(response, queries)
