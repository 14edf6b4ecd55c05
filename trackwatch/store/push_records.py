"""What the push side (trackwatch.push) hands the store and reads back: pushes received and
worked, the subscriptions each carrier holds for our shipments, and what a push changed.

A push is stored as received (after its signature was checked) and worked later, so the
receiver answers the carrier fast and nothing is lost if the daemon stops in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from trackwatch.model import Status, TrackingEvent


@dataclass(frozen=True)
class InboxPush:
    """One push as received: the carrier's raw body (already verified) and its digest, by
    which a delivery received twice is stored once."""

    carrier: str
    body: str
    digest: str


@dataclass(frozen=True)
class StoredPush:
    id: int
    carrier: str
    body: str
    received_at: datetime
    attempts: int


@dataclass(frozen=True)
class PushDone:
    """A push worked: `error` says why it could not be (kept, not retried)."""

    push_id: int
    error: str | None = None


@dataclass(frozen=True)
class PushTarget:
    """A watched shipment a pushed number belongs to, with what merging needs of it:
    `revision` lets the write refuse a merge made on older data (a poll landed meanwhile)."""

    shipment_id: int
    tracking_number: str
    shipped_at: datetime
    revision: int
    events: tuple[TrackingEvent, ...]
    destination_country: str = "US"
    destination_postal_code: str = ""


@dataclass(frozen=True)
class PushUpdate:
    """What a push changes of one shipment: its new scans, the status over all its scans,
    and until when push covers it (polling eases off until then): from this push, as long
    as a parcel in its new status may go without one (an earlier, longer cover ends)."""

    shipment_id: int
    revision: int
    events: tuple[TrackingEvent, ...]
    status: Status
    last_event_at: datetime | None
    eta: datetime | None
    push_until: datetime | None  # None: no longer covered (its subscription ends)
    pushed_at: datetime


class SubState(StrEnum):
    """A subscription's state on our side. `pending`: to be made (or being made: `due_at`
    is then the claim's end); `validating`: made, the carrier's handshake awaited (DHL);
    `active`; `suspended`: the carrier stopped pushing (USPS), to be enabled again;
    `failed`: the carrier refused, tried again at `due_at`."""

    PENDING = "pending"
    VALIDATING = "validating"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FAILED = "failed"


LIVE = frozenset({SubState.VALIDATING, SubState.ACTIVE, SubState.SUSPENDED})


@dataclass(frozen=True)
class Subscription:
    """One shipment's subscription with one carrier. Several rows can share a carrier
    `subscription_id` (DHL subscribes up to 10 shipments at once). `secret` is what
    authenticates the carrier's pushes (USPS: the HMAC key; DHL: the token of the static
    header) and never leaves the database but to the carrier."""

    carrier: str
    shipment_id: int
    tracking_number: str
    state: SubState
    due_at: datetime | None = None
    subscription_id: str | None = None
    secret: str | None = None
    etag: str | None = None
    expires_at: datetime | None = None
    last_push_at: datetime | None = None
    error: str | None = None
    created_at: datetime | None = None  # as stored (read only)
    # Read from the shipment, not stored with the subscription:
    status: Status = Status.UNKNOWN
    finished: bool = False  # no longer watched, stopped, or delivered: unsubscribe
    last_event_at: datetime | None = None  # its latest scan, however it was learnt

    def missed_push(self) -> bool:
        """A scan newer than every push and than the subscription: learnt by a poll, so a
        push did not come (the carrier may have suspended the subscription)."""
        since = max(d for d in (self.last_push_at, self.created_at) if d is not None) \
            if self.last_push_at or self.created_at else None  # fmt: skip
        return self.last_event_at is not None and (since is None or self.last_event_at > since)

    def but(self, **changes: object) -> Subscription:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class SubscriptionSave:
    """Subscriptions written back after the carrier answered: `kept` are upserted, `ended`
    deleted; `cover` sets each shipment's push coverage (None: not covered any more)."""

    kept: list[Subscription] = field(default_factory=list)
    ended: list[Subscription] = field(default_factory=list)
    cover: dict[int, datetime | None] = field(default_factory=dict)
