"""Staff alerts about a carrier that cannot be reached or refuses our credentials.

One alert per store and carrier, for the stores whose parcels were in the failed calls: told
at once when credentials are rejected (nothing will work until someone fixes them), and once
an outage has lasted `carrier_alert_after_minutes` (a 503 or two is the carrier's normal
weather). Resolved, staff told once, when a call succeeds again. Quota refusals (429) are
the scheduler's business and raise nothing here. While a carrier fails, no parcel of it is
called stalled: the rules wait for data polled after their deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from trackwatch.clock import Clock
from trackwatch.config import DaemonSettings
from trackwatch.errors import AuthFailed, CarrierError, RateLimited
from trackwatch.model import Audience, Finding, Severity
from trackwatch.notify.drafting import Drafter
from trackwatch.store import SqliteStore
from trackwatch.store.records import StoreAlertOpen

log = logging.getLogger("trackwatch.carriers")
CARRIER_DOWN = "carrier_unreachable"


def finding(carrier: str, error: CarrierError, since: datetime, now: datetime) -> Finding:
    rejected = isinstance(error, AuthFailed)
    what = "rejects our credentials" if rejected else "cannot be reached"
    action = (f"Check the {carrier} API credentials (client id and secret or key) and the "
              "account's status, then reload the daemon" if rejected else
              f"Nothing to do unless it lasts: check {carrier}'s status page")  # fmt: skip
    return Finding(
        rule=CARRIER_DOWN,
        episode=now.isoformat(),
        severity=Severity.URGENT if rejected else Severity.WARNING,
        audiences=(Audience.STAFF,),
        summary=f"{carrier.upper()} {what}",
        action=action,
        explanation={
            "failing since": f"{since:%Y-%m-%d %H:%M} UTC",
            "last error": error.message,
            "meanwhile": "its parcels are polled again later and none is called stalled on "
            "old data",
        },
    )


class CarrierAlarms:
    def __init__(
        self, store: SqliteStore, clock: Clock, settings: DaemonSettings, drafter: Drafter
    ) -> None:
        self._store = store
        self._clock = clock
        self.configure(settings, drafter)
        self._since: dict[str, datetime] = {}
        self._raised: set[tuple[str, str]] = set()  # (store, carrier) told this outage
        self._clear: set[str] = set()  # carriers known to have no open alert

    def configure(self, settings: DaemonSettings, drafter: Drafter) -> None:
        self._after = timedelta(minutes=settings.carrier_alert_after_minutes)
        self._drafter = drafter

    async def failed(self, carrier: str, error: CarrierError, stores: Iterable[str]) -> None:
        if isinstance(error, RateLimited):
            return
        now = self._clock.now()
        since = self._since.setdefault(carrier, now)
        if now - since < self._after and not isinstance(error, AuthFailed):
            return
        for store in sorted(set(stores)):
            if (store, carrier) in self._raised:
                continue
            self._raised.add((store, carrier))
            self._clear.discard(carrier)
            found = finding(carrier, error, since, now)
            drafts = self._drafter.for_store(store, now, CARRIER_DOWN, found.severity, "opened",
                                             alert=found)  # fmt: skip
            if await self._store.open_store_alert(StoreAlertOpen(store, carrier, found, drafts),
                                                  now) is not None:  # fmt: skip
                log.error("%s: %s (staff of %s told)", carrier, found.summary, store)

    async def succeeded(self, carrier: str) -> None:
        """Resolve this carrier's open alerts (also ones opened before a restart)."""
        self._since.pop(carrier, None)
        if carrier in self._clear:
            return
        self._clear.add(carrier)
        self._raised = {key for key in self._raised if key[1] != carrier}
        now = self._clock.now()
        for (store, subject), alert_id in (
            await self._store.open_store_alerts(CARRIER_DOWN)
        ).items():
            if subject != carrier:
                continue
            drafts = self._drafter.for_store(
                store, now, CARRIER_DOWN, Severity.WARNING, "resolved", carrier=carrier
            )
            await self._store.resolve_store_alert(alert_id, "calls succeed again", drafts, now)
