"""The sandbox carrier server: every carrier's API on one 127.0.0.1 port, each on its own
real paths, driven by the World and the same Clock as the daemon."""

from __future__ import annotations

from aiohttp import web

from carriers.dhl import sandbox as dhl_sandbox
from carriers.fedex import sandbox as fedex_sandbox
from carriers.ups import sandbox as ups_sandbox
from carriers.usps import sandbox as usps_sandbox
from trackwatch.clock import Clock
from trackwatch.sandbox.local import serve_locally
from trackwatch.sandbox.world import World

SANDBOXES = {
    "usps": usps_sandbox.add_routes,
    "ups": ups_sandbox.add_routes,
    "fedex": fedex_sandbox.add_routes,
    "dhl": dhl_sandbox.add_routes,
}


class SandboxServer:
    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> SandboxServer:
        app = web.Application()
        for add_routes in SANDBOXES.values():
            add_routes(app, self.world, self.clock)
        self._runner, self.port = await serve_locally(app)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
