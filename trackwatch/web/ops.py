"""For operators: /metrics (Prometheus text format) and /healthz.

/healthz answers 200 while the event loop beats and the database takes a write, with
"degraded" when a carrier is failing (the daemon is fine; it raises its own staff alert and
waits), and 503 when the loop is stuck or the database refuses writes: restart territory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from trackwatch.clock import Clock
from trackwatch.heartbeat import Heartbeat
from trackwatch.metrics import Metrics
from trackwatch.quota import Quota
from trackwatch.store import contract

DATABASE_TIMEOUT = 5.0


@dataclass
class Vitals:
    store: contract.Ops
    clock: Clock
    metrics: Metrics
    heartbeat: Heartbeat
    quotas: Mapping[str, Quota]
    failing: Callable[[], Mapping[str, str]]  # carrier -> its last error
    database_timeout: float = DATABASE_TIMEOUT


class Ops:
    def __init__(self, vitals: Vitals) -> None:
        self._vitals = vitals

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", self.metrics), web.get("/healthz", self.healthz)]

    async def metrics(self, request: web.Request) -> web.Response:
        v = self._vitals
        v.metrics.loop_lag.set(v.heartbeat.lag)
        await v.metrics.refresh(v.store, v.quotas, v.clock.now())
        response = web.Response(body=v.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _database(self) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self._vitals.store.check_writable(self._vitals.clock.now()),
                                   self._vitals.database_timeout)  # fmt: skip
        except TimeoutError:
            return {"ok": False, "error": f"no write within {self._vitals.database_timeout:g}s"}
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True}

    async def healthz(self, request: web.Request) -> web.Response:
        beat = self._vitals.heartbeat
        failing = dict(self._vitals.failing())
        checks = {
            "event_loop": {"ok": beat.alive(), "lag_seconds": round(beat.lag, 3)},
            "database": await self._database(),
            "carriers": {"ok": not failing, "failing": failing},
        }
        vital = checks["event_loop"]["ok"] and checks["database"]["ok"]
        status = "failing" if not vital else "degraded" if failing else "ok"
        return web.json_response({"status": status, "checks": checks},
                                 status=200 if vital else 503)  # fmt: skip
