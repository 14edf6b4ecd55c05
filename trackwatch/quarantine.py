"""Rows the daemon cannot read, poll or judge are set aside, so that one bad row never stops
a loop: the row keeps everything it had, stops being polled and judged, and says why
(`trackwatch show`); it is logged once and staff of its store get one alert naming it, in
the same transaction. `trackwatch restart ID` takes it back once it is mended (and ends
that alert). "Cannot be polled" means answers unusable for it many times in a row
(poller.MAX_MISSES), not a carrier that is down.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from trackwatch.clock import Clock
from trackwatch.model import Audience, Finding, Severity
from trackwatch.notify.drafting import Drafter
from trackwatch.store.contract import SetsAside
from trackwatch.store.records import NoticeDraft, StoreAlertOpen, Unreadable, shipment_subject

log = logging.getLogger("trackwatch.quarantine")
SET_ASIDE = "shipment_set_aside"  # the rule name of the staff alert


def finding(row: Unreadable, stage: str, now: datetime) -> Finding:
    return Finding(
        rule=SET_ASIDE,
        episode=now.isoformat(),
        severity=Severity.WARNING,
        audiences=(Audience.STAFF,),
        summary=f"Shipment {row.shipment_id} is set aside: it could not be {stage}",
        action=f"Look at `trackwatch show {row.shipment_id}`, mend or remove the order, then "
        f"`trackwatch restart {row.shipment_id}`",
        explanation={"what failed": row.reason, "meanwhile": "it is neither polled nor judged; "
                     "every other shipment is"},
    )  # fmt: skip


class Quarantine:
    def __init__(self, store: SetsAside, clock: Clock, drafter: Drafter | None = None) -> None:
        self._store = store
        self._clock = clock
        self._drafter = drafter

    def configure(self, drafter: Drafter) -> None:
        self._drafter = drafter

    async def set_aside(self, rows: Sequence[Unreadable], stage: str) -> None:
        """Set these rows aside (`stage`: what could not be done to them: read, polled,
        judged); staff hear of each once."""
        if not rows:
            return
        now = self._clock.now()
        alarms = [(row, self._alarm(row, stage, now)) for row in rows]
        for row in await self._store.set_aside(alarms, now):
            log.error("shipment %d set aside: could not be %s: %s", row.shipment_id, stage,
                      row.reason)  # fmt: skip

    def _alarm(self, row: Unreadable, stage: str, now: datetime) -> StoreAlertOpen:
        found = finding(row, stage, now)
        drafts: tuple[NoticeDraft, ...] = ()
        if self._drafter is not None:
            drafts = self._drafter.for_store(row.store, now, SET_ASIDE, found.severity,
                                             "opened", alert=found)  # fmt: skip
        return StoreAlertOpen(row.store, shipment_subject(row.shipment_id), found, drafts)
