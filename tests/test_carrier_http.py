"""Each carrier client through the real gateway against a local aiohttp server that answers
every track call the same scripted way: Retry-After is honoured by all four, in seconds and
as an HTTP date, whatever the case of the header's name (issue 16, finding 8); a malformed or
refused answer says so and is never reported as a carrier that cannot be reached (finding 23).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from carriers import CARRIERS, CLASSIFIERS, Credentials, Query
from tests.golden import FIXTURES
from trackwatch.clock import FrozenClock
from trackwatch.config import CarrierSettings
from trackwatch.errors import MalformedResponse, RateLimited, RequestRejected
from trackwatch.http import HttpGateway
from trackwatch.sandbox.local import serve_locally

NUMBERS = {"ups": "1Z5R89390357567127", "usps": "9400111206206406260787",
           "fedex": "738488882438", "dhl": "3318810025"}  # fmt: skip
# Each carrier's 429 body: UPS's code 10429 (CARRIERS.md §7.16), USPS's quota error and
# FedEx's TOO.MANY.REQUESTS.ERROR as the sandboxes render them, DHL's observed body.
REFUSALS: dict[str, Any] = {
    "ups": {"response": {"errors": [{"code": "10429", "message": "Too Many Requests"}]}},
    "usps": {"apiVersion": "v3", "error": {"code": "429", "message": "Exceeded quota limit."}},
    "fedex": {"errors": [{"code": "TOO.MANY.REQUESTS.ERROR",
                          "message": "We have received too many requests in a short duration."}]},
    "dhl": json.loads((FIXTURES / "dhl" / "dhl-error-429-too-many-requests.json").read_text()),
}  # fmt: skip
TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 3599, "scope": "tracking"}


@dataclass
class Scripted:
    """What the server answers every track call with."""

    status: int = 429
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    base_url: str = ""


@pytest.fixture
async def server() -> AsyncIterator[Scripted]:
    script = Scripted()

    async def token(request: web.Request) -> web.Response:
        return web.json_response(TOKEN)

    async def track(request: web.Request) -> web.Response:
        return web.Response(status=script.status, body=script.body, headers=script.headers,
                            content_type="application/json")  # fmt: skip

    app = web.Application()
    for path in ("/security/v1/oauth/token", "/oauth2/v3/token", "/oauth/token"):
        app.router.add_post(path, token)
    app.router.add_get("/api/track/v1/details/{number}", track)
    app.router.add_post("/tracking/v3r2/tracking", track)
    app.router.add_post("/track/v1/trackingnumbers", track)
    app.router.add_get("/track/shipments", track)
    runner, port = await serve_locally(app)
    script.base_url = f"http://127.0.0.1:{port}"
    yield script
    await runner.cleanup()


async def track(name: str, script: Scripted, clock: FrozenClock) -> None:
    async with aiohttp.ClientSession() as session:
        gateway = HttpGateway(session, clock)
        settings = CarrierSettings(base_url=script.base_url, rate_limit=100,
                                   max_inline_wait_seconds=0)  # fmt: skip
        gateway.register(name, settings, CLASSIFIERS.get(name))
        creds = Credentials(script.base_url, "id", "secret", "key")
        await CARRIERS[name](gateway, clock, creds).track([Query(NUMBERS[name])])


def in_100_seconds(clock: FrozenClock) -> str:
    return format_datetime((clock.now() + timedelta(seconds=100)).astimezone(UTC), usegmt=True)


@pytest.mark.parametrize("name", sorted(NUMBERS))
@pytest.mark.parametrize("header", ["Retry-After", "retry-after", "RETRY-AFTER"])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_every_carrier_honours_retry_after(
    name: str, header: str, form: str, server: Scripted, clock: FrozenClock
) -> None:
    value = "100" if form == "seconds" else in_100_seconds(clock)
    server.body = json.dumps(REFUSALS[name]).encode()
    server.headers = {header: value}
    with pytest.raises(RateLimited) as caught:
        await track(name, server, clock)
    assert caught.value.retry_after == 100 and not caught.value.daily


@pytest.mark.parametrize("name", sorted(NUMBERS))
async def test_a_429_without_retry_after_keeps_each_carriers_default(
    name: str, server: Scripted, clock: FrozenClock
) -> None:
    """FedEx refuses for the rest of its 10-second window; the others say nothing, and the
    poller backs the carrier off for real."""
    server.body = json.dumps(REFUSALS[name]).encode()
    with pytest.raises(RateLimited) as caught:
        await track(name, server, clock)
    assert caught.value.retry_after == (10.0 if name == "fedex" else None)


@pytest.mark.parametrize("name", sorted(NUMBERS))
async def test_a_malformed_answer_says_so(name: str, server: Scripted, clock: FrozenClock) -> None:
    server.status, server.body = 200, b'{"not": "what any carrier sends'
    with pytest.raises(MalformedResponse) as caught:
        await track(name, server, clock)
    assert caught.value.message.startswith("malformed answer: ")
    assert str(caught.value).startswith(f"{name}: malformed answer: ")


@pytest.mark.parametrize("name", ["fedex", "dhl"])
async def test_a_refused_request_says_so(name: str, server: Scripted, clock: FrozenClock) -> None:
    """FedEx and DHL refuse a request they cannot read with a 400 for the whole call (the
    bodies: FedEx's published 400 example, DHL's published problem document)."""
    body = {"fedex": "fedex-error-400-tracking-number-empty.json",
            "dhl": "dhl-error-404-no-result-found.json"}[name]  # fmt: skip
    server.status, server.body = 400, (FIXTURES / name / body).read_bytes()
    with pytest.raises(RequestRejected) as caught:
        await track(name, server, clock)
    assert caught.value.message.startswith("request rejected: ")
