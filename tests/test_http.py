"""The outbound chokepoint against a real local server: Retry-After, bounded attempts."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from carriers.base import HttpResponse, seconds_until_retry
from tests.conftest import run_on_clock
from trackwatch.clock import FrozenClock
from trackwatch.config import CarrierSettings
from trackwatch.errors import RateLimited, Unavailable
from trackwatch.http import HttpGateway
from trackwatch.sandbox.local import serve_locally


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[str, list[int]]]:
    """Answers 429 with Retry-After: 20 twice, then 200; records each hit."""
    hits: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(1)
        if len(hits) <= 2:
            return web.json_response({}, status=429, headers={"Retry-After": "20"})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/x", handler)
    runner, port = await serve_locally(app)
    yield f"http://127.0.0.1:{port}/x", hits
    await runner.cleanup()


async def call(clock: FrozenClock, url: str, **limits: float) -> tuple[int, float]:
    start = clock.now()
    async with aiohttp.ClientSession() as session:
        gateway = HttpGateway(session, clock)
        gateway.register("test", CarrierSettings(base_url=url, rate_limit=100, **limits))
        request = gateway.request("test", "GET", url)
        response = await run_on_clock(clock, request, timedelta(seconds=1))
    return response.status, (clock.now() - start).total_seconds()


async def test_retry_after_is_honoured(clock: FrozenClock, flaky: tuple[str, list[int]]) -> None:
    url, hits = flaky
    status, waited = await call(clock, url, retry_attempts=3, max_inline_wait_seconds=30)
    assert status == 200 and len(hits) == 3
    assert 40 <= waited < 42  # two waits of the 20 s the server asked for (1 s steps)


async def test_long_waits_are_not_slept_inline(
    clock: FrozenClock, flaky: tuple[str, list[int]]
) -> None:
    url, hits = flaky
    with pytest.raises(RateLimited) as err:
        await call(clock, url, retry_attempts=3, max_inline_wait_seconds=10)
    assert err.value.retry_after == 20 and len(hits) == 1


async def test_attempts_are_bounded(clock: FrozenClock, flaky: tuple[str, list[int]]) -> None:
    url, hits = flaky
    with pytest.raises(RateLimited):
        await call(clock, url, retry_attempts=2, max_inline_wait_seconds=30)
    assert len(hits) == 2


def test_retry_after_forms(clock: FrozenClock) -> None:
    now = clock.now()
    assert seconds_until_retry("120", now) == 120
    assert seconds_until_retry("Mon, 23 Nov 2026 05:01:00 GMT", now) == 60  # clock: 05:00Z
    assert seconds_until_retry("Mon, 23 Nov 2026 05:01:00 -0000", now) == 60
    assert seconds_until_retry("Mon, 23 Nov 2026 04:00:00 GMT", now) == 0  # already past
    assert seconds_until_retry("soon", now) is None
    assert seconds_until_retry(None, now) is None


@pytest.fixture
async def odd() -> AsyncIterator[str]:
    """/lower answers with a header name in lower case; /drop hangs up without answering."""

    async def lower(request: web.Request) -> web.Response:
        return web.json_response({}, headers={"x-quota-remaining": "7"})

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    app.router.add_get("/lower", lower)
    app.router.add_get("/drop", drop)
    runner, port = await serve_locally(app)
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def once(clock: FrozenClock, url: str) -> HttpResponse:
    async with aiohttp.ClientSession() as session:
        gateway = HttpGateway(session, clock)
        gateway.register("test", CarrierSettings(base_url=url, rate_limit=100, retry_attempts=1))
        return await gateway.request("test", "GET", url)


async def test_headers_stay_case_insensitive_end_to_end(clock: FrozenClock, odd: str) -> None:
    response = await once(clock, f"{odd}/lower")
    assert response.headers.get("X-Quota-Remaining") == "7"
    built = HttpResponse(429, {"retry-after": "100"}, b"")
    assert built.headers.get("Retry-After") == "100" and built.retry_after(clock.now()) == 100


async def test_a_connection_that_fails_is_unavailable(clock: FrozenClock, odd: str) -> None:
    """aiohttp.ClientError (here ServerDisconnectedError, then ClientConnectorError on a port
    nobody listens on) is a carrier that cannot be reached, typed as such."""
    with pytest.raises(Unavailable, match=r"connection failed \(ServerDisconnectedError\)"):
        await once(clock, f"{odd}/drop")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unavailable, match=r"connection failed \(ClientConnectorError\)"):
        await once(clock, f"http://127.0.0.1:{port}/x")
