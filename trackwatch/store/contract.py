"""What each part of the daemon needs of the store, cut by use case rather than by table: each
loop and each way in is typed against its own narrow protocol, and only `open_store` names a
backend. A judgement writes alerts, notices and the next poll together, so a protocol is a
unit of work, not a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from trackwatch.model import Alert, AlertState, Notice, NoticeState, Shipment, TrackingEvent
from trackwatch.store.lanes import LaneCounts, Period, Spread, Unpromised
from trackwatch.store.push_records import (
    InboxPush,
    PushDone,
    PushTarget,
    PushUpdate,
    StoredPush,
    Subscription,
    SubscriptionSave,
)
from trackwatch.store.records import (
    AlertQuery,
    AlertRow,
    Applied,
    CarrierRow,
    CarrierTrouble,
    DueTimes,
    Evaluation,
    Figures,
    FulfillmentApplied,
    FulfillmentUpdate,
    NoticeDraft,
    PollFailure,
    PollUpdate,
    Purged,
    Readout,
    StaffAccount,
    StaffAction,
    Stopped,
    StoreAlertOpen,
    Unreadable,
)
from trackwatch.store.tables import Tables
from trackwatch.store.versions import Upgraded


class SetsAside(Protocol):
    async def set_aside(
        self, rows: Sequence[tuple[Unreadable, StoreAlertOpen]], now: datetime
    ) -> list[Unreadable]:
        """Stop polling and judging rows the daemon cannot handle, each with its staff
        alert in the same transaction; returns the rows not set aside before."""
        ...


class StoreAlerts(Protocol):
    """Alerts about a store itself (a carrier down, a channel failing, a row set aside)."""

    async def open_store_alert(self, alarm: StoreAlertOpen, now: datetime) -> int | None: ...

    async def open_store_alerts(self, rule: str) -> dict[tuple[str, str], int]: ...

    async def resolve_store_alert(
        self, alert_id: int, reason: str, drafts: Sequence[NoticeDraft], now: datetime
    ) -> bool: ...


class PollQueue(SetsAside, Protocol):
    """The poll loop's: due shipments, what polling them brought, when to poll next."""

    async def due_shipments(self, now: datetime, limit: int) -> Readout: ...

    async def deadlines_ahead(
        self, carrier: str, now: datetime, until: datetime, store: str | None = None
    ) -> int: ...

    async def next_poll_at(self) -> datetime | None: ...

    async def apply_polls(self, updates: Iterable[PollUpdate]) -> None: ...

    async def poll_failed(self, failures: Sequence[PollFailure], note: str) -> None: ...

    async def reschedule_polls(
        self, shipment_ids: Sequence[int], next_poll_at: datetime
    ) -> None: ...

    async def release_polls(self, shipment_ids: Sequence[int]) -> None:
        """Give back claimed shipments this daemon did not poll (it is stopping)."""
        ...


class JudgeQueue(SetsAside, Protocol):
    """The rules loop's: shipments to judge, their history, a judgement applied at once."""

    async def shipments_to_check(self, now: datetime, limit: int) -> Readout: ...

    async def next_check_at(self) -> datetime | None: ...

    async def judge_all_again(self, policies: str) -> int: ...

    async def events_for(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]: ...

    async def open_alerts(self, shipment_ids: Sequence[int]) -> dict[int, list[Alert]]: ...

    async def last_customer_notices(self, shipment_ids: Sequence[int]) -> dict[int, datetime]: ...

    async def apply_evaluation(self, evaluation: Evaluation, now: datetime) -> Applied: ...


class NoticeQueue(StoreAlerts, Protocol):
    """The outbox's: notices claimed with a lease, then sent, deferred, failed or dead."""

    async def claim_notices(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Notice]: ...

    async def mark_sent(self, notice_ids: Sequence[int], now: datetime) -> None: ...

    async def mark_deferred(self, notice_id: int, until: datetime) -> None: ...

    async def mark_failed(
        self, notice_id: int, error: str, now: datetime, retry_at: datetime,
        alarm: StoreAlertOpen | None = None,
    ) -> None: ...  # fmt: skip

    async def next_notice_at(self) -> datetime | None: ...


class LoopsDue(Protocol):
    """A stepped daemon's (trackwatch.sim.stepping): when its loops are next due."""

    async def next_due_times(self) -> DueTimes:
        """`next_poll_at`, `next_check_at` and `next_notice_at` in one reading."""
        ...


class DigestSource(Protocol):
    """The daily digest's: a store's open alerts in, one notice per channel out."""

    async def open_alerts_of_store(self, store: str | None) -> list[tuple[Alert, str | None]]: ...

    async def enqueue(self, drafts: Sequence[NoticeDraft], now: datetime) -> None: ...


class CallLedger(Protocol):
    """Every carrier call, counted and written before it leaves (quota.Quota)."""

    async def take(
        self, carrier: str, at: datetime, limit: int, since: datetime, daily: bool = False
    ) -> bool:
        """Record a call at `at` unless `limit` calls were made since `since`, atomically
        for every daemon on the database; True when taken. `daily`: `since` starts a fixed
        day (00:00 GMT) whose calls are counted as taken, not counted again each time."""
        ...

    async def calls_on(self, carrier: str, day: datetime) -> int:
        """The calls taken in the fixed day starting at `day` (a daily quota's)."""
        ...

    async def take_day(self, carrier: str, at: datetime, calls: int, limit: int,
                       day: datetime) -> int:  # fmt: skip
        """Record up to `calls` calls at `at` in the fixed day starting at `day`, never past
        `limit` for the day, atomically for every daemon: how many were taken (a pass's
        calls taken in one transaction, not one each)."""
        ...

    async def give_back(self, carrier: str, at: datetime, calls: int, day: datetime) -> None:
        """Forget `calls` of the calls take_day recorded at `at` and never made."""
        ...

    async def calls_since(self, carrier: str, since: datetime) -> list[datetime]: ...


class CarrierStates(Protocol):
    """What every daemon must know of each carrier (carrier_state.CarrierState's copy)."""

    async def carrier_states(self) -> dict[str, CarrierRow]: ...

    async def park_carrier(self, carrier: str, until: datetime) -> None: ...

    async def save_trouble(self, carrier: str, trouble: CarrierTrouble | None) -> None: ...


class OrderReads(Protocol):
    """The customer's tracking page: one store's parcels of an order, and their scans. Never
    another store's: a page of one store must not show a parcel of another."""

    async def shipments_of_order(self, store: str, order_id: str) -> Readout: ...

    async def events_for(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]: ...


class Shipments(OrderReads, Protocol):
    """Ingest (CLI, CSV, API, Shopify) and what operators read and do by hand."""

    async def add_shipment(self, shipment: Shipment, now: datetime) -> int: ...

    async def add_shipments(
        self, shipments: Sequence[Shipment], now: datetime
    ) -> list[tuple[int, bool]]: ...

    async def watched(self, shipments: Sequence[Shipment]) -> list[int | None]:
        """The id of each shipment whose store, carrier and number are stored, else None
        (what `add_shipments` would leave as it is; `import --dry-run`)."""
        ...

    async def apply_fulfillment(
        self, update: FulfillmentUpdate, now: datetime
    ) -> FulfillmentApplied | None: ...

    async def shipments_of_fulfillment(
        self, store: str, source: str | None, numbers: Iterable[str]
    ) -> Readout: ...

    async def stop_watching(
        self, shipment_id: int, reason: str, by: str, now: datetime,
        notices: Mapping[int, tuple[NoticeDraft, ...]] | None = None,
    ) -> Stopped | None: ...  # fmt: skip

    async def get_shipment(self, shipment_id: int) -> Shipment | None: ...

    async def list_shipments(self, store: str | None = None, limit: int = 1000) -> Readout: ...

    async def restart_polling(self, shipment_id: int, now: datetime) -> bool: ...

    async def report_missing(
        self, shipment_id: int, reported_by: str, now: datetime
    ) -> datetime | None: ...

    async def resolve_by_hand(
        self, shipment_id: int, rule: str | None, note: str, now: datetime
    ) -> list[int]: ...

    async def events_for(self, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]: ...

    async def open_alerts(self, shipment_ids: Sequence[int]) -> dict[int, list[Alert]]: ...

    async def alerts_for(self, shipment_id: int) -> list[Alert]: ...

    async def alerts_of_store(
        self, store: str | None, state: AlertState | None, limit: int = 10_000
    ) -> list[tuple[Alert, str | None]]: ...

    async def open_alerts_of_store(self, store: str | None) -> list[tuple[Alert, str | None]]: ...

    async def notices(self, state: NoticeState | None = None) -> list[Notice]: ...


class Ops(Protocol):
    """What /metrics, /healthz, the status line and start-up read."""

    async def figures(self, now: datetime) -> Figures: ...

    async def check_writable(self, now: datetime) -> None: ...

    async def secret(self, name: str) -> bytes: ...

    async def destination_countries(self) -> list[str]: ...


class Retention(Protocol):
    """The daily retention pass's and `trackwatch forget`'s (trackwatch.retention): each
    call is one short transaction over at most `limit` rows of its main table."""

    async def blank_notice_bodies(self, before: datetime, limit: int) -> int:
        """Blank the bodies of notices created before `before` and done with (sent, dead,
        cancelled); the rows stay (idempotency keys, when customers were told)."""
        ...

    async def purge_finished(self, before: datetime, now: datetime, limit: int) -> Purged:
        """Delete shipments polling stopped for before `before` that nothing holds (no open
        alert, no notice to send, no deadline to judge, no claim), with everything of them."""
        ...

    async def purge_store_alerts(self, before: datetime, limit: int) -> Purged:
        """Delete store alerts resolved before `before` and digests sent before it."""
        ...

    async def purge_bookkeeping(self, now: datetime, limit: int) -> Purged:
        """Delete webhook receipts, fulfillment versions, failed pushes (their bodies may
        name a recipient) and carrier calls past their use."""
        ...

    async def forget_customer(
        self, email: str, store: str | None, now: datetime, dry_run: bool = False
    ) -> Purged:
        """Erase every shipment of `email` (any case; one store's, or every store's) with
        everything of them; `dry_run`: count only."""
        ...


class StaffAccounts(Protocol):
    """Console accounts (`trackwatch staff`, the sign-in page)."""

    async def add_staff(self, account: StaffAccount, now: datetime) -> bool:
        """False when the login is taken."""
        ...

    async def remove_staff(self, login: str) -> bool: ...

    async def set_staff_password(self, login: str, password_hash: str) -> bool:
        """A new password, ending every session signed with the old one."""
        ...

    async def staff_account(self, login: str) -> StaffAccount | None: ...


class Console(StaffAccounts, Protocol):
    """What the staff console reads and does beyond the operators' Shipments methods: every
    read here is filtered by the stores the viewer may see (None: every store)."""

    async def console_alerts(self, query: AlertQuery, now: datetime) -> list[AlertRow]:
        """Open alerts, most urgent then oldest first (snoozed ones only if asked): the
        query's page of them (`offset`, `limit`)."""
        ...

    async def count_console_alerts(self, query: AlertQuery, now: datetime) -> int:
        """How many open alerts the query finds on every page together."""
        ...

    async def find_shipments(
        self, stores: frozenset[str] | None, text: str, limit: int = 50
    ) -> list[Shipment]:
        """Shipments whose order id or tracking number is `text`, or whose customer's
        address is it (any case)."""
        ...

    async def notices_of_shipment(self, shipment_id: int) -> list[Notice]: ...

    async def alert_triage(self, shipment_id: int) -> dict[int, tuple[str | None, datetime | None]]:
        """alert id -> (assignee, snoozed until) of a shipment's alerts."""
        ...

    async def assign_alert(self, alert_id: int, assignee: str | None) -> bool: ...

    async def snooze_alert(self, alert_id: int, until: datetime | None) -> bool: ...

    async def resend_notice(self, notice_id: int, now: datetime) -> bool:
        """A dead-lettered notice back in the outbox, due now; False unless it was dead."""
        ...

    async def get_alert(self, alert_id: int) -> Alert | None: ...

    async def get_notice(self, notice_id: int) -> Notice | None: ...

    async def record_action(self, action: StaffAction) -> None: ...

    async def staff_actions(self, shipment_id: int) -> list[StaffAction]: ...


class ReportSource(Protocol):
    """The carriers' report card's (trackwatch.reportcard): counted per store, carrier and
    destination country in the database (trackwatch.store.lanes)."""

    async def lane_counts(self, period: Period) -> list[LaneCounts]: ...

    async def lane_spreads(self, period: Period) -> list[Spread]:
        """Histograms of transit time and of how fast the customer was told."""
        ...

    async def unpromised_deliveries(self, period: Period) -> list[Unpromised]: ...


class PushStore(Protocol):
    """Carrier push (trackwatch.push): the inbox of pushes received, and the subscriptions
    held with each carrier for our shipments."""

    async def receive_push(self, push: InboxPush, now: datetime) -> int | None:
        """Keep a verified push to be worked; None when the same body was received before."""
        ...

    async def claim_pushes(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[StoredPush]: ...

    async def finish_pushes(self, done: Sequence[PushDone], now: datetime) -> None:
        """Pushes worked: merged ones are deleted (their scans are stored; a late copy of
        one is merged again, changing nothing), failed ones kept with why."""
        ...

    async def next_push_at(self) -> datetime | None: ...

    async def push_targets(
        self, carrier: str, numbers: Sequence[str]
    ) -> dict[str, list[PushTarget]]:
        """The watched shipments of `carrier` with each number, with their scans."""
        ...

    async def apply_pushes(self, updates: Sequence[PushUpdate]) -> set[int]:
        """Merge pushes into shipments; returns the ids whose revision moved on since the
        merge was made (nothing written for them: merge again)."""
        ...

    async def claim_new_subscriptions(
        self, carrier: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Subscription]:
        """Shipments of `carrier` added since the last call that are worth a subscription,
        each claimed as a pending one until `lease_until`."""
        ...

    async def claim_due_subscriptions(
        self, carrier: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[Subscription]: ...

    async def save_subscriptions(self, save: SubscriptionSave, now: datetime) -> None: ...

    async def subscriptions_by_id(self, carrier: str, subscription_id: str) -> list[Subscription]:
        """The rows of one carrier subscription (DHL's cover up to 10 shipments)."""
        ...

    async def next_subscription_at(self, carrier: str) -> datetime | None: ...


class Store(
    PollQueue,
    PushStore,
    JudgeQueue,
    NoticeQueue,
    LoopsDue,
    DigestSource,
    CallLedger,
    CarrierStates,
    Shipments,
    Ops,
    Retention,
    Console,
    ReportSource,
    Tables,
    Protocol,
):
    """A whole backend: every use case over one database."""

    instance: str
    upgraded: Upgraded | None  # what opening it with `upgrade` did (trackwatch.store.versions)

    async def close(self) -> None: ...

    async def all_alerts(self) -> list[Alert]:
        """Every alert (the simulator's and the tests' view)."""
        ...

    async def first_notice_sent(self) -> dict[int, datetime]:
        """alert id -> when its first notice went out (the simulator's scoring)."""
        ...
