"""Serving an aiohttp app on 127.0.0.1 at a free port (sandbox, sinks and tests)."""

from __future__ import annotations

from aiohttp import web


async def serve_locally(app: web.Application, port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve `app` on 127.0.0.1 at `port` (0: a free one); returns the runner (to clean up)
    and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, int(runner.addresses[0][1])
