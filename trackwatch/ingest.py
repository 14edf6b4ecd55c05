"""One way in for a shipped order, whatever brings it: `trackwatch add`, a CSV row, the HTTP
API or a Shopify fulfillment. They all call `accept`, which checks every field and refuses
with an InputError that names every problem (`field: reason`, one each), so nothing is stored
on refusal and a sender can fix a row in one go.

- Text fields refuse control characters, NULs and line breaks anywhere in them.
- The carrier the sender names outranks the number's shape; one we do not support is refused
  by its name. Left out, the number's format decides when it fits exactly one carrier. A
  number is always checked (check digit included) against its carrier's formats; the USPS
  barcode on a UPS SurePost, FedEx SmartPost or DHL eCommerce label is tracked with USPS,
  which delivers those parcels (`sender_carrier` keeps the carrier named).
- Dates must fall within a plausible window of now (see the bounds below): one stored far
  outside it broke every loop that computes from it.
- `customer_email` is exactly one valid address, or none: an order without one (point of
  sale, phone, marketplace) is watched with staff alerts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from carriers import InvalidTrackingNumber, detect, validate
from carriers.names import UnsupportedCarrier, carrier_named
from carriers.numbers import (
    USPS_DELIVERED,
    candidates,
    check_failures,
    normalize,
    s10_country,
    usps_impb,
)
from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.fields import (
    WINDOWS,
    countries,
    e164_phone,
    email_address,
    fail,
    outside,
    parse_instant,
    plain_text,
)
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
REQUIRED = frozenset({"store", "order_id", "tracking_number", "shipped_at"})

# Errors raised while checking the number that the sender fixes by giving the carrier.
_CARRIER_NEEDED = "carrier_needed"


@dataclass(frozen=True)
class _Context:
    settings: Settings
    now: datetime


def _instant(value: Any, info: ValidationInfo) -> datetime | None:
    field = str(info.field_name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail("must be an ISO date or date-time text")
    text = plain_text(value).strip()
    try:
        when = parse_instant(text, field)
    except InputError as exc:
        raise fail(exc.reason) from None
    back, ahead = WINDOWS[field]
    now = _context(info).now
    if not now - timedelta(days=back) <= when <= now + timedelta(days=ahead):
        raise fail(outside(text, when < now, field))
    return when


def _context(info: ValidationInfo) -> _Context:
    context = info.context
    if not isinstance(context, _Context):
        raise TypeError("ShipmentInput is validated by read_input, with settings and now")
    return context


@dataclass(frozen=True)
class Tracked:
    """Who tracks a parcel: the carrier polled, the number its API wants, and the carrier
    the sender named when another one delivers the parcel."""

    carrier: str
    number: str
    sender_carrier: str | None = None


@lru_cache(maxsize=64)
def tracked(carrier: str | None, number: str, country: str | None) -> Tracked:
    """Who tracks `number`, given the carrier the sender named (ours, or None) and the
    destination (None: unknown); InputError (field `carrier` or `tracking_number`) when
    nobody can. Cached: the validator asks, then to_shipment asks the same again."""
    if carrier is None:
        return _by_format(number, country)
    try:
        return Tracked(carrier, validate(carrier, number))
    except InvalidTrackingNumber as exc:
        handed = usps_impb(number) if carrier in USPS_DELIVERED else None
        if handed is None:
            raise InputError("tracking_number", str(exc)) from None
        return Tracked("usps", handed, sender_carrier=carrier)


def _by_format(number: str, country: str | None) -> Tracked:
    found = detect(number)
    if found is None and not candidates(number) and (failures := check_failures(number)):
        raise InputError("tracking_number", f"{normalize(number)!r} {'; '.join(failures)}")
    if found is None:
        raise InputError("carrier", f"{number!r} does not identify one carrier by its format: "
                         "give the carrier")  # fmt: skip
    post = s10_country(number)
    if post not in (None, "US") and country not in (None, "US"):
        # USPS sees another post's S10 parcel only on its way into the US.
        raise InputError("carrier", f"{number!r} is a number of the post of {post}, which "
                         f"USPS never handles on its way to {country}: give the carrier")  # fmt: skip
    return Tracked(found.carrier, found.number)


class ShipmentInput(BaseModel):
    """A shipped order as it arrives, checked field by field (read_input gives the context:
    the configured stores and now). Fields are checked in this order, and the number's check
    reads the carrier and the destination checked before it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    store: str = Field(min_length=1, max_length=64)
    order_id: str = Field(min_length=1, max_length=100)
    carrier: str | None = Field(None, max_length=100)
    destination_country: str = "US"
    tracking_number: str = Field(min_length=1, max_length=64)
    shipped_at: datetime
    customer_name: str = Field("", max_length=200)
    customer_email: str = Field("", max_length=254)
    customer_phone: str = Field("", max_length=32)
    destination_postal_code: str = Field("", max_length=20)
    destination_city: str = Field("", max_length=100)
    ordered_at: datetime | None = None
    promised_by: datetime | None = None
    direction: Direction = Direction.OUTBOUND

    _text = field_validator(
        "store", "order_id", "carrier", "destination_country", "tracking_number",
        "customer_name", "customer_email", "customer_phone", "destination_postal_code",
        "destination_city", mode="before",
    )(plain_text)  # fmt: skip
    _dates = field_validator("shipped_at", "ordered_at", "promised_by", mode="before")(_instant)
    _checked_email = field_validator("customer_email")(email_address)
    _checked_phone = field_validator("customer_phone")(e164_phone)

    @field_validator("store")
    @classmethod
    def _configured(cls, value: str, info: ValidationInfo) -> str:
        stores = _context(info).settings.stores
        if stores and value not in stores:
            raise fail(f"{value!r} is not configured ({', '.join(stores)})")
        return value

    @field_validator("carrier")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        try:
            return carrier_named(value) if value is not None else None
        except UnsupportedCarrier as exc:
            raise fail(str(exc)) from None

    @field_validator("destination_country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.upper()
        if code not in countries():
            raise fail(f"{value!r} is not an ISO 3166 alpha-2 country code such as US or DE")
        return code

    @field_validator("tracking_number")
    @classmethod
    def _trackable(cls, value: str, info: ValidationInfo) -> str:
        if "carrier" not in info.data:
            return value  # the carrier's problem is reported; the number cannot be judged
        try:
            tracked(info.data["carrier"], value, info.data.get("destination_country"))
        except InputError as exc:
            kind = _CARRIER_NEEDED if exc.field == "carrier" else "input"
            raise fail(exc.reason, kind) from None
        return value


def _problems(exc: ValidationError) -> InputError:
    found: list[InputError] = []
    for err in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "body"
        reason = {"missing": "is required", "extra_forbidden": "is not a known field"}.get(
            err["type"], err["msg"])  # fmt: skip
        found.append(InputError("carrier" if err["type"] == _CARRIER_NEEDED else field, reason))
    return InputError.several(found)


def read_input(data: Any, settings: Settings, now: datetime) -> ShipmentInput:
    """A checked ShipmentInput from a mapping (a JSON body, a CSV row); nulls and texts of
    spaces only are absent (a tab or a line break alone is refused like any other).
    InputError names every problem."""
    if not isinstance(data, dict):
        raise InputError("body", "must be a JSON object")
    cleaned = {k: v for k, v in data.items()
               if v is not None and not (isinstance(v, str) and not v.strip(" "))}  # fmt: skip
    try:
        return ShipmentInput.model_validate(cleaned, context=_Context(settings, now))
    except ValidationError as exc:
        raise _problems(exc) from None


def to_shipment(given: ShipmentInput) -> Shipment:
    """The Shipment to store for a checked input."""
    who = tracked(given.carrier, given.tracking_number, given.destination_country)
    try:
        return Shipment(
            store=given.store, carrier=who.carrier, tracking_number=who.number,
            sender_carrier=who.sender_carrier, order_id=given.order_id,
            customer_email=given.customer_email, customer_name=given.customer_name,
            customer_phone=given.customer_phone,
            destination_country=given.destination_country,
            destination_postal_code=given.destination_postal_code,
            destination_city=given.destination_city, shipped_at=given.shipped_at,
            ordered_at=given.ordered_at, promised_by=given.promised_by,
            direction=given.direction,
        )  # fmt: skip
    except ValidationError as exc:
        raise _problems(exc) from None


@dataclass(frozen=True)
class Accepted:
    """A shipment to store, and what its sender should know about how it is watched."""

    shipment: Shipment
    notes: tuple[str, ...]


def accept(data: Any, settings: Settings, now: datetime) -> Accepted:
    """Every way in: the shipment a mapping describes, or InputError naming every problem."""
    shipment = to_shipment(read_input(data, settings, now))
    return Accepted(shipment, notes_for(shipment, settings))


def notes_for(shipment: Shipment, settings: Settings) -> tuple[str, ...]:
    """What a sender (the API answer, `add`, the CSV summary) and staff (`show`) should know
    about how a stored shipment is watched."""
    notes: list[str] = []
    sender = shipment.sender_carrier
    if sender and sender != shipment.carrier:
        service = USPS_DELIVERED.get(sender, sender.upper()) if shipment.carrier == "usps" \
            else sender.upper()  # fmt: skip
        notes.append(f"{service} label: tracked with {shipment.carrier.upper()}, which "
                     "delivers it")  # fmt: skip
    if not shipment.customer_email:
        store = settings.stores.get(shipment.store)
        texts = bool(shipment.customer_phone and store and store.channels.customer_sms)
        notes.append("no customer email: staff alerts, and texts to the customer's phone; no "
                     "email notice" if texts else "no customer email: staff alerts only, no "
                     "customer notice")  # fmt: skip
    return tuple(notes)
