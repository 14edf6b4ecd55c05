"""A sandbox server that records which tracking numbers each call asks about, at which
instant (World.ask: shipments polled twice in one slot), and can act once a tracking call
has been answered (the several-daemon run kills a daemon there, mid-pass)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from trackwatch.clock import Clock
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import World

# Called after a tracking call was served (carrier, instant), before its answer is sent.
Answered = Callable[[str, datetime], Awaitable[None]]


async def numbers_asked(carrier: str, request: web.Request) -> list[str]:
    """The tracking numbers one carrier call asks about, read as the carrier's API does."""
    if carrier == "ups":
        return [request.match_info.get("number", "")]
    if carrier == "dhl":
        return [request.query.get("trackingNumber", "")]
    try:
        body = await request.json()  # aiohttp keeps the body: the handler reads it again
    except ValueError:
        return []
    if carrier == "usps" and isinstance(body, list):
        return [str(item.get("trackingNumber", "")) for item in body if isinstance(item, dict)]
    if carrier == "fedex" and isinstance(body, dict):
        infos = body.get("trackingInfo") or []
        return [str(i.get("trackingNumberInfo", {}).get("trackingNumber", "")) for i in infos]
    return []


class AskingSandbox:
    """The sandbox carriers on one port, counting each number asked per instant."""

    def __init__(self, world: World, clock: Clock, answered: Answered | None = None) -> None:
        self.world = world
        self.clock = clock
        self.answered = answered
        self.server = SandboxServer(world, clock, [self._middleware])

    async def start(self) -> AskingSandbox:
        await self.server.start()
        return self

    async def stop(self) -> None:
        await self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        carrier = self.server.owner.get(request.match_info.route.resource)  # type: ignore[arg-type]
        if carrier is None or "token" in request.path:
            return await handler(request)
        now = self.clock.now()
        self.world.ask(carrier, await numbers_asked(carrier, request), now)
        response = await handler(request)
        if self.answered is not None:
            await self.answered(carrier, now)
        return response
