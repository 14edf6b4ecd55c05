"""For operators: /metrics (Prometheus text format) and /healthz.

/healthz answers 200 while the event loop beats and the database takes a write, with
"degraded" when a carrier account is failing or parked after a 429 or a spent quota (the
daemon is fine; it raises its own staff alert and waits; "parked" says until when), and 503
when the loop is stuck or the database refuses writes: restart territory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from trackwatch.carrier_state import CarrierState
from trackwatch.clock import Clock
from trackwatch.heartbeat import Heartbeat
from trackwatch.metrics import Accounts, Known, Metrics
from trackwatch.quota import Quota
from trackwatch.store import contract

DATABASE_TIMEOUT = 5.0


def _none() -> Collection[str]:
    return ()


@dataclass
class Vitals:
    store: contract.Ops
    clock: Clock
    metrics: Metrics
    heartbeat: Heartbeat
    quotas: Mapping[str, Quota]
    health: CarrierState
    accounts: Sequence[str] = ()  # every configured carrier account's key
    stores: Callable[[], Collection[str]] = _none  # the stores configured now (reloads)
    rules: Sequence[str] = ()  # every detection rule's name
    database_timeout: float = DATABASE_TIMEOUT


class Ops:
    def __init__(self, vitals: Vitals) -> None:
        self._vitals = vitals

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", self.metrics), web.get("/healthz", self.healthz)]

    async def metrics(self, request: web.Request) -> web.Response:
        v = self._vitals
        now = v.clock.now()
        v.metrics.loop_lag.set(v.heartbeat.lag)
        accounts = Accounts(v.accounts, v.health.failing, v.health.parked(now),
                            v.health.last_success)  # fmt: skip
        known = Known(v.stores(), v.rules)
        await v.metrics.refresh(v.store, v.quotas, now, accounts, known)
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

    def _carriers(self) -> dict[str, Any]:
        health = self._vitals.health
        failing = dict(health.failing)
        parked = {key: until.isoformat() for key, until in
                  sorted(health.parked(self._vitals.clock.now()).items())}  # fmt: skip
        return {"ok": not failing and not parked, "failing": failing, "parked": parked}

    async def healthz(self, request: web.Request) -> web.Response:
        beat = self._vitals.heartbeat
        checks = {
            "event_loop": {"ok": beat.alive(), "lag_seconds": round(beat.lag, 3)},
            "database": await self._database(),
            "carriers": self._carriers(),
        }
        vital = checks["event_loop"]["ok"] and checks["database"]["ok"]
        status = "failing" if not vital else "ok" if checks["carriers"]["ok"] else "degraded"
        return web.json_response({"status": status, "checks": checks},
                                 status=200 if vital else 503)  # fmt: skip
