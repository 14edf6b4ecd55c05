"""One fulfillment applied, whichever way it came: a `fulfillments/*` webhook, each
fulfillment of an `orders/fulfilled` webhook, or `trackwatch shopify backfill`.

A fulfillment's shipments remember it (`shopify:<id>`, and its GraphQL id for write-back).
A cancelled one (status `cancelled`), or one that failed (`error`, `failure`: nothing ships
under it; a retry is a new fulfillment), stops watching every one of them; one whose numbers
changed stops the numbers it no longer names ("replaced by a new tracking number") and
watches the new ones, unless one of its numbers was refused: then nothing is stopped as
replaced (the parcel would go unwatched). A number Shopify stopped that a live fulfillment
names again is watched again; one staff stopped stays stopped. Shopify does not deliver in
order, so a version older (by `updated_at`) than one applied before changes nothing
(`stale`). Each delivery has a receipt key: one applied before changes nothing (None).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carriers.numbers import normalize
from trackwatch.config import Settings
from trackwatch.ingest import Accepted
from trackwatch.model import Shipment
from trackwatch.shopify.fulfillments import (
    gid_of,
    numbers_of,
    shipments_of,
    source_of,
    text_of,
    version_of,
)
from trackwatch.stopping import stop_requests
from trackwatch.store.contract import Shipments
from trackwatch.store.records import FulfillmentApplied, FulfillmentUpdate

log = logging.getLogger("trackwatch.shopify")
BY = "Shopify"  # who stopped a shipment on a fulfillment's word
# Fulfillment statuses under which nothing ships: their shipments stop, none are added.
STOP_REASONS = {
    "cancelled": "fulfillment cancelled in Shopify",
    "error": "fulfillment failed in Shopify (status error)",
    "failure": "fulfillment failed in Shopify (status failure)",
}
REPLACED = "replaced by a new tracking number in Shopify"


@dataclass(frozen=True)
class Landed:
    """What applying one fulfillment did: `answer` as the webhook reports it; `applied`
    None when its receipt was seen before (then nothing changed)."""

    answer: dict[str, Any]
    applied: FulfillmentApplied | None

    @property
    def changed_watching(self) -> bool:
        """Whether shipments stopped or resumed (the daemon should look again)."""
        return self.applied is not None and bool(self.applied.stopped or self.applied.resumed)


def _removed(
    found: list[Shipment], status: str, listed: frozenset[str], refused: bool
) -> list[tuple[Shipment, str]]:
    """The watched shipments this delivery ends, each with why. A number no longer named
    is replaced only when every number the update names is watched: with one refused, the
    parcel may travel under the old number alone, which stays watched."""
    reason = STOP_REASONS.get(status)
    if reason is not None:
        return [(s, reason) for s in found if s.active]
    if not listed or refused:  # an update naming no number says nothing of the parcels
        return []
    return [(s, REPLACED) for s in found if s.active and s.tracking_number not in listed]


async def land(
    store: Shipments, settings: Settings, now: datetime, shop: str,
    fulfillment: dict[str, Any], receipt: str,
) -> Landed:  # fmt: skip
    """Apply one REST-shaped fulfillment of store `shop` under `receipt` (InputError for a
    member of the wrong type, before anything is written)."""
    status = text_of(fulfillment, "status") or ""
    source, version, gid = source_of(fulfillment), version_of(fulfillment), gid_of(fulfillment)
    accepted, refused = ([], []) if status in STOP_REASONS else \
        shipments_of(fulfillment, settings, shop, now)  # fmt: skip
    named = frozenset(normalize(n) for n in numbers_of(fulfillment)) | \
        {a.shipment.tracking_number for a in accepted}  # fmt: skip
    listed = frozenset() if status in STOP_REASONS else named
    found = await store.shipments_of_fulfillment(shop, source, named)
    ending = _removed(found.shipments, status, listed, bool(refused))
    stops = await stop_requests(store, settings, ending, BY, now)
    update = FulfillmentUpdate(receipt, shop, BY, source, version,
                               tuple(a.shipment for a in accepted), listed, tuple(stops),
                               gid)  # fmt: skip
    applied = await store.apply_fulfillment(update, now)
    if applied is None:
        return Landed({"duplicate": True}, None)
    _log(shop, fulfillment, refused, applied)
    return Landed(_answer(accepted, refused, ending, applied), applied)


def _log(store: str, fulfillment: dict[str, Any], refused: list[dict[str, Any]],
         applied: FulfillmentApplied) -> None:  # fmt: skip
    """What changed, by ids and fields only: reasons can quote the customer's data."""
    fid = fulfillment.get("id")
    for item in refused:
        log.warning("shopify %s: fulfillment %s: number refused (%s)", store, fid,
                    "; ".join(e["field"] for e in item["errors"]))  # fmt: skip
    if applied.stale:
        log.info("shopify %s: fulfillment %s: older than one applied, ignored", store, fid)
    for stopped in applied.stopped:
        if not stopped.already:
            log.info("shopify %s: fulfillment %s: shipment %d stopped (%s)", store, fid,
                     stopped.shipment_id, stopped.stopped)  # fmt: skip
    for sid in applied.resumed:
        log.info("shopify %s: fulfillment %s: shipment %d watched again", store, fid, sid)


def _answer(
    accepted: list[Accepted], refused: list[dict[str, Any]],
    ending: list[tuple[Shipment, str]], applied: FulfillmentApplied,
) -> dict[str, Any]:  # fmt: skip
    numbers = {s.id: (s.tracking_number, reason) for s, reason in ending}
    return {
        "stale": applied.stale,
        "shipments": [] if applied.stale else [
            {"id": sid, "created": created, "notes": list(a.notes)}
            for (sid, created), a in zip(applied.added, accepted, strict=True)],
        "refused": refused,
        "stopped": [{"id": s.shipment_id, "tracking_number": numbers[s.shipment_id][0],
                     "reason": numbers[s.shipment_id][1]}
                    for s in applied.stopped if not s.already],
        "resumed": applied.resumed,
    }  # fmt: skip
