"""What every carrier's sandbox does with the next injected fault before answering a call.

Each carrier renders its own bodies for the faults it answers (429, 503, malformed, ...);
expiring tokens and holding the answer back are the same everywhere, so they live here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from trackwatch.sandbox.world import World

Render = Callable[[str], web.Response | None]


async def reply_to_fault(
    world: World, carrier: str, render: Render, now: datetime | None = None
) -> web.Response | None:
    """The carrier's answer to its next queued fault, or to a call past the quota the
    world enforces (given the time), or None to answer normally."""
    fault = world.next_fault(carrier)
    if fault is None and now is not None:
        fault = world.spend(carrier, now)
    if fault is None:
        return None
    if (response := render(fault)) is not None:
        return response
    if fault == "expire_token":
        world.expire_tokens(carrier)
    elif fault == "timeout":
        await asyncio.sleep(world.slow_seconds)  # real time: the client's timeout is real too
    return None


def bearer(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")
