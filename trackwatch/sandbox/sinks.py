"""A local HTTP sink that records what notification channels deliver to it.

Apprise's `json://127.0.0.1:PORT/path` posts `{"title", "message", "type", ...}` here; the
sink keeps the path, headers and body of each request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from trackwatch.sandbox.local import serve_locally


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class HttpSink:
    """`keep=False`: what arrives is not kept in `received` (the simulator's staff chat
    takes tens of thousands of messages nobody reads)."""

    def __init__(self, on_receive: Callable[[Received], None] | None = None, status: int = 200,
                 keep: bool = True) -> None:  # fmt: skip
        self.received: list[Received] = []
        self.status = status
        self._keep = keep
        self._on_receive = on_receive
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if self.status != 200:
            return web.Response(status=self.status)
        try:
            body = await request.json()
        except ValueError:
            body = {"raw": await request.text()}
        item = Received(request.path, dict(request.headers), body)
        if self._keep:
            self.received.append(item)
        if self._on_receive is not None:
            self._on_receive(item)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True})

    async def start(self) -> HttpSink:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str = "notify") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"
