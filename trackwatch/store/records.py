"""What the loops hand the store to write, and the time format the store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from trackwatch.model import Audience, Finding, TrackingResult

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def ts(value: datetime | None) -> str | None:
    """UTC text that sorts like the instant it names."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return value.astimezone(UTC).strftime(_FORMAT)


def parse_ts(value: str | None) -> datetime | None:
    if value is None:
        return None
    # fromisoformat reads the fixed format (a trailing Z included) several times faster
    # than strptime, which the store calls for every timestamp of every row.
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class PollUpdate:
    """What polling one shipment returned."""

    shipment_id: int
    polled_at: datetime
    next_poll_at: datetime
    result: TrackingResult


@dataclass(frozen=True)
class NoticeDraft:
    event: str  # opened, escalated, resolved
    audience: Audience
    channel: str
    store: str
    title: str
    body: str
    recipient: str | None = None  # a customer's address or phone; never logged
    not_before: datetime | None = None  # quiet hours: not sent earlier
    key: str | None = None  # idempotency key of a notice with no alert (a digest)


@dataclass(frozen=True)
class AlertOpen:
    shipment_id: int
    finding: Finding
    notices: tuple[NoticeDraft, ...]


@dataclass(frozen=True)
class StoreAlertOpen:
    """An alert about a store's `subject` (a failing channel), not a parcel: at most one is
    open per store, rule and subject."""

    store: str
    subject: str
    finding: Finding
    notices: tuple[NoticeDraft, ...]


@dataclass(frozen=True)
class AlertEscalate:
    """An open alert's next stage: new audiences told, or staff escalated to."""

    alert_id: int
    finding: Finding
    audiences: tuple[Audience, ...]
    escalated: bool
    notices: tuple[NoticeDraft, ...]


@dataclass(frozen=True)
class AlertResolve:
    alert_id: int
    resolved_by: str
    reason: str
    notices: tuple[NoticeDraft, ...]


@dataclass(frozen=True)
class Reschedule:
    """When to judge a shipment again and the scheduler's plan for its next poll.

    The plan replaces the stored poll time only if no poll or report landed since the
    judgement (`revision` unchanged); otherwise it can only pull the poll earlier.
    """

    shipment_id: int
    check_at: datetime | None
    poll_by: datetime | None  # None with `stop`: polling stops
    revision: int = 0  # the shipment's revision the judgement saw
    deadline_at: datetime | None = None
    stop: str | None = None


@dataclass
class Evaluation:
    """Everything one monitor pass decided, written in one transaction."""

    opens: list[AlertOpen] = field(default_factory=list)
    escalations: list[AlertEscalate] = field(default_factory=list)
    resolves: list[AlertResolve] = field(default_factory=list)
    schedules: list[Reschedule] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    """The state of the work, for metrics and the service status line."""

    open_alerts: dict[str, int]  # by rule
    notices: dict[str, int]  # by state, every state present
    oldest_pending_seconds: float  # the oldest notice not yet sent; 0 when none
    polled: int  # shipments still polled
