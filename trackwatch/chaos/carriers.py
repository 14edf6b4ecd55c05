"""The sandbox carriers behind a fault schedule: every carrier's API on one 127.0.0.1 port
(the same routes as sandbox/server.py), with a middleware in front that answers a carrier's
calls with a fault while one of its windows is open on the shared Clock, adds latency, and
logs every call.

The faults are the ones a carrier's edge really serves, whatever its API's own shapes:
- "500": an HTML error page with status 500 (a crashed backend behind nginx);
- "hang": no answer for `hang_seconds` of real time (the client's timeout is real too);
- "429": a storm of 429s, each with Retry-After;
- "truncated": the carrier's real answer, cut off halfway (a connection reset mid-body);
- "html": status 200 and an HTML maintenance page instead of JSON.
A faulted tracking call still counts against the world's quota: the carrier saw it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Handler

from trackwatch.clock import Clock
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import World

FAULTS = ("500", "hang", "429", "truncated", "html")
_ERROR_PAGE = (
    "<html><head><title>500 Internal Server Error</title></head><body>"
    "<center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center>"
    "</body></html>\n"
)
_MAINTENANCE = (
    "<!DOCTYPE html><html><head><title>Scheduled maintenance</title></head><body>"
    "<h1>We'll be back soon</h1><p>Tracking is down for scheduled maintenance.</p>"
    "</body></html>\n"
)


@dataclass(frozen=True)
class Fault:
    """`carrier` answers `kind` to every call in [start, end) on the sandbox's clock."""

    carrier: str
    kind: str
    start: datetime
    end: datetime
    retry_after: int = 600  # seconds, for "429"

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}: not one of {', '.join(FAULTS)}")


@dataclass(frozen=True)
class Call:
    carrier: str
    at: datetime
    endpoint: str  # "token" or "track"
    fault: str | None


@dataclass
class ChaosSandbox:
    world: World
    clock: Clock
    schedule: tuple[Fault, ...] = ()
    latency: float = 0.0  # real seconds added to every carrier call
    hang_seconds: float = 1.0
    calls: list[Call] = field(default_factory=list)
    _server: SandboxServer | None = None

    async def start(self) -> ChaosSandbox:
        self._server = await SandboxServer(self.world, self.clock, [self._middleware]).start()
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.base_url

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    def fault_at(self, carrier: str, now: datetime) -> Fault | None:
        return next((f for f in self.schedule
                     if f.carrier == carrier and f.start <= now < f.end), None)  # fmt: skip

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        owner = self._server.owner if self._server is not None else {}
        carrier = owner.get(request.match_info.route.resource)  # type: ignore[arg-type]
        if carrier is None:
            return await handler(request)
        now = self.clock.now()
        fault = self.fault_at(carrier, now)
        endpoint = "token" if "token" in request.path else "track"
        self.calls.append(Call(carrier, now, endpoint, fault.kind if fault else None))
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault is not None and endpoint == "track" and fault.kind != "truncated":
            self.world.spend(carrier, now)  # (the handler spends for the truncated answer)
        try:
            return await (handler(request) if fault is None else
                          self._answer(fault, request, handler))  # fmt: skip
        except ConnectionResetError:  # the daemon was killed while sending its request
            return web.Response(status=499)

    async def _answer(
        self, fault: Fault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if fault.kind == "500":
            return web.Response(status=500, text=_ERROR_PAGE, content_type="text/html")
        if fault.kind == "html":
            return web.Response(status=200, text=_MAINTENANCE, content_type="text/html")
        if fault.kind == "429":
            return web.json_response({"error": "Too Many Requests"}, status=429,
                                     headers={"Retry-After": str(fault.retry_after)})  # fmt: skip
        if fault.kind == "hang":
            await asyncio.sleep(self.hang_seconds)
            return web.Response(status=504, text="upstream timed out")
        real = await handler(request)
        body = real.body if isinstance(real, web.Response) and isinstance(real.body, bytes) else b""
        return web.Response(status=real.status, body=body[: len(body) // 2],
                            content_type="application/json")  # fmt: skip
