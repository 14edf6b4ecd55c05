"""Reading one Shopify fulfillment as the REST Admin API and its webhooks shape it
(`tracking_company`, `tracking_numbers`, `destination`, …): the shipments it describes, the
fulfillment it is (`shopify:<id>`, its GraphQL id) and its version (`updated_at`).

A member of the wrong type is an InputError naming Shopify's field (a 400 on the webhook);
a number that cannot be watched is a refusal listed with every reason, field names as
Shopify's, and the others are still stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.ingest import Accepted, accept

GID_PREFIX = "gid://shopify/Fulfillment/"

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


def text_of(fulfillment: dict[str, Any], key: str) -> str | None:
    """A text member of the fulfillment, None when absent; InputError when it is not one."""
    value = fulfillment.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(key, "must be a text or null")
    return value


def _order_number(fulfillment: dict[str, Any]) -> str:
    # `name` is the order's name plus the fulfillment's index ("#1001.1"): customers know
    # the order as "#1001".
    name = text_of(fulfillment, "name") or ""
    if name:
        return name.rsplit(".", 1)[0] if "." in name else name
    order_id = fulfillment.get("order_id")
    if order_id is not None and (isinstance(order_id, bool) or
                                 not isinstance(order_id, int | str)):  # fmt: skip
        raise InputError("order_id", "must be a number, a text or null")
    return str(order_id or "")


def numbers_of(fulfillment: dict[str, Any]) -> list[str]:
    numbers = fulfillment.get("tracking_numbers")
    if numbers is not None and (not isinstance(numbers, list) or
                                not all(isinstance(n, str) for n in numbers)):  # fmt: skip
        raise InputError("tracking_numbers", "must be a list of texts or null")
    if not numbers:
        single = text_of(fulfillment, "tracking_number")
        numbers = [single] if single else []
    return list(dict.fromkeys(n.strip() for n in numbers if n.strip()))


def destination_of(fulfillment: dict[str, Any]) -> dict[str, Any]:
    destination = fulfillment.get("destination")
    if destination is not None and not isinstance(destination, dict):
        raise InputError("destination", "must be an object or null")
    return destination or {}


def _common(fulfillment: dict[str, Any], store: str) -> dict[str, Any]:
    """What the fulfillment's numbers share, as ingest's fields (checked there)."""
    destination = destination_of(fulfillment)
    return {
        "store": store, "order_id": _order_number(fulfillment),
        "carrier": text_of(fulfillment, "tracking_company"),
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
    fulfillment: dict[str, Any], settings: Settings, store: str, now: datetime
) -> tuple[list[Accepted], list[dict[str, Any]]]:
    """The shipments a fulfillment describes (each remembering the fulfillment's GraphQL
    id), and the numbers refused, with every reason."""
    common = _common(fulfillment, store)
    gid = gid_of(fulfillment)
    accepted: list[Accepted] = []
    refused: list[dict[str, Any]] = []
    for number in numbers_of(fulfillment):
        try:
            if not destination_of(fulfillment):
                raise InputError("destination", "the fulfillment has no shipping address")
            found = accept({**common, "tracking_number": number}, settings, now)
        except InputError as exc:
            refused.append(_refusal(number, exc))
            continue
        shipment = found.shipment.model_copy(update={"fulfillment_gid": gid})
        accepted.append(Accepted(shipment, found.notes))
    return accepted, refused


def _legacy_id(fulfillment: dict[str, Any]) -> str | None:
    value = fulfillment.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or \
            not str(value).isascii() or not str(value).isdigit():  # fmt: skip
        raise InputError("id", "must be a whole number, a text of digits or null")
    return str(value)


def source_of(fulfillment: dict[str, Any]) -> str | None:
    """`shopify:<id>`, what a fulfillment's shipments remember it by; None without an id."""
    legacy = _legacy_id(fulfillment)
    return None if legacy is None else f"shopify:{legacy}"


def gid_of(fulfillment: dict[str, Any]) -> str | None:
    """The fulfillment's Admin GraphQL id. Shopify's GIDs are `gid://shopify/Fulfillment/<REST
    id>`, so the REST `id` names it; `admin_graphql_api_id` (which Shopify sends alongside,
    equal) serves when there is no id."""
    legacy = _legacy_id(fulfillment)
    if legacy is not None:
        return f"{GID_PREFIX}{legacy}"
    given = text_of(fulfillment, "admin_graphql_api_id")
    if given is not None and (not given.startswith(GID_PREFIX) or
                              not given[len(GID_PREFIX):].isdigit()):  # fmt: skip
        raise InputError("admin_graphql_api_id", f"must be {GID_PREFIX}<digits>")
    return given


def version_of(fulfillment: dict[str, Any]) -> datetime | None:
    """When the fulfillment last changed (`updated_at`), to tell an older delivery."""
    text = text_of(fulfillment, "updated_at")
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError("no offset")
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InputError("updated_at", "must be an ISO date-time with its offset") from None
