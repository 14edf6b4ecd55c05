"""Sliding-window limits on lookups, by key (a client address, an order number), read from the
injected clock. Kept in memory: a daemon restart forgets them, and several daemons each keep
their own (an attacker spread over them gets each daemon's allowance, no more)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from datetime import datetime, timedelta

SWEEP_AT = 10_000  # keys held before the stale ones are swept out


class Window:
    """At most `limit` hits per key in any `span` (the limit given per check, as each store
    sets its own)."""

    def __init__(self, span: timedelta) -> None:
        self._span = span
        self._hits: dict[Hashable, deque[datetime]] = {}

    def _recent(self, key: Hashable, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self._span:
            hits.popleft()
        return hits

    def retry_after(self, key: Hashable, limit: int, now: datetime) -> int | None:
        """Whole seconds until `key` may be hit again, or None when it may be now."""
        hits = self._recent(key, now)
        if len(hits) < limit:
            return None
        wait = (hits[-limit] + self._span - now).total_seconds()
        return max(1, math.ceil(wait))

    def hit(self, key: Hashable, now: datetime) -> None:
        if len(self._hits) >= SWEEP_AT:
            self._sweep(now)
        self._hits.setdefault(key, deque()).append(now)

    def _sweep(self, now: datetime) -> None:
        for key in list(self._hits):
            if not self._recent(key, now):
                del self._hits[key]
