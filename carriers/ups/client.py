"""UPS Track API v1: I/O only.

OAuth client credentials at /security/v1/oauth/token (no /api prefix; Basic auth; form
body); the token (about 4 h, `expires_in` sent as a string) is cached and refreshed before
expiry, and once more after a 401. Track is one number per GET, with the transId and
transactionSrc headers the spec requires.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from carriers.assemble import require_distinct, without_earlier_parcels
from carriers.base import HttpResponse, Query, TokenCache, Transport, seconds, send_with_token
from carriers.text import clean
from carriers.ups.codes import INVALID_NUMBER_CODES, RATE_LIMIT_CODE, TOKEN_CODES
from carriers.ups.parse import parse
from trackwatch.clock import Clock
from trackwatch.errors import (
    AuthFailed,
    BrokenAnswer,
    CarrierError,
    MalformedResponse,
    RateLimited,
    Unavailable,
)
from trackwatch.model import Outcome, TrackingResult

CARRIER = "ups"
TOKEN_PATH = "/security/v1/oauth/token"
TRACK_PATH = "/api/track/v1/details/{number}"


def error_codes(response: HttpResponse) -> list[tuple[str, str]]:
    """(code, message) pairs from UPS's {"response": {"errors": [...]}} envelope."""
    try:
        body = response.json(CARRIER)
        errors = body["response"]["errors"]
        return [(clean(e.get("code")), clean(e.get("message"))) for e in errors]
    except (MalformedResponse, KeyError, TypeError, AttributeError):
        return []


def classify(response: HttpResponse, now: datetime) -> CarrierError | None:
    """UPS's 429 carries code 10429 and, so far, no Retry-After; honour one if it comes."""
    if response.status == 429:
        codes = [code for code, _ in error_codes(response)]
        detail = "quota limit exceeded" if RATE_LIMIT_CODE in codes else "HTTP 429"
        return RateLimited(CARRIER, detail, retry_after=response.retry_after(now))
    return None


def token_expired(response: HttpResponse) -> bool:
    """251004 is "bearer token expired"; 250002 and UJ0001 are what UPS answers for a token
    it no longer knows, which a fresh token also cures. Anything else will not."""
    return any(code in TOKEN_CODES for code, _ in error_codes(response))


class UpsClient:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = 1

    def __init__(
        self,
        transport: Transport,
        clock: Clock,
        base_url: str,
        client_id: str,
        client_secret: str,
        transaction_src: str = "trackwatch",
    ) -> None:
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._source = transaction_src
        self.tokens = TokenCache(clock, self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
        response = await self._transport.request(
            CARRIER,
            "POST",
            self._base + TOKEN_PATH,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            form={"grant_type": "client_credentials"},
        )
        if response.status != 200:
            detail = ", ".join(code for code, _ in error_codes(response)) or "no error code"
            raise AuthFailed(CARRIER, f"token request refused: HTTP {response.status} ({detail})")
        body: Any = response.json(CARRIER)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise BrokenAnswer(CARRIER, "token response has no access_token")
        return str(body["access_token"]), seconds(body.get("expires_in", 0), CARRIER, "expires_in")

    async def track(self, queries: Sequence[Query]) -> dict[str, TrackingResult]:
        require_distinct(queries)
        return {query.number: await self._track_one(query) for query in queries}

    async def _get(self, number: str, token: str) -> HttpResponse:
        return await self._transport.request(
            CARRIER,
            "GET",
            self._base + TRACK_PATH.format(number=number),
            headers={
                "Authorization": f"Bearer {token}",
                "transId": uuid.uuid4().hex,
                "transactionSrc": self._source,
                "Accept": "application/json",
            },
            params={
                "locale": "en_US",
                "returnSignature": "false",
                "returnMilestones": "false",
                "returnPOD": "false",
            },
        )

    async def _track_one(self, query: Query) -> TrackingResult:
        number = query.number
        response = await send_with_token(
            self.tokens, lambda token: self._get(number, token), token_expired
        )
        return read_track(response, query)


def read_track(response: HttpResponse, query: Query) -> TrackingResult:
    """The result for one number from a Track answer, or the typed error for the call."""
    if response.status == 401:
        listed = ", ".join(code for code, _ in error_codes(response)) or "no error code"
        raise AuthFailed(CARRIER, f"token rejected ({listed})")
    if response.status == 429:
        raise RateLimited(CARRIER, "quota limit exceeded (UPS sends no Retry-After)")
    if response.status >= 500:
        raise Unavailable(CARRIER, f"HTTP {response.status}")
    number = query.number
    if response.status == 200:
        results = parse(response.json(CARRIER), number, query.zone)
        chosen = next((r for r in results if r.tracking_number == number), None)
        if chosen is None and results:
            chosen = results[0].model_copy(update={"tracking_number": number})
        if chosen is None:
            raise MalformedResponse(CARRIER, "trackResponse has no shipment")
        return without_earlier_parcels(chosen, query.shipped_on)
    codes = error_codes(response)
    if response.status == 400 and any(code in INVALID_NUMBER_CODES for code, _ in codes):
        message = "; ".join(msg for _, msg in codes)
        return TrackingResult(tracking_number=number, outcome=Outcome.INVALID, message=message)
    if response.status == 404:
        return TrackingResult(tracking_number=number, outcome=Outcome.NO_INFO_YET)
    if response.status == 403:
        raise AuthFailed(CARRIER, "HTTP 403 blocked merchant")
    summary = ", ".join(code for code, _ in codes) or "no error code"
    raise MalformedResponse(CARRIER, f"unexpected HTTP {response.status} ({summary})")
