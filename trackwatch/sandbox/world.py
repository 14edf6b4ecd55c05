"""The sandbox's world: parcels with scripted timelines, and faults to inject.

A timeline is a list of milestones at absolute instants; the sandbox shows a carrier's
client only the milestones whose time has come on the shared Clock, so a scenario plays out
in simulated time exactly as the daemon sees it.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime

from trackwatch.model import Place


@dataclass(frozen=True)
class Milestone:
    """One scripted scan. `kind` is carrier-neutral (see each carrier's sandbox table)."""

    at: datetime
    kind: str
    place: Place
    detail: str = ""


@dataclass
class Parcel:
    carrier: str
    number: str
    timeline: list[Milestone]
    destination: Place
    scheduled_delivery: date | None = None

    def visible(self, now: datetime) -> list[Milestone]:
        return sorted((m for m in self.timeline if m.at <= now), key=lambda m: m.at)


FAULT_KINDS = frozenset({"429", "503", "timeout", "expire_token", "malformed"})


@dataclass
class World:
    parcels: dict[tuple[str, str], Parcel] = field(default_factory=dict)
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    calls: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    slow_seconds: float = 2.0  # how long a "timeout" fault holds the answer back (real time)
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, parcel: Parcel) -> Parcel:
        self.parcels[(parcel.carrier, parcel.number)] = parcel
        return parcel

    def parcel(self, carrier: str, number: str) -> Parcel | None:
        return self.parcels.get((carrier, number))

    def inject(self, carrier: str, *faults: str) -> None:
        """Queue faults that the carrier's next calls answer with, one call each."""
        unknown = set(faults) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.faults[carrier].extend(faults)

    def next_fault(self, carrier: str) -> str | None:
        queue = self.faults[carrier]
        return queue.popleft() if queue else None

    def mint_token(self, carrier: str, expires_at: datetime) -> str:
        token = f"{carrier}-token-{next(self._serial)}"
        self.tokens[carrier][token] = expires_at
        return token

    def token_valid(self, carrier: str, token: str, now: datetime) -> bool:
        expires = self.tokens[carrier].get(token)
        return expires is not None and now < expires

    def expire_tokens(self, carrier: str) -> None:
        self.tokens[carrier].clear()
