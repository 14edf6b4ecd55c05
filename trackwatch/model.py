"""The shared vocabulary: what a parcel, an event, a finding, an alert and a notice are.

Every datetime here is timezone-aware and kept in UTC; carriers' local times are resolved
before they become a `TrackingEvent`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class Status(StrEnum):
    """Normalized parcel status, the same for every carrier."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    EXCEPTION = "exception"
    DELIVERED = "delivered"
    UNKNOWN = "unknown"


class ExceptionKind(StrEnum):
    CUSTOMS_HOLD = "customs_hold"
    ADDRESS_ISSUE = "address_issue"
    DAMAGED = "damaged"
    RETURNED_TO_SENDER = "returned_to_sender"
    LOST = "lost"
    OTHER = "other"


class DeliveryLocation(StrEnum):
    FRONT_DOOR = "front_door"
    MAILBOX = "mailbox"
    MAILROOM = "mailroom"
    RECEPTION = "reception"
    PARCEL_LOCKER = "parcel_locker"
    NEIGHBOUR = "neighbour"
    PICKUP_POINT = "pickup_point"
    WITH_INDIVIDUAL = "with_individual"
    OTHER = "other"


class Outcome(StrEnum):
    """What a carrier said about one number: found, nothing yet (retry), or invalid."""

    FOUND = "found"
    NO_INFO_YET = "no_info_yet"
    INVALID = "invalid"


def utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; refuse naive ones loudly."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


class Place(BaseModel):
    model_config = ConfigDict(frozen=True)

    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def label(self) -> str:
        parts = [p for p in (self.city, self.state, self.postal_code, self.country) if p]
        return ", ".join(parts)


class TrackingEvent(BaseModel):
    """One carrier scan, normalized.

    `code` keeps the carrier's exact code(s) so that nothing is lost in mapping; `status`
    stays `unknown` when the code is not in the carrier's table.
    """

    model_config = ConfigDict(frozen=True)

    occurred_at: AwareDatetime
    status: Status
    code: str
    description: str
    place: Place = Field(default_factory=Place)
    exception: ExceptionKind | None = None
    delayed: bool = False
    delivery_location: DeliveryLocation | None = None
    signed_by: str | None = None
    zone_inferred: bool = False
    date_only: bool = False

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return utc(value)

    def dedupe_key(self) -> tuple[str, datetime, str]:
        return (self.code, self.occurred_at, self.place.label())


class TrackingResult(BaseModel):
    """Everything one carrier response says about one tracking number."""

    tracking_number: str
    outcome: Outcome
    events: list[TrackingEvent] = Field(default_factory=list)
    status: Status = Status.UNKNOWN
    eta: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    photo_available: bool = False
    message: str | None = None
    unique_id: str | None = None
    ship_date: date | None = None
    # Scans dropped as another parcel's (dated before our label: a reused number); `message`
    # then says how many and why.
    ignored_events: int = 0

    @property
    def last_event_at(self) -> datetime | None:
        return self.events[-1].occurred_at if self.events else None


class Direction(StrEnum):
    OUTBOUND = "outbound"  # from the store to a customer
    RETURN = "return"  # from a customer back to the store


class Shipment(BaseModel):
    """A parcel trackwatch watches, as stored."""

    id: int | None = None
    store: str
    carrier: str
    tracking_number: str
    order_id: str
    customer_email: str
    customer_name: str = ""
    customer_phone: str = ""  # E.164, for a store's optional SMS or WhatsApp channel
    destination_country: str = "US"
    destination_postal_code: str = ""
    destination_city: str = ""
    shipped_at: AwareDatetime
    ordered_at: AwareDatetime | None = None
    promised_by: AwareDatetime | None = None
    direction: Direction = Direction.OUTBOUND
    missing_reported_at: AwareDatetime | None = None
    missing_reported_by: str | None = None
    status: Status = Status.UNKNOWN
    last_event_at: AwareDatetime | None = None
    eta: AwareDatetime | None = None
    last_polled_at: AwareDatetime | None = None
    next_poll_at: AwareDatetime | None = None
    check_at: AwareDatetime | None = None
    polls: int = 0
    active: bool = True  # False once stopped by hand or by the store: not polled or judged
    revision: int = 0  # bumped by each poll or report; see store.apply_evaluation
    deadline_at: AwareDatetime | None = None  # the nearest deadline a poll must verify
    stopped: str | None = None  # why polling stopped: delivered, expired, lost, by hand
    stopped_at: AwareDatetime | None = None
    restarted_at: AwareDatetime | None = None  # polling restarted by hand after a stop
    sender_carrier: str | None = None  # the carrier the sender named, when another delivers
    carrier_note: str | None = None  # the carrier's latest remark (number unknown, ...)
    misses: int = 0  # consecutive polls the carrier had nothing for this number
    set_aside: str | None = None  # why the daemon stopped handling this row (unreadable)
    set_aside_at: AwareDatetime | None = None
    follow_up_alert: int | None = None  # an alert whose customer is owed a word (on movement)
    follow_up_after: AwareDatetime | None = None  # movement means a scan after this
    # The Shopify fulfillment that ships it (gid://shopify/Fulfillment/<id>): write-back
    # records fulfillment events on it (trackwatch.shopify.writeback).
    fulfillment_gid: str | None = None
    # Until when a carrier's push covers this shipment (trackwatch.push): routine polls wait
    # until then, and a push that went quiet past it is polled for.
    push_until: AwareDatetime | None = None

    @field_validator("destination_country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValueError("must be a two-letter ISO country code such as US or DE")
        return code


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    URGENT = "urgent"


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


class Finding(BaseModel):
    """A rule's verdict that something is wrong, with the reasons a person can read.

    `due` is the instant the condition became true (the threshold crossed, the event
    scanned); a finding that `needs_fresh_data` is only trusted when the shipment was
    polled after it. `audiences` are who hear of it at this stage: an `escalated` finding
    for an alert already open notifies the audiences it adds, and staff. `supersedes` names
    rules whose alerts this one makes redundant (lost makes a stall moot).
    """

    model_config = ConfigDict(frozen=True)

    rule: str
    episode: str
    severity: Severity
    audiences: tuple[Audience, ...]
    summary: str
    action: str
    explanation: dict[str, str]
    facts: dict[str, str] = Field(default_factory=dict)  # plain values for templates
    due: AwareDatetime | None = None
    needs_fresh_data: bool = False
    escalated: bool = False
    supersedes: frozenset[str] = frozenset()


class AlertState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """An alert about a parcel, or (no `shipment_id`) about a store's `subject`: a channel
    that keeps failing, a carrier that is down."""

    id: int
    shipment_id: int | None
    store: str = ""
    subject: str = ""
    rule: str
    episode: str
    state: AlertState
    severity: Severity
    summary: str
    action: str
    explanation: dict[str, str]
    audiences: tuple[Audience, ...] = ()
    opened_at: AwareDatetime
    escalated_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


class NoticeState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"  # never sent: the shipment stopped being watched before it went


class Notice(BaseModel):
    """One message to one channel; the outbox delivers it at least once, normally once.

    `severity` and the destination are read with the notice (from its alert and shipment)
    when the store hands it out: the alert's severity as it is then (an escalation raises
    it), None for a notice of no alert (a digest); the destination is the customer's, None
    for a notice of no shipment.
    """

    id: int
    alert_id: int | None  # None for a digest
    event: str
    audience: Audience
    channel: str
    store: str
    title: str
    body: str
    state: NoticeState
    attempts: int
    next_attempt_at: AwareDatetime
    idempotency_key: str
    last_error: str | None = None
    sent_at: AwareDatetime | None = None
    shipment_id: int | None = None
    recipient: str | None = None
    severity: Severity | None = None
    destination_country: str | None = None
    destination_postal_code: str | None = None
