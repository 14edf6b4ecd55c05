"""One way in for a shipped order, whatever brings it: `trackwatch add`, a CSV row, the HTTP
API or a Shopify fulfillment. Every refusal is an InputError naming the field and the reason.

The carrier may be left out when the tracking number's format belongs to exactly one
carrier; a number is always checked (check digit included) against its carrier's formats.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from carriers import CARRIERS, InvalidTrackingNumber, detect, validate
from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.model import Direction, Shipment

# The documented CSV header and API body, in order (README: "Feeding it orders").
FIELDS = (
    "store",
    "order_id",
    "carrier",
    "tracking_number",
    "shipped_at",
    "customer_name",
    "customer_email",
    "destination_country",
    "destination_postal_code",
    "promised_by",
)
REQUIRED = frozenset(FIELDS) - {"carrier", "promised_by"}


class ShipmentInput(BaseModel):
    """A shipped order as it arrives, before it is checked against carriers and stores."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    store: str = Field(min_length=1)
    order_id: str = Field(min_length=1, max_length=100)
    carrier: str | None = None
    tracking_number: str = Field(min_length=1, max_length=64)
    shipped_at: str | None = None
    customer_name: str = Field("", max_length=200)
    customer_email: str = Field(min_length=1, max_length=254)
    customer_phone: str = Field("", max_length=20)
    destination_country: str = "US"
    destination_postal_code: str = Field("", max_length=20)
    destination_city: str = Field("", max_length=100)
    ordered_at: str | None = None
    promised_by: str | None = None
    direction: Direction = Direction.OUTBOUND


def parse_instant(text: str, field: str) -> datetime:
    """An ISO date (midnight UTC) or a date-time with its offset."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not an ISO date or date-time") from None
    if value.tzinfo is None:
        raise InputError(field, "give a UTC offset, e.g. 2026-11-23T09:00-05:00")
    return value.astimezone(UTC)


def _optional_instant(text: str | None, field: str) -> datetime | None:
    return parse_instant(text, field) if text else None


def first_problem(exc: ValidationError) -> InputError:
    err = exc.errors(include_input=False, include_url=False)[0]
    field = ".".join(str(part) for part in err["loc"]) or "body"
    reason = "is required" if err["type"] == "missing" else err["msg"]
    if err["type"] == "extra_forbidden":
        reason = "is not a known field"
    return InputError(field, reason)


def read_input(data: Any) -> ShipmentInput:
    """A ShipmentInput from a mapping (a JSON body, a CSV row); empty strings are absent."""
    if not isinstance(data, dict):
        raise InputError("body", "must be a JSON object")
    cleaned = {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
    try:
        return ShipmentInput.model_validate(cleaned)
    except ValidationError as exc:
        raise first_problem(exc) from None


def _carrier_and_number(given: ShipmentInput) -> tuple[str, str]:
    carrier = (given.carrier or "").lower()
    if not carrier:
        found = detect(given.tracking_number)
        if found is None:
            raise InputError("carrier", f"{given.tracking_number!r} does not identify one "
                             "carrier by its format: give the carrier")  # fmt: skip
        return found.carrier, found.number
    if carrier not in CARRIERS:
        raise InputError("carrier", f"{carrier!r} is not one of {', '.join(sorted(CARRIERS))}")
    try:
        return carrier, validate(carrier, given.tracking_number)
    except InvalidTrackingNumber as exc:
        raise InputError("tracking_number", str(exc)) from None


def to_shipment(given: ShipmentInput, settings: Settings, now: datetime) -> Shipment:
    """The Shipment to store, or InputError for the first thing wrong with it."""
    if settings.stores and given.store not in settings.stores:
        raise InputError(
            "store", f"{given.store!r} is not configured ({', '.join(settings.stores)})"
        )
    carrier, number = _carrier_and_number(given)
    email = given.customer_email
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InputError("customer_email", "is not an email address")
    try:
        return Shipment(
            store=given.store, carrier=carrier, tracking_number=number,
            order_id=given.order_id, customer_email=email,
            customer_name=given.customer_name, customer_phone=given.customer_phone,
            destination_country=given.destination_country,
            destination_postal_code=given.destination_postal_code,
            destination_city=given.destination_city,
            shipped_at=_optional_instant(given.shipped_at, "shipped_at") or now,
            ordered_at=_optional_instant(given.ordered_at, "ordered_at"),
            promised_by=_optional_instant(given.promised_by, "promised_by"),
            direction=given.direction,
        )  # fmt: skip
    except ValidationError as exc:
        raise first_problem(exc) from None
