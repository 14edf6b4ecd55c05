"""The sandbox's world: parcels with scripted timelines, and faults to inject.

A timeline is a list of milestones at absolute instants; the sandbox shows a carrier's
client only the milestones whose time has come on the shared Clock, so a scenario plays out
in simulated time exactly as the daemon sees it.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from trackwatch.model import Place
from trackwatch.zones import zone_for


@dataclass(frozen=True)
class Milestone:
    """One scripted scan. `kind` is carrier-neutral (see each carrier's sandbox table)."""

    at: datetime
    kind: str
    place: Place
    detail: str = ""

    def local(self) -> datetime:
        """The scan's wall-clock time where it happened, as carriers print it."""
        return self.at.astimezone(
            zone_for(self.place.country, self.place.postal_code, self.place.state)
        )


@dataclass
class Parcel:
    carrier: str
    number: str
    timeline: list[Milestone]
    destination: Place
    scheduled_delivery: date | None = None
    shipped_on: date | None = None

    def visible(self, now: datetime) -> list[Milestone]:
        return sorted((m for m in self.timeline if m.at <= now), key=lambda m: m.at)


# Every carrier's sandbox has a scan for each of these (tests check it).
MILESTONE_KINDS = ("label", "picked_up", "departed", "arrived", "in_transit", "out_for_delivery",
                   "delivered", "delayed", "attempted", "access_point", "customs_hold",
                   "address_issue", "returned", "damaged", "lost", "undeliverable")  # fmt: skip

# "daily_quota" is the carrier's own daily-quota refusal; "timeout" holds the answer back.
FAULT_KINDS = frozenset({"429", "daily_quota", "503", "timeout", "expire_token", "malformed",
                         "403"})  # fmt: skip


@dataclass
class World:
    # A number can be reused: every parcel that had it, oldest first.
    parcels: dict[tuple[str, str], list[Parcel]] = field(default_factory=lambda: defaultdict(list))
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    calls: Counter[str] = field(default_factory=Counter)
    refused_clients: set[tuple[str, str]] = field(default_factory=set)
    tokens: dict[str, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))
    slow_seconds: float = 2.0  # how long a "timeout" fault holds the answer back (real time)
    # Token lifetimes other than the carrier's (the simulator's worlds run for weeks: a
    # token a day would only add calls it does not score).
    token_lifetime: int | None = None
    # Carrier quotas the sandbox enforces, as the real APIs do: carrier -> (calls, "hour" |
    # "day"). A call past one is answered 429 and counted in `over_quota`.
    quotas: dict[str, tuple[int, str]] = field(default_factory=dict)
    over_quota: Counter[str] = field(default_factory=Counter)
    history: dict[str, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    # Tracking calls per number and instant: (carrier, number, now) -> how many times asked
    # (filled by whoever sees the requests: the simulator's sandbox middleware, `ask`).
    asked: Counter[tuple[str, str, datetime]] = field(default_factory=Counter)
    _spent: dict[str, deque[datetime]] = field(default_factory=lambda: defaultdict(deque))
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, parcel: Parcel) -> Parcel:
        self.parcels[(parcel.carrier, parcel.number)].append(parcel)
        return parcel

    def parcel(self, carrier: str, number: str) -> Parcel | None:
        found = self.parcels.get((carrier, number))
        return found[-1] if found else None

    def all_parcels(self, carrier: str, number: str) -> list[Parcel]:
        return list(self.parcels.get((carrier, number), []))

    def refuse_client(self, carrier: str, client_id: str) -> None:
        """The carrier refuses this account's credentials from now on (a revoked key)."""
        self.refused_clients.add((carrier, client_id))

    def inject(self, carrier: str, *faults: str) -> None:
        """Queue faults that the carrier's next calls answer with, one call each."""
        unknown = set(faults) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.faults[carrier].extend(faults)

    def spend(self, carrier: str, now: datetime) -> str | None:
        """Count a call against the carrier's quota: None when allowed, else the fault
        ("429" or "daily_quota") to answer with."""
        self.history[carrier].append(now)
        if carrier not in self.quotas:
            return None
        limit, window = self.quotas[carrier]
        calls = self._spent[carrier]
        if window == "day":
            start = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
        else:
            start = now - timedelta(hours=1)
        while calls and (calls[0] < start or (window == "hour" and calls[0] == start)):
            calls.popleft()
        if len(calls) >= limit:
            self.over_quota[carrier] += 1
            return "daily_quota" if window == "day" else "429"
        calls.append(now)
        return None

    def ask(self, carrier: str, numbers: list[str], now: datetime) -> None:
        """One tracking call asked the carrier about `numbers` at `now`."""
        for number in numbers:
            self.asked[(carrier, number, now)] += 1

    def asked_twice(self) -> list[tuple[str, str, datetime]]:
        """(carrier, number, instant) asked more than once at one instant: a shipment
        polled twice in one slot (two daemons that both took it, or one that asked again)."""
        return sorted(key for key, times in self.asked.items() if times > 1)

    def next_fault(self, carrier: str) -> str | None:
        queue = self.faults[carrier]
        return queue.popleft() if queue else None

    def token_seconds(self, carrier_default: int) -> int:
        return self.token_lifetime or carrier_default

    def mint_token(self, carrier: str, expires_at: datetime) -> str:
        token = f"{carrier}-token-{next(self._serial)}"
        self.tokens[carrier][token] = expires_at
        return token

    def token_valid(self, carrier: str, token: str, now: datetime) -> bool:
        return self.token_state(carrier, token, now) == "valid"

    def token_state(self, carrier: str, token: str, now: datetime) -> str:
        """ "valid", "expired" (known but past its time) or "unknown"."""
        expires = self.tokens[carrier].get(token)
        if expires is None:
            return "unknown"
        return "valid" if now < expires else "expired"

    def expire_tokens(self, carrier: str) -> None:
        for token in self.tokens[carrier]:
            self.tokens[carrier][token] = datetime.min.replace(tzinfo=UTC)
