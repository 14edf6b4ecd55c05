"""What the loops hand the store to write, and the time format the store keeps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trackwatch.model import Alert, Audience, Finding, Shipment, TrackingResult


def ts(value: datetime | None) -> str | None:
    """UTC text that sorts like the instant it names (`2026-11-23T09:00:00.000000Z`; the
    year always has four digits, which strftime's %Y does not promise below 1000)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(value: str | None) -> datetime | None:
    if value is None:
        return None
    # fromisoformat reads the fixed format (a trailing Z included) several times faster
    # than strptime, which the store calls for every timestamp of every row.
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class DueTimes:
    """When the poll, rules and notice loops are next due (None: nothing waits), read
    together: what `next_poll_at`, `next_check_at` and `next_notice_at` say."""

    poll: datetime | None
    check: datetime | None
    notice: datetime | None


@dataclass(frozen=True)
class PollUpdate:
    """What polling one shipment returned; `note` is the carrier's remark beyond its scans
    (it does not know the number yet, scans of another parcel ignored), None for none."""

    shipment_id: int
    polled_at: datetime
    next_poll_at: datetime
    result: TrackingResult
    note: str | None = None
    # The carrier pushes too: a scan the push stored first may be read again here under
    # another place label (trackwatch.store.rescans).
    pushed: bool = False


@dataclass(frozen=True)
class PollFailure:
    """A poll that brought nothing usable for this shipment: asked again at `retry_at`."""

    shipment_id: int
    retry_at: datetime


def shipment_subject(shipment_id: int) -> str:
    """The subject of a store alert about one shipment (one the daemon set aside)."""
    return f"shipment {shipment_id}"


def order_numbers(order_id: str) -> list[str]:
    """The stored order ids a customer's `order_id` may mean: as typed (trimmed), and with or
    without the '#' shops print before it ("#1001" and "1001" are one order); none for
    nothing typed. A store lookup matches any of them, within one store."""
    typed = order_id.strip()
    bare = typed.removeprefix("#").strip()
    if not bare:
        return []
    return sorted({typed, bare, f"#{bare}"})


@dataclass(frozen=True)
class Unreadable:
    """A stored row the daemon cannot turn into a Shipment (or judge): it is set aside."""

    shipment_id: int
    store: str
    reason: str


@dataclass(frozen=True)
class Readout:
    """Shipments read for a loop, and the rows among them that could not be read."""

    shipments: list[Shipment]
    unreadable: list[Unreadable] = field(default_factory=list)


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
    judgement (`revision` unchanged); otherwise the next judgement plans again.
    """

    shipment_id: int
    check_at: datetime | None
    poll_by: datetime | None  # None with `stop`: polling stops
    revision: int = 0  # the shipment's revision the judgement saw
    deadline_at: datetime | None = None
    stop: str | None = None


@dataclass(frozen=True)
class CarrierTrouble:
    """A failing carrier as every daemon sees it: failing `since`, `failures` in a row (of
    which `repeats` of the same `kind`, an error class name), left alone `until`."""

    since: datetime
    failures: int
    until: datetime
    message: str
    kind: str
    repeats: int


@dataclass(frozen=True)
class CarrierRow:
    """One carrier's shared state: parked after a 429, and its trouble, if any."""

    carrier: str
    parked_until: datetime | None = None
    trouble: CarrierTrouble | None = None


@dataclass(frozen=True)
class FollowUp:
    """A word owed to a customer told their parcel was stuck (alert `alert_id`): `drafts`
    (the parcel moves again) go out, and the debt ends, only if that customer's notice of the
    alert really went out; none yet, the debt is kept for the next movement after `after`;
    `discharged`: this judgement tells the customer other news, which is that word."""

    shipment_id: int
    alert_id: int
    after: datetime
    drafts: tuple[NoticeDraft, ...] = ()
    discharged: bool = False


@dataclass
class Evaluation:
    """Everything one monitor pass decided, written in one transaction."""

    opens: list[AlertOpen] = field(default_factory=list)
    escalations: list[AlertEscalate] = field(default_factory=list)
    resolves: list[AlertResolve] = field(default_factory=list)
    schedules: list[Reschedule] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)

    def add(self, other: Evaluation) -> None:
        self.opens += other.opens
        self.escalations += other.escalations
        self.resolves += other.resolves
        self.schedules += other.schedules
        self.follow_ups += other.follow_ups


@dataclass(frozen=True)
class Applied:
    """What a judgement really changed: alerts opened, escalated and resolved (an alert
    already open for its episode, or resolved meanwhile, is left as it was)."""

    opened: list[AlertOpen] = field(default_factory=list)
    escalated: list[AlertEscalate] = field(default_factory=list)
    resolved: list[AlertResolve] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.opened or self.escalated or self.resolved)


@dataclass(frozen=True)
class StopWatching:
    """Stop watching a shipment until restarted by hand: `notices` are the staff notices of
    each open alert's resolution, by alert id, drafted by the caller (the store drafts
    nothing); an alert without any resolves silently."""

    shipment_id: int
    reason: str
    by: str  # who: "staff (cli)", "store (api)", "Shopify"
    notices: Mapping[int, tuple[NoticeDraft, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Stopped:
    """What stopping did. `already`: it was stopped before, and nothing changed."""

    shipment_id: int
    already: bool
    stopped: str  # as recorded: "by <who>: <reason>"
    resolved: tuple[int, ...] = ()  # alerts resolved
    cancelled: int = 0  # customer notices that will not go out
    told: int = 0  # staff notices of those resolutions


@dataclass(frozen=True)
class FulfillmentUpdate:
    """One delivery of a store's fulfillment (Shopify), applied at once.

    `source` names the fulfillment (None: the payload had no id); `updated_at` its version:
    a delivery older than one applied changes nothing. `shipments` are new numbers to watch,
    `listed` the numbers the fulfillment now names (empty when cancelled): a shipment of them
    that `by` stopped is watched again. `stops` end the shipments it no longer ships.
    """

    receipt: str  # source and delivery id: a delivery handled before changes nothing
    store: str
    by: str
    source: str | None
    updated_at: datetime | None
    shipments: tuple[Shipment, ...] = ()
    listed: frozenset[str] = frozenset()
    stops: tuple[StopWatching, ...] = ()
    gid: str | None = None  # the fulfillment's Admin API id, kept on its shipments


@dataclass(frozen=True)
class FulfillmentApplied:
    """What a fulfillment delivery changed; `stale` when a newer version was applied before
    (then nothing did)."""

    added: list[tuple[int, bool]] = field(default_factory=list)  # (id, created) per shipment
    stopped: list[Stopped] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    stale: bool = False


@dataclass(frozen=True)
class Figures:
    """The state of the work, for metrics and the service status line."""

    open_alerts: dict[str, int]  # by rule
    notices: dict[str, int]  # by state, every state present
    oldest_pending_seconds: float  # the oldest notice not yet sent; 0 when none
    polled: int  # shipments still polled
    # The same two by store, keyed (rule, store) and (state, store): only the pairs there are.
    open_alerts_by_store: dict[tuple[str, str], int] = field(default_factory=dict)
    notices_by_store: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls, alerts: Iterable[Any], notices: Iterable[Any],
        oldest_pending_seconds: float, polled: int, states: Iterable[str],
    ) -> Figures:  # fmt: skip
        """From rows (rule, store, count) of open alerts and (state, store, count) of
        notices; `states` are every notice state, each present in `notices` (0 when none)."""
        by_rule = {(str(r[0]), str(r[1])): int(r[2]) for r in alerts}
        by_state = {(str(r[0]), str(r[1])): int(r[2]) for r in notices}
        rules: dict[str, int] = {}
        for (rule, _), count in by_rule.items():
            rules[rule] = rules.get(rule, 0) + count
        totals = dict.fromkeys(states, 0)
        for (state, _), count in by_state.items():
            totals[state] = totals.get(state, 0) + count
        return cls(rules, totals, oldest_pending_seconds, polled, by_rule, by_state)


@dataclass(frozen=True)
class Purged:
    """Rows a retention batch or an erasure removed (on a dry run: would remove). `watched`
    and `held` count among `shipments`' customer's rows: still watched (stopped, then
    erased), and claimed by a running daemon right now (stopped but not erased: run again).
    `kept_empty`: SQLite rows emptied of personal data but kept, because deleting the newest
    row lets SQLite hand its id out again (an old report link would open a new parcel)."""

    shipments: int = 0
    events: int = 0
    alerts: int = 0
    notices: int = 0
    bodies: int = 0  # notice bodies blanked, rows kept
    receipts: int = 0  # webhook receipts, Shopify fulfillment versions, failed pushes
    calls: int = 0  # carrier call ledger rows
    watched: int = 0
    held: int = 0
    kept_empty: int = 0

    def __add__(self, other: Purged) -> Purged:
        return Purged(*(a + b for a, b in zip(self.counts().values(),
                                              other.counts().values(), strict=True)))  # fmt: skip

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @property
    def removed(self) -> int:
        """Rows deleted or blanked (what a batch did: less than its limit means done)."""
        return (self.shipments + self.events + self.alerts + self.notices + self.bodies
                + self.receipts + self.calls)  # fmt: skip


OPERATOR = "operator"  # a staff role that sees every store
STAFF = "staff"  # one store's staff


@dataclass(frozen=True)
class StaffAccount:
    """A console account: one store's staff (`store` set) or an operator (every store).
    `generation` grows with each new password, ending the sessions signed before it."""

    login: str
    role: str
    store: str | None
    password_hash: str
    generation: int = 0

    @property
    def stores(self) -> frozenset[str] | None:
        """The stores this account may see; None for every store."""
        return None if self.role == OPERATOR else frozenset({self.store or ""})


@dataclass(frozen=True)
class StaffAction:
    """What someone did in the console, and when (the audit trail)."""

    at: datetime
    staff: str
    store: str
    action: str
    shipment_id: int | None = None
    alert_id: int | None = None
    notice_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class AlertQuery:
    """Which open alerts the console lists. `stores` is the viewer's (None: every store);
    the others are the page's filters, each None for any; `offset` and `limit` pick a page
    of them (the console shows 100 at a time)."""

    stores: frozenset[str] | None
    store: str | None = None
    rule: str | None = None
    severity: str | None = None
    carrier: str | None = None
    include_snoozed: bool = False
    limit: int = 200
    offset: int = 0


@dataclass(frozen=True)
class AlertRow:
    """An open alert as the console lists it, with its parcel's numbers and its triage."""

    alert: Alert
    order_id: str | None
    carrier: str | None
    tracking_number: str | None
    assignee: str | None
    snoozed_until: datetime | None
