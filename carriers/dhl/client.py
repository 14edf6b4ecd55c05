"""DHL Shipment Tracking – Unified: I/O only.

No OAuth: every call carries the `DHL-API-Key` header, so a 401 is a rejected key and never
refreshed. One number per GET. The `service` parameter is sent when the number's format
names it (Express numbers and piece IDs, eCommerce numbers), because without it DHL may
answer with a different service's shipment under the same number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from carriers.assemble import pick_by_ship_date, require_distinct, without_earlier_parcels
from carriers.base import HttpResponse, Query, Transport
from carriers.dhl.parse import parse
from carriers.numbers import format_name
from carriers.text import clean
from trackwatch.clock import Clock
from trackwatch.errors import (
    AuthFailed,
    RateLimited,
    RequestRejected,
    Unavailable,
)
from trackwatch.model import Outcome, TrackingResult

CARRIER = "dhl"
TRACK_PATH = "/track/shipments"
_SERVICES = {"DHL Express": "express", "DHL Express (Piece ID)": "express",
             "DHL E-Commerce": "ecommerce", "DHL E-Commerce (14)": "ecommerce"}  # fmt: skip


def problem(response: HttpResponse) -> str:
    """RFC 7807 title and detail."""
    body = response.error_object()
    parts = [clean(body.get("title")), clean(body.get("detail"))]
    return ": ".join(p for p in parts if p) or f"HTTP {response.status}"


def params_for(query: Query) -> dict[str, str]:
    params = {"trackingNumber": query.number, "language": "en", "limit": "5"}
    service = _SERVICES.get(format_name("dhl", query.number) or "")
    if service:
        params["service"] = service
    if query.destination.postal_code:
        params["recipientPostalCode"] = query.destination.postal_code
    return params


def read_track(response: HttpResponse, query: Query) -> TrackingResult:
    status = response.status
    if status == 404:
        return TrackingResult(tracking_number=query.number, outcome=Outcome.NO_INFO_YET,
                              message=problem(response))  # fmt: skip
    if status in (401, 403):
        raise AuthFailed(CARRIER, f"API key rejected: {problem(response)}")
    if status == 429:
        raise RateLimited(CARRIER, problem(response))
    if status >= 500:
        raise Unavailable(CARRIER, problem(response))
    if status != 200:
        raise RequestRejected(CARRIER, problem(response))
    results = parse(response.json(CARRIER), query.number, query.zone)
    chosen = pick_by_ship_date(results, query.shipped_on)
    if chosen is None:
        return TrackingResult(tracking_number=query.number, outcome=Outcome.NO_INFO_YET)
    return without_earlier_parcels(chosen, query.shipped_on)


class DhlClient:
    name: ClassVar[str] = CARRIER
    batch_size: ClassVar[int] = 1

    def __init__(self, transport: Transport, clock: Clock, base_url: str, api_key: str) -> None:
        del clock  # a static key: nothing expires
        self._transport = transport
        self._base = base_url.rstrip("/")
        self._key = api_key

    async def track(self, queries: Sequence[Query]) -> dict[str, TrackingResult]:
        require_distinct(queries)
        answers: dict[str, TrackingResult] = {}
        for query in queries:
            response = await self._transport.request(
                CARRIER, "GET", self._base + TRACK_PATH, params=params_for(query),
                headers={"DHL-API-Key": self._key, "Accept": "application/json"},
            )  # fmt: skip
            answers[query.number] = read_track(response, query)
        return answers
