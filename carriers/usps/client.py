"""USPS Tracking 3.2 ("v3r2"): I/O only.

OAuth client credentials at /oauth2/v3/token with a JSON body (as USPS's README sends it);
the token (about 8 h; `expires_in` a number or a string) is cached, and a token whose scope
lacks `tracking` is refused at once, because every tracking call would fail with a 401 that
no refresh cures. Track is a POST of up to 35 items; a 207 mixes found items with per-item
404s, and items are re-keyed by trackingNumber, never by position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from carriers import shape
from carriers.assemble import rekeyed, require_distinct
from carriers.base import HttpResponse, Query, TokenCache, Transport, seconds, send_with_token
from carriers.text import clean
from carriers.usps.codes import SCOPE_MESSAGE
from carriers.usps.parse import parse
from trackwatch.clock import Clock
from trackwatch.errors import AuthFailed, BrokenAnswer, MalformedResponse, RateLimited, Unavailable
from trackwatch.model import Outcome, TrackingResult

CARRIER = "usps"
TOKEN_PATH = "/oauth2/v3/token"
TRACK_PATH = "/tracking/v3r2/tracking"
BATCH = 35
_ZIP5 = re.compile(r"^\d{5}")


def error_message(response: HttpResponse) -> str:
    """USPS's {"error": {"code", "message"}} or OAuth's {"error", "error_description"}."""
    body = response.error_object()
    error = body.get("error")
    if isinstance(error, Mapping):
        return clean(error.get("message")) or clean(error.get("code")) or f"HTTP {response.status}"
    return clean(body.get("error_description")) or clean(error) or f"HTTP {response.status}"


def token_expired(response: HttpResponse) -> bool:
    """Any USPS 401 except the missing-scope one, which a new token does not cure."""
    return SCOPE_MESSAGE not in error_message(response).lower()


def request_item(query: Query) -> dict[str, str]:
    """One item of the batch: additionalProperties is false, so only these three keys."""
    item = {"trackingNumber": query.number}
    if query.shipped_on is not None:
        item["mailingDate"] = query.shipped_on.isoformat()
    postal = query.destination.postal_code or ""
    if query.destination.country in (None, "US") and (match := _ZIP5.match(postal)):
        item["destinationZIPCode"] = match.group(0)
    return item


def read_token(response: HttpResponse, tracking: bool = True) -> tuple[str, float]:
    """(token, lifetime in seconds) from a token answer, or why there is none; `tracking`:
    a token that lists its scopes without tracking is refused."""
    if response.status != 200:
        raise AuthFailed(CARRIER, f"token request refused: {error_message(response)}")
    token = shape.obj(CARRIER, response.json(CARRIER), "token response")
    if not token.get("access_token"):
        raise BrokenAnswer(CARRIER, "token response has no access_token")
    granted = clean(token.get("scope"))
    if tracking and granted and "tracking" not in granted.split():
        raise AuthFailed(CARRIER, "token lacks the tracking scope; add Tracking to the USPS app")
    return str(token["access_token"]), seconds(token.get("expires_in", 0), CARRIER, "expires_in")


def read_track(response: HttpResponse, queries: Sequence[Query]) -> dict[str, TrackingResult]:
    """Per-number results from a track answer, or the typed error for the whole call."""
    if response.status == 401:
        raise AuthFailed(CARRIER, f"token rejected: {error_message(response)}")
    if response.status == 403:
        raise AuthFailed(CARRIER, f"forbidden: {error_message(response)}")
    if response.status == 429:
        raise RateLimited(CARRIER, error_message(response))
    if response.status >= 500:
        raise Unavailable(CARRIER, f"HTTP {response.status}: {error_message(response)}")
    if response.status == 404 and len(queries) == 1:
        number = queries[0].number
        return {number: TrackingResult(tracking_number=number, outcome=Outcome.NO_INFO_YET,
                                       message=error_message(response))}  # fmt: skip
    if response.status not in (200, 207):
        raise MalformedResponse(CARRIER, f"HTTP {response.status}: {error_message(response)}")
    return rekeyed(parse(response.json(CARRIER), {q.number: q.zone for q in queries}), queries)


class UspsClient:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = BATCH

    def __init__(
        self, transport: Transport, clock: Clock, base_url: str, client_id: str, client_secret: str
    ) -> None:
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.tokens = TokenCache(clock, self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        body = {"client_id": self._client_id, "client_secret": self._client_secret,
                "grant_type": "client_credentials"}  # fmt: skip
        response = await self._transport.request(
            CARRIER, "POST", self._base + TOKEN_PATH, json_body=body,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        return read_token(response)

    async def _post(self, items: list[dict[str, str]], token: str) -> HttpResponse:
        return await self._transport.request(
            CARRIER, "POST", self._base + TRACK_PATH, json_body=items,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )  # fmt: skip

    async def track(self, queries: Sequence[Query]) -> dict[str, TrackingResult]:
        if len(queries) > BATCH:
            raise ValueError(f"USPS takes at most {BATCH} numbers per call")
        require_distinct(queries)
        items = [request_item(q) for q in queries]
        response = await send_with_token(self.tokens, lambda t: self._post(items, t), token_expired)
        return read_track(response, queries)
