"""The outbound chokepoint against a real local server: Retry-After, bounded attempts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import run_on_clock
from trackwatch.clock import FrozenClock
from trackwatch.config import CarrierSettings
from trackwatch.errors import RateLimited
from trackwatch.http import HttpGateway, retry_after_seconds
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
    assert retry_after_seconds("120", clock) == 120
    assert retry_after_seconds("Mon, 23 Nov 2026 05:01:00 GMT", clock) == 60  # clock: 05:00Z
    assert retry_after_seconds("soon", clock) is None
    assert retry_after_seconds(None, clock) is None
