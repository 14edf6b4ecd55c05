"""The sandbox carrier server: every carrier's API on one 127.0.0.1 port, each on its own
real paths, driven by the World and the same Clock as the daemon."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web_urldispatcher import AbstractResource

from trackwatch.clock import Clock
from trackwatch.sandbox import push_routes
from trackwatch.sandbox.carriers import dhl as dhl_sandbox
from trackwatch.sandbox.carriers import fedex as fedex_sandbox
from trackwatch.sandbox.carriers import ups as ups_sandbox
from trackwatch.sandbox.carriers import usps as usps_sandbox
from trackwatch.sandbox.local import serve_locally
from trackwatch.sandbox.push import SandboxPush
from trackwatch.sandbox.shopify_shop import Shop
from trackwatch.sandbox.world import World

SANDBOXES = {
    "usps": usps_sandbox.add_routes,
    "ups": ups_sandbox.add_routes,
    "fedex": fedex_sandbox.add_routes,
    "dhl": dhl_sandbox.add_routes,
}


class SandboxServer:
    """`middlewares` see every call first (the chaos suite's fault schedule); `owner` says
    which carrier each route belongs to, once started. Given a `shop`, the server also
    stands in for that shop's Shopify Admin API (trackwatch.sandbox.shopify; no carrier owns
    it)."""

    def __init__(self, world: World, clock: Clock, middlewares: Sequence[Middleware] = (),
                 shop: Shop | None = None, push: SandboxPush | None = None) -> None:  # fmt: skip
        self.world = world
        self.shop = shop
        self.push = push  # the carriers' push side, when the world pushes
        self.clock = clock
        self.port = 0
        self.owner: dict[AbstractResource, str] = {}
        self._middlewares = tuple(middlewares)
        self._runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> SandboxServer:
        app = web.Application(middlewares=self._middlewares)
        for name, add_routes in SANDBOXES.items():
            known = set(app.router.resources())
            add_routes(app, self.world, self.clock)
            self.owner.update(dict.fromkeys(set(app.router.resources()) - known, name))
        if self.shop is not None:
            # Imported here: graphql-core is the demo extra's, and the simulator needs none.
            from trackwatch.sandbox import shopify  # noqa: PLC0415

            shopify.add_routes(app, self.shop)
        if self.push is not None:
            push_routes.add_routes(app, self.push)
        self._runner, self.port = await serve_locally(app, port)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.push is not None:
            await self.push.close()
        if self._runner is not None:
            await self._runner.cleanup()
