"""POST /webhooks/shopify/<store>: Shopify's fulfillments/create and fulfillments/update.

Shopify signs each delivery with HMAC-SHA256 over the raw body, base64 in
X-Shopify-Hmac-Sha256, keyed with the app's secret (the store's `shopify_secret`); it is
checked on the bytes as received, before any parsing. Shopify delivers at least once, so a
delivery whose X-Shopify-Webhook-Id was handled before is answered 200 and ignored.

A fulfillment carries one tracking company and one or more numbers (one per package). Each
number becomes a shipment, checked as every way in checks one (trackwatch.ingest); one that
cannot be watched (a carrier we do not support, a bad check digit) is listed in the answer
with every reason, field names as Shopify's, and logged (fields only: reasons can quote the
customer's data), and the others are still stored. Those are answered 200
all the same: a non-2xx makes Shopify retry the same payload, which would fail the same way,
and in the end drop the subscription.

A fulfillment's shipments remember it (`shopify:<id>`). An update that cancels it (status
`cancelled`), or says it failed (`error`, `failure`: nothing ships under it; a retry is a new
fulfillment), stops watching every one of them; an update whose numbers changed stops the
numbers it no longer names ("replaced by a new tracking number") and watches the new ones,
unless one of its numbers was refused: then nothing is stopped as replaced (the parcel would
go unwatched), and the answer lists the refusal. A number Shopify stopped that a live
fulfillment names again is watched again; one staff stopped stays stopped. Shopify does not deliver in order, so a delivery older (by the
fulfillment's `updated_at`) than one applied before changes nothing (`stale`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from carriers.numbers import normalize
from trackwatch.errors import InputError
from trackwatch.ingest import Accepted, accept
from trackwatch.model import Shipment
from trackwatch.stopping import stop_requests
from trackwatch.store.records import FulfillmentApplied, FulfillmentUpdate
from trackwatch.web.errors import ApiError, json_object
from trackwatch.web.report_page import ReportDesk

log = logging.getLogger("trackwatch.shopify")
TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
BY = "Shopify"  # who stopped a shipment on a fulfillment's word
# Fulfillment statuses under which nothing ships: their shipments stop, none are added.
STOP_REASONS = {
    "cancelled": "fulfillment cancelled in Shopify",
    "error": "fulfillment failed in Shopify (status error)",
    "failure": "fulfillment failed in Shopify (status failure)",
}
REPLACED = "replaced by a new tracking number in Shopify"


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.digest(secret.encode(), body, hashlib.sha256)).decode()


# Our field names as Shopify's fulfillment names them, so that a refusal points at the
# payload the merchant can see.
SHOPIFY_FIELDS = {
    "carrier": "tracking_company",
    "order_id": "name",
    "shipped_at": "created_at",
    "customer_email": "email",
    "customer_name": "destination.name",
    "destination_country": "destination.country_code",
    "destination_postal_code": "destination.zip",
    "destination_city": "destination.city",
}


def _text(fulfillment: dict[str, Any], key: str) -> str | None:
    """A text member of the fulfillment, None when absent; 400 when it is not a text."""
    value = fulfillment.get(key)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, key, "must be a text or null")
    return value


def _order_number(fulfillment: dict[str, Any]) -> str:
    # `name` is the order's name plus the fulfillment's index ("#1001.1"): customers know
    # the order as "#1001".
    name = _text(fulfillment, "name") or ""
    if name:
        return name.rsplit(".", 1)[0] if "." in name else name
    order_id = fulfillment.get("order_id")
    if order_id is not None and (isinstance(order_id, bool) or
                                 not isinstance(order_id, int | str)):  # fmt: skip
        raise ApiError(400, "order_id", "must be a number, a text or null")
    return str(order_id or "")


def numbers_of(fulfillment: dict[str, Any]) -> list[str]:
    numbers = fulfillment.get("tracking_numbers")
    if numbers is not None and (not isinstance(numbers, list) or
                                not all(isinstance(n, str) for n in numbers)):  # fmt: skip
        raise ApiError(400, "tracking_numbers", "must be a list of texts or null")
    if not numbers:
        single = _text(fulfillment, "tracking_number")
        numbers = [single] if single else []
    return list(dict.fromkeys(n.strip() for n in numbers if n.strip()))


def _destination(fulfillment: dict[str, Any]) -> dict[str, Any]:
    destination = fulfillment.get("destination")
    if destination is not None and not isinstance(destination, dict):
        raise ApiError(400, "destination", "must be an object or null")
    return destination or {}


def _common(fulfillment: dict[str, Any], store: str) -> dict[str, Any]:
    """What the fulfillment's numbers share, as ingest's fields (checked there)."""
    destination = _destination(fulfillment)
    return {
        "store": store, "order_id": _order_number(fulfillment),
        "carrier": _text(fulfillment, "tracking_company"),
        "shipped_at": fulfillment.get("created_at"),
        "customer_email": fulfillment.get("email"),
        "customer_name": destination.get("name"),
        "destination_country": destination.get("country_code"),
        "destination_postal_code": destination.get("zip"),
        "destination_city": destination.get("city"),
    }  # fmt: skip


def _refusal(number: str, error: InputError) -> dict[str, Any]:
    problems = [{"field": SHOPIFY_FIELDS.get(p.field, p.field), "reason": p.reason}
                for p in error.problems]  # fmt: skip
    return {"tracking_number": number, **problems[0], "errors": problems}


def shipments_of(
    fulfillment: dict[str, Any], desk: ReportDesk, store: str
) -> tuple[list[Accepted], list[dict[str, Any]]]:
    """The shipments a fulfillment describes, and the numbers refused, with every reason.
    A fulfillment whose members are not of the documented types is a 400 (ApiError)."""
    common = _common(fulfillment, store)
    now = desk.clock.now()
    accepted: list[Accepted] = []
    refused: list[dict[str, Any]] = []
    for number in numbers_of(fulfillment):
        try:
            if not _destination(fulfillment):
                raise InputError("destination", "the fulfillment has no shipping address")
            accepted.append(accept({**common, "tracking_number": number}, desk.settings, now))
        except InputError as exc:
            refused.append(_refusal(number, exc))
    return accepted, refused


def source_of(fulfillment: dict[str, Any]) -> str | None:
    """`shopify:<id>`, what a fulfillment's shipments remember it by; None without an id."""
    value = fulfillment.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or \
            not str(value).isascii() or not str(value).isdigit():  # fmt: skip
        raise ApiError(400, "id", "must be a whole number, a text of digits or null")
    return f"shopify:{value}"


def version_of(fulfillment: dict[str, Any]) -> datetime | None:
    """When the fulfillment last changed (`updated_at`), to tell an older delivery."""
    text = _text(fulfillment, "updated_at")
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError("no offset")
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ApiError(400, "updated_at", "must be an ISO date-time with its offset") from None


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


class ShopifyWebhook:
    def __init__(self, desk: ReportDesk) -> None:
        self._desk = desk

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/webhooks/shopify/{store}", self.receive)]

    def _verify(self, store: str, headers: Any, body: bytes) -> None:
        settings = self._desk.settings.stores.get(store)
        if settings is None or settings.shopify_secret is None:
            raise ApiError(404, "store", f"{store!r} takes no Shopify webhooks")
        given = headers.get("X-Shopify-Hmac-Sha256", "")
        expected = signature(settings.shopify_secret.get_secret_value(), body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "X-Shopify-Hmac-Sha256", "does not match the body")

    async def receive(self, request: web.Request) -> web.Response:
        store = request.match_info["store"]
        body = await request.read()
        self._verify(store, request.headers, body)
        topic = request.headers.get("X-Shopify-Topic", "")
        delivery = request.headers.get("X-Shopify-Webhook-Id", "")
        if not delivery:
            raise ApiError(400, "X-Shopify-Webhook-Id", "is missing")
        if topic not in TOPICS:
            return web.json_response({"ignored": f"topic {topic!r} is not a fulfillment"})
        fulfillment = json_object(body)
        status = _text(fulfillment, "status") or ""
        source, version = source_of(fulfillment), version_of(fulfillment)
        accepted, refused = ([], []) if status in STOP_REASONS else \
            shipments_of(fulfillment, self._desk, store)  # fmt: skip
        named = frozenset(normalize(n) for n in numbers_of(fulfillment)) | \
            {a.shipment.tracking_number for a in accepted}  # fmt: skip
        listed = frozenset() if status in STOP_REASONS else named
        found = await self._desk.store.shipments_of_fulfillment(store, source, named)
        ending = _removed(found.shipments, status, listed, bool(refused))
        now = self._desk.clock.now()
        update = FulfillmentUpdate(
            f"shopify:{store}:{delivery}", store, BY, source, version,
            tuple(a.shipment for a in accepted), listed,
            tuple(await stop_requests(self._desk.store, self._desk.settings, ending, BY, now)),
        )  # fmt: skip
        applied = await self._desk.store.apply_fulfillment(update, now)
        if applied is None:
            return web.json_response({"duplicate": True, "webhook_id": delivery})
        self._log(store, fulfillment, refused, applied)
        if applied.stopped or applied.resumed:
            self._desk.wake()
        return web.json_response(_answer(delivery, accepted, refused, ending, applied))

    @staticmethod
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
    delivery: str, accepted: list[Accepted], refused: list[dict[str, Any]],
    ending: list[tuple[Shipment, str]], applied: FulfillmentApplied,
) -> dict[str, Any]:  # fmt: skip
    numbers = {s.id: (s.tracking_number, reason) for s, reason in ending}
    return {
        "webhook_id": delivery,
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
