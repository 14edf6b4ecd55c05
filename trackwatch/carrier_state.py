"""What the daemon knows about each carrier's health, and when it may be called again.

- A 429 parks the carrier until its Retry-After (or 15 minutes; a spent daily quota until
  the reset): nothing is sent to it before then, whichever shipment is due.
- A carrier that fails (unreachable, 5xx, credentials refused) backs off exponentially:
  `min_poll_minutes`, then twice that, and so on up to `carrier_backoff_max_minutes`. When
  the wait is over, one batch goes first as a probe (and the gateway makes no quick retries
  of it): an outage costs a call per back-off step instead of bursts of token requests,
  and the quota is still there when the carrier comes back.
State changes are logged once ("failing", "recovered"), never once per call. Each daemon
keeps a copy of the state in the database (`refresh` at the start of each poll pass) and
writes every change through, so daemons sharing a database park and back off together: a
429 or an outage one of them meets holds the others from their next pass on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from trackwatch.config import DaemonSettings
from trackwatch.errors import CarrierError, RateLimited
from trackwatch.store.contract import CarrierStates
from trackwatch.store.records import CarrierTrouble

log = logging.getLogger("trackwatch.poller")

RATE_LIMIT_WAIT = timedelta(minutes=15)  # a 429 that says nothing of when to come back


class CarrierState:
    def __init__(self, settings: DaemonSettings, shared: CarrierStates | None = None) -> None:
        self._settings = settings
        self._shared = shared
        self._trouble: dict[str, CarrierTrouble] = {}
        self._parked: dict[str, datetime] = {}
        self._answered: dict[str, datetime] = {}  # this process's last answer, per account

    async def refresh(self) -> None:
        """Take up what every daemon on the database knows now (one read, each pass)."""
        if self._shared is None:
            return
        rows = await self._shared.carrier_states()
        self._parked = {c: r.parked_until for c, r in rows.items() if r.parked_until}
        self._trouble = {c: r.trouble for c, r in rows.items() if r.trouble}

    def configure(self, settings: DaemonSettings) -> None:
        self._settings = settings

    @property
    def failing(self) -> dict[str, str]:
        """Carriers failing now, with their last error (for /healthz and the status line)."""
        return {name: t.message for name, t in self._trouble.items()}

    def parked(self, now: datetime) -> dict[str, datetime]:
        """Accounts parked after a 429 (or a spent quota) at `now`, with until when."""
        return {key: until for key, until in self._parked.items() if until > now}

    @property
    def last_success(self) -> dict[str, datetime]:
        """When each account last answered a call of this daemon (since it started)."""
        return dict(self._answered)

    def is_failing(self, carrier: str) -> bool:
        return carrier in self._trouble

    def repeats(self, carrier: str) -> int:
        """How many failures of the same kind in a row the carrier has had (calls that were
        in flight together count once): a second refusal of our credentials confirms it."""
        trouble = self._trouble.get(carrier)
        return trouble.repeats if trouble else 0

    def blocked_until(self, carrier: str, now: datetime) -> datetime | None:
        """When the carrier may be called again, if not now (parked or backing off)."""
        until = max(
            (t for t in (self._parked.get(carrier), self._until(carrier)) if t is not None),
            default=None,
        )
        return until if until is not None and until > now else None

    def _until(self, carrier: str) -> datetime | None:
        trouble = self._trouble.get(carrier)
        return trouble.until if trouble else None

    async def rate_limited(self, key: str, error: RateLimited, now: datetime) -> datetime:
        """Park the carrier account `key`; returns until when."""
        wait = RATE_LIMIT_WAIT
        if error.retry_after is not None:
            wait = max(timedelta(seconds=error.retry_after), self._min_gap())
        until = now + wait
        self._parked[key] = max(until, self._parked.get(key, until))
        if self._shared is not None:
            await self._shared.park_carrier(key, self._parked[key])
        return self._parked[key]

    async def failed(self, key: str, error: CarrierError, now: datetime) -> datetime:
        """One more failure of the carrier account `key`; returns when to probe it next."""
        before = self._trouble.get(key)
        if before is not None and before.until > now:
            return before.until  # a call sent before the back-off began: one failure, not two
        if before is None:
            log.warning("%s failing: %s", key, error.message)
        kind = type(error).__name__
        repeats = before.repeats + 1 if before and before.kind == kind else 1
        failures = before.failures + 1 if before else 1
        trouble = CarrierTrouble(before.since if before else now, failures,
                                 now + self.backoff(failures), error.message, kind, repeats)  # fmt: skip
        self._trouble[key] = trouble
        if self._shared is not None:
            await self._shared.save_trouble(key, trouble)
        return trouble.until

    def backoff(self, failures: int) -> timedelta:
        """The wait after `failures` failures in a row: doubling, capped."""
        cap = timedelta(minutes=self._settings.carrier_backoff_max_minutes)
        doubled: timedelta = self._min_gap() * 2 ** min(max(0, failures - 1), 30)
        return min(cap, doubled)

    async def succeeded(self, carrier: str, now: datetime | None = None) -> None:
        """The account `carrier` answered (at `now`, when given: for the metrics)."""
        if now is not None:
            self._answered[carrier] = now
        if self._trouble.pop(carrier, None) is None:
            return
        log.info("%s recovered", carrier)
        if self._shared is not None:
            await self._shared.save_trouble(carrier, None)

    def _min_gap(self) -> timedelta:
        return timedelta(minutes=self._settings.min_poll_minutes)
