"""Staff alerts about a carrier that cannot be reached, refuses our credentials or our
requests, or answers in a form we cannot read, and about a carrier that is not enabled.

One alert per store and carrier, for the stores whose parcels were in the failed calls, saying
what happened. Rejected credentials are told as soon as a second call confirms them (a
single 401 is sometimes the carrier's hiccup, and one alert with its resolution a second
later is noise), and at the latest after `carrier_alert_after_minutes`; any other failure
once it has lasted that long (a 503 or two is the carrier's normal weather). Resolved, staff
told once, when a call succeeds again. Quota refusals (429) are the scheduler's business and
raise nothing here. While a carrier fails, no parcel of it is called stalled: the rules wait
for data polled after their deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from carriers.names import label
from trackwatch.accounts import carrier_of, store_of
from trackwatch.clock import Clock
from trackwatch.config import DaemonSettings
from trackwatch.errors import AuthFailed, CarrierError, RateLimited
from trackwatch.model import Audience, Finding, Severity
from trackwatch.notify.drafting import Drafter
from trackwatch.store.contract import StoreAlerts
from trackwatch.store.records import StoreAlertOpen

log = logging.getLogger("trackwatch.carriers")
CARRIER_DOWN = "carrier_unreachable"


NOT_ENABLED = "carrier_not_enabled"


def _action(carrier: str, error: CarrierError) -> str:
    if isinstance(error, AuthFailed):
        return (f"Check the {carrier} API credentials (client id and secret or key) and the "
                "account's status, then restart the daemon")  # fmt: skip
    if error.whole_carrier:
        return f"Nothing to do unless it lasts: check {carrier}'s status page"
    return (f"{carrier}'s API may have changed: `trackwatch show` on an affected shipment "
            "gives the error; report it to whoever maintains trackwatch")  # fmt: skip


def _account(key: str) -> str:
    """ "UPS", or "UPS (the store's own account)" for a store's account (accounts.py)."""
    own = " (the store's own account)" if store_of(key) else ""
    return f"{label(carrier_of(key))}{own}"


def finding(carrier: str, error: CarrierError, since: datetime, now: datetime) -> Finding:
    return Finding(
        rule=CARRIER_DOWN,
        episode=now.isoformat(),
        severity=Severity.URGENT if isinstance(error, AuthFailed) else Severity.WARNING,
        audiences=(Audience.STAFF,),
        summary=f"{_account(carrier)} {error.what}",
        action=_action(carrier, error),
        explanation={
            "failing since": f"{since:%Y-%m-%d %H:%M} UTC",
            "last error": error.message,
            "meanwhile": "its parcels are polled again later and none is called stalled on "
            "old data",
        },
    )


class CarrierAlarms:
    def __init__(
        self, store: StoreAlerts, clock: Clock, settings: DaemonSettings, drafter: Drafter
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

    async def failed(
        self, carrier: str, error: CarrierError, stores: Iterable[str], repeats: int = 1
    ) -> None:
        """A failed call; `repeats` is how many failures of this kind in a row the carrier
        has had (carrier_state.CarrierState.repeats: concurrent calls count once)."""
        if isinstance(error, RateLimited):
            return
        now = self._clock.now()
        since = self._since.setdefault(carrier, now)
        confirmed = isinstance(error, AuthFailed) and repeats >= 2
        if now - since < self._after and not confirmed:
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
        for rule in (CARRIER_DOWN, NOT_ENABLED):
            for (store, subject), alert_id in (await self._store.open_store_alerts(rule)).items():
                if subject != carrier:
                    continue
                drafts = self._drafter.for_store(
                    store, now, rule, Severity.WARNING, "resolved", carrier=carrier
                )
                await self._store.resolve_store_alert(alert_id, "calls succeed again", drafts, now)

    async def not_enabled(self, carrier: str, stores: Iterable[str]) -> None:
        """Shipments of a carrier the configuration does not enable: staff of each store
        told once (resolved when the carrier, enabled, answers a call)."""
        now = self._clock.now()
        self._clear.discard(carrier)
        for store in sorted(set(stores)):
            found = Finding(
                rule=NOT_ENABLED, episode=now.isoformat(), severity=Severity.URGENT,
                audiences=(Audience.STAFF,),
                summary=f"{label(carrier)} parcels are not tracked: the carrier is not enabled",
                action=f"Enable and configure [carriers.{carrier}] in trackwatch.toml and "
                "restart the daemon, or remove these shipments",
                explanation={"meanwhile": "its parcels are checked again once a day and none "
                             "is polled until the carrier is enabled"},
            )  # fmt: skip
            drafts = self._drafter.for_store(store, now, NOT_ENABLED, found.severity, "opened",
                                             alert=found)  # fmt: skip
            await self._store.open_store_alert(StoreAlertOpen(store, carrier, found, drafts), now)
