"""The one outbound HTTP chokepoint for carrier calls.

Per carrier: a bounded number of calls in flight (a semaphore in front of the throttle, so
asyncio-throttle never has more than a few waiters to re-check), a short-window rate limit,
tenacity retries with bounded attempts for transient failures, and Retry-After honoured.
A wait longer than `max_inline_wait_seconds`, or a daily quota, is not slept through here:
it is raised, and the poller reschedules the shipments instead of holding a worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp
from asyncio_throttle.throttler import Throttler
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from carriers.base import HttpResponse
from trackwatch.carrier_state import CarrierState
from trackwatch.clock import Clock
from trackwatch.config import CarrierSettings
from trackwatch.errors import CarrierError, RateLimited, Unavailable
from trackwatch.metrics import Metrics
from trackwatch.quota import MemoryLedger, Quota
from trackwatch.store.contract import CallLedger

# Carrier-specific reading of a failed answer (the time is for quotas that reset at a clock
# time, such as FedEx's and DHL's at 00:00 GMT).
Classifier = Callable[[HttpResponse, datetime], CarrierError | None]


class _Lane:
    """One carrier's share of the gateway."""

    def __init__(
        self,
        carrier: str,
        settings: CarrierSettings,
        classify: Classifier | None,
        clock: Clock,
        ledger: CallLedger,
    ) -> None:
        self.settings = settings
        self.quota: Quota | None = None
        if settings.quota_calls:
            self.quota = Quota(carrier, settings.quota_calls, settings.quota_window, clock,
                               ledger, settings.quota_spare)  # fmt: skip
        self.classify = classify
        self.slots = asyncio.Semaphore(settings.max_in_flight)
        self.throttle = Throttler(
            rate_limit=settings.rate_limit, period=settings.rate_period_seconds
        )


class HttpGateway:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        ledger: CallLedger | None = None,
        metrics: Metrics | None = None,
        health: CarrierState | None = None,
    ) -> None:
        self._session = session
        self._health = health
        self._metrics = metrics or Metrics()
        self._clock = clock
        self._ledger: CallLedger = ledger or MemoryLedger()
        self._lanes: dict[str, _Lane] = {}
        self.calls: dict[str, int] = {}

    def register(
        self, carrier: str, settings: CarrierSettings, classify: Classifier | None = None
    ) -> None:
        self._lanes[carrier] = _Lane(carrier, settings, classify, self._clock, self._ledger)
        self.calls.setdefault(carrier, 0)

    def quota(self, carrier: str) -> Quota | None:
        lane = self._lanes.get(carrier)
        return lane.quota if lane is not None else None

    async def request(
        self,
        carrier: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        lane = self._lanes[carrier]

        async def once() -> HttpResponse:
            return await self._once(carrier, lane, method, url, headers, params, json_body, form)

        try:  # most calls succeed: tenacity is set up only for one that failed
            return await once()
        except Exception as exc:  # replayed into tenacity, which decides what follows
            first: BaseException = exc
        # A carrier known to be failing is being probed: the probe is the retry.
        failing = self._health is not None and self._health.is_failing(carrier)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(1 if failing else lane.settings.retry_attempts),
            wait=self._wait(lane.settings),
            retry=retry_if_exception(lambda exc: self._retryable(exc, lane.settings)),
            sleep=self._clock.sleep,
            reraise=True,
        )
        replay: list[BaseException] = [first]  # tenacity's first attempt is the one made
        async for attempt in retrying:
            with attempt:
                if replay:
                    raise replay.pop()
                return await once()
        raise AssertionError("tenacity stopped without an outcome")  # pragma: no cover

    @staticmethod
    def _retryable(exc: BaseException, settings: CarrierSettings) -> bool:
        """Only short waits are taken here. A 429 without Retry-After (UPS sends none) is
        not retried within seconds: the poller backs the carrier off for real."""
        limit = settings.max_inline_wait_seconds
        if isinstance(exc, RateLimited):
            wait = exc.retry_after
            return not exc.daily and wait is not None and wait <= limit
        return isinstance(exc, Unavailable) and limit > 0

    @staticmethod
    def _wait(settings: CarrierSettings) -> Callable[[RetryCallState], float]:
        backoff = wait_exponential_jitter(initial=1, max=max(1.0, settings.max_inline_wait_seconds))

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                return exc.retry_after
            return float(backoff(state))

        return wait

    async def _once(
        self,
        carrier: str,
        lane: _Lane,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
    ) -> HttpResponse:
        timeout = aiohttp.ClientTimeout(total=lane.settings.timeout_seconds)
        async with lane.slots, lane.throttle:
            if lane.quota is not None:
                await lane.quota.take()
            self.calls[carrier] += 1
            started = time.perf_counter()
            try:
                async with self._session.request(
                    method, url, headers=headers, params=params, json=json_body, data=form,
                    timeout=timeout,
                ) as resp:  # fmt: skip
                    # resp.headers stays a case-insensitive CIMultiDictProxy (never a dict).
                    response = HttpResponse(resp.status, resp.headers, await resp.read())
            except TimeoutError:
                raise Unavailable(carrier, f"no answer within {timeout.total:g}s") from None
            except aiohttp.ClientError as exc:
                raise Unavailable(carrier, f"connection failed ({type(exc).__name__})") from None
            finally:
                self._metrics.latency.labels(carrier).observe(time.perf_counter() - started)
        error = self._error(carrier, lane, response)
        if error is None:
            return response
        if isinstance(error, RateLimited):
            self._metrics.rate_limited.labels(carrier).inc()
        raise error

    def _error(self, carrier: str, lane: _Lane, response: HttpResponse) -> CarrierError | None:
        if lane.classify is not None and (found := lane.classify(response, self._clock.now())):
            return found
        if response.status == 429:
            wait = response.retry_after(self._clock.now())
            return RateLimited(carrier, "HTTP 429 Too Many Requests", retry_after=wait)
        if response.status >= 500:
            return Unavailable(carrier, f"HTTP {response.status}")
        return None
