"""Every table as rows of plain Python values, for moving a database from one backend to the
other (`trackwatch migrate-store`): times as aware datetimes, flags as booleans, the rest as
stored. Each backend converts what its engine keeps differently (SQLite keeps times as text
and flags as integers)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

# In an order that keeps every reference valid while loading (alerts name shipments,
# notices name alerts). tests/test_schemas.py checks that this is every table, and that
# TIMES and FLAGS name exactly the columns each backend keeps as times and as flags.
TABLES = (
    "shipments",
    "events",
    "alerts",
    "notices",
    "meta",
    "carrier_calls",
    "webhook_receipts",
    "fulfillments",
    "carrier_state",
    "carrier_days",
    "staff",
    "staff_actions",
    "push_inbox",
    "push_subscriptions",
)
TIMES: Mapping[str, frozenset[str]] = {
    "shipments": frozenset({
        "shipped_at", "last_event_at", "eta", "last_polled_at", "next_poll_at", "check_at",
        "ordered_at", "promised_by", "missing_reported_at", "deadline_at", "stopped_at",
        "restarted_at", "set_aside_at", "follow_up_after", "created_at", "poll_lease",
        "judge_lease", "first_eta", "push_until",
    }),
    "events": frozenset({"occurred_at"}),
    "alerts": frozenset({"opened_at", "escalated_at", "resolved_at", "snoozed_until"}),
    "notices": frozenset({"next_attempt_at", "lease_until", "sent_at", "created_at"}),
    "meta": frozenset(),
    "carrier_calls": frozenset({"at"}),
    "webhook_receipts": frozenset({"received_at"}),
    "fulfillments": frozenset({"updated_at", "received_at"}),
    "carrier_state": frozenset({"parked_until", "since", "until"}),
    "carrier_days": frozenset({"day"}),
    "staff": frozenset({"created_at"}),
    "staff_actions": frozenset({"at"}),
    "push_inbox": frozenset({"received_at", "lease_until", "worked_at"}),
    "push_subscriptions": frozenset({"expires_at", "due_at", "last_push_at", "created_at",
                                     "updated_at"}),
}  # fmt: skip
FLAGS: Mapping[str, frozenset[str]] = {"shipments": frozenset({"dirty", "active"})}
# A copy is of a database no daemon runs on: claims held by a daemon mean nothing to the new
# one (the rows are simply due), and a notice being sent is sent again under its own key.
RELEASED: Mapping[str, Mapping[str, Any]] = {
    "shipments": {"poll_lease": None, "judge_lease": None},
    "push_inbox": {"lease_until": None},
}

Row = dict[str, Any]


class Loader(Protocol):
    async def __call__(self, table: str, rows: list[Row]) -> None: ...


class Tables(Protocol):
    """A backend's tables, read and written whole."""

    def table_rows(self, table: str, batch: int) -> AsyncIterator[list[Row]]:
        """The table's rows in batches, in the order they were written."""
        ...

    async def row_counts(self) -> dict[str, int]: ...

    def loading(self) -> AbstractAsyncContextManager[Loader]:
        """One transaction loading rows (ids kept): all of them land, or none."""
        ...
