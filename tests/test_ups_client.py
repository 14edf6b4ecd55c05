"""The UPS client against the sandbox server speaking UPS's API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import yaml

from carriers.base import Query
from carriers.ups.client import UpsClient, classify
from tests.conftest import run_on_clock
from trackwatch.clock import FrozenClock
from trackwatch.config import CarrierSettings
from trackwatch.errors import AuthFailed, MalformedResponse, RateLimited, Unavailable
from trackwatch.http import HttpGateway
from trackwatch.model import Outcome, Place, Status
from trackwatch.sandbox.carriers.ups import track_body
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import Milestone, Parcel, World

NUMBER = "1Z5R89390357567127"
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")
SPEC = Path(__file__).parent / "fixtures" / "ups" / "ups-tracking-openapi.yaml"


@pytest.fixture
def parcel(world: World, clock: FrozenClock) -> Parcel:
    start = clock.now()
    timeline = [
        Milestone(start - timedelta(days=2), "label", NYC),
        Milestone(start - timedelta(days=1), "picked_up", NYC),
        Milestone(start + timedelta(days=1), "delivered", NYC, "Front Door"),
    ]
    return world.add(Parcel("ups", NUMBER, timeline, NYC))


async def make_client(sandbox: SandboxServer, clock: FrozenClock, **limits: Any
                      ) -> AsyncIterator[UpsClient]:  # fmt: skip
    async with aiohttp.ClientSession() as session:
        gateway = HttpGateway(session, clock)
        settings = CarrierSettings(base_url=sandbox.base_url, rate_limit=100, **limits)
        gateway.register("ups", settings, classify)
        yield UpsClient(gateway, clock, sandbox.base_url, "id", "secret")


@pytest.fixture
async def client(sandbox: SandboxServer, clock: FrozenClock) -> AsyncIterator[UpsClient]:
    async for c in make_client(sandbox, clock, max_inline_wait_seconds=0):
        yield c


async def test_tracks_and_caches_the_token(client: UpsClient, parcel: Parcel, world: World) -> None:
    for _ in range(3):
        results = await client.track([Query(NUMBER)])
    result = results[NUMBER]
    assert result.outcome is Outcome.FOUND
    assert [e.status for e in result.events] == [Status.LABEL_CREATED, Status.IN_TRANSIT]
    assert world.calls["ups:token"] == 1
    assert world.calls["ups:track"] == 3


async def test_token_refreshed_before_expiry(
    client: UpsClient, parcel: Parcel, world: World, clock: FrozenClock
) -> None:
    await client.track([Query(NUMBER)])
    clock.advance(hours=3, minutes=56)  # 4 h lifetime, refreshed 5 minutes before
    await client.track([Query(NUMBER)])
    assert world.calls["ups:token"] == 2


async def test_rejected_token_is_refreshed_once(
    client: UpsClient, parcel: Parcel, world: World
) -> None:
    await client.track([Query(NUMBER)])
    world.inject("ups", "expire_token")
    results = await client.track([Query(NUMBER)])
    assert results[NUMBER].outcome is Outcome.FOUND
    assert world.calls["ups:token"] == 2


async def test_rejected_credentials_are_auth_failed(
    client: UpsClient, parcel: Parcel, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.track([Query(NUMBER)])
    monkeypatch.setattr(world, "token_state", lambda *args: "unknown")
    with pytest.raises(AuthFailed):
        await client.track([Query(NUMBER)])


async def test_unknown_number_is_no_info_yet(client: UpsClient) -> None:
    result = (await client.track([Query("1Z879E930346834440")]))["1Z879E930346834440"]
    assert result.outcome is Outcome.NO_INFO_YET


async def test_429_is_rate_limited(client: UpsClient, parcel: Parcel, world: World) -> None:
    await client.track([Query(NUMBER)])
    world.inject("ups", "429")
    with pytest.raises(RateLimited) as err:
        await client.track([Query(NUMBER)])
    assert world.calls["ups:track"] == 2  # no inline retry without Retry-After
    assert err.value.retry_after is None  # UPS sends no Retry-After
    assert "quota" in err.value.message


async def test_5xx_is_retried_then_succeeds(
    sandbox: SandboxServer, parcel: Parcel, world: World, clock: FrozenClock
) -> None:
    world.inject("ups", "503")
    async for client in make_client(sandbox, clock, max_inline_wait_seconds=5, retry_attempts=3):
        # tenacity's backoff sleeps on the FrozenClock: move it along as it sleeps
        results = await run_on_clock(clock, client.track([Query(NUMBER)]), timedelta(seconds=1))
        assert results[NUMBER].outcome is Outcome.FOUND
    assert world.calls["ups:track"] == 2


async def test_persistent_5xx_is_unavailable(
    client: UpsClient, parcel: Parcel, world: World
) -> None:
    world.inject("ups", "503", "503", "503")
    with pytest.raises(Unavailable):
        await client.track([Query(NUMBER)])


async def test_timeout_is_unavailable(
    sandbox: SandboxServer, parcel: Parcel, world: World, clock: FrozenClock
) -> None:
    async for client in make_client(sandbox, clock, timeout_seconds=0.2, retry_attempts=1):
        await client.track([Query(NUMBER)])  # token first
        world.slow_seconds = 0.5
        world.inject("ups", "timeout")
        with pytest.raises(Unavailable, match="no answer"):
            await client.track([Query(NUMBER)])


async def test_malformed_json_is_malformed(client: UpsClient, parcel: Parcel, world: World) -> None:
    await client.track([Query(NUMBER)])
    world.inject("ups", "malformed")
    with pytest.raises(MalformedResponse):
        await client.track([Query(NUMBER)])


async def test_requests_carry_the_headers_ups_requires(
    sandbox: SandboxServer, parcel: Parcel, clock: FrozenClock
) -> None:
    seen: list[dict[str, str]] = []

    async def spy(
        session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        seen.append(dict(params.headers))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(spy)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        gateway = HttpGateway(session, clock)
        gateway.register("ups", CarrierSettings(base_url=sandbox.base_url), classify)
        await UpsClient(gateway, clock, sandbox.base_url, "id", "secret").track([Query(NUMBER)])
    token_call, track_call = seen
    assert token_call["Authorization"].startswith("Basic ")
    assert len(track_call["transId"]) == 32
    assert track_call["transactionSrc"] == "trackwatch"
    assert track_call["Authorization"].startswith("Bearer ")


def test_sandbox_bodies_validate_against_the_ups_schema(parcel: Parcel, clock: FrozenClock) -> None:
    # The published file has a tab in an unrelated default (shipperNum) that YAML forbids;
    # the fixture stays byte-for-byte, so the tab is replaced only when loading it.
    spec = yaml.safe_load(SPEC.read_text().replace("\t", " "))
    schema = {"$ref": "#/components/schemas/TrackApiResponse", "components": spec["components"]}
    validator = jsonschema.Draft7Validator(schema)
    for days in (0, 2):
        body = track_body(parcel, clock.now() + timedelta(days=days))
        errors = list(validator.iter_errors(body))
        assert errors == []
