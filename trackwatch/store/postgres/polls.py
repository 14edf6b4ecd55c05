"""The poll queue: due shipments, what polling them brought, and when to poll them next."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from trackwatch.model import Outcome
from trackwatch.store.postgres.base import Conn, PostgresBase
from trackwatch.store.postgres.rows import as_columns, lock_in_id_order, readout
from trackwatch.store.records import PollFailure, PollUpdate, Readout
from trackwatch.store.rescans import StoredScan, replaced
from trackwatch.store.rows import LEASE, nearest_deadline_first

# A poll's answer, for a batch of shipments at once: counters, what the carrier said, and
# the next poll of a shipment still watched. The latest scan only ever moves forward.
_POLLED = (
    "UPDATE shipments s SET polls=s.polls+1, last_polled_at=u.polled, poll_lease=NULL,"
    " next_poll_at=CASE WHEN s.active THEN u.next END, dirty=s.active,"
    " revision=s.revision+1, misses=0, carrier_note=u.note,"
    " status=COALESCE(u.status, s.status), eta=COALESCE(u.eta, s.eta),"
    " first_eta=COALESCE(s.first_eta, u.eta),"
    " last_event_at=CASE WHEN u.last IS NOT NULL AND"
    " (s.last_event_at IS NULL OR u.last > s.last_event_at) THEN u.last ELSE s.last_event_at END"
    " FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[],"
    " $6::timestamptz[], $7::timestamptz[]) AS u(id, polled, next, note, status, eta, last)"
    " WHERE s.id=u.id AND s.set_aside IS NULL"
)
# The next poll: the earliest of the rows nobody holds (the first one in next_poll_at's
# index), and of the few rows held, each when its hold ends if that is later.
NEXT_POLL = (
    "SELECT MIN(at) FROM ((SELECT next_poll_at AS at FROM shipments WHERE active"
    " AND next_poll_at IS NOT NULL AND poll_lease IS NULL ORDER BY next_poll_at LIMIT 1)"
    " UNION ALL (SELECT CASE WHEN poll_lease>next_poll_at THEN poll_lease ELSE next_poll_at END"
    " FROM shipments WHERE poll_lease IS NOT NULL AND active)) AS due"
)
_EVENTS = (
    "INSERT INTO events (shipment_id, occurred_at, code, place, data)"
    " SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])"
    # A scan stored before (a push brought it first, with fewer details: UPS's does not say
    # where the parcel was left) takes the poll's fuller reading of it.
    " ON CONFLICT (shipment_id, code, occurred_at, place) DO UPDATE SET data=excluded.data"
    " WHERE events.data <> excluded.data"
)


def _polled(update: PollUpdate) -> tuple[Any, ...]:
    result = update.result
    found = result.outcome is Outcome.FOUND
    return (update.shipment_id, update.polled_at, update.next_poll_at, update.note,
            result.status.value if found else None, result.eta if found else None,
            result.last_event_at if found else None)  # fmt: skip


class PostgresPolls(PostgresBase):
    async def due_shipments(self, now: datetime, limit: int, lease: timedelta = LEASE) -> Readout:
        """Claim the shipments due a poll, the nearest deadline first (those without one
        last), for `lease`: rows another daemon is claiming are skipped, not waited for, and
        none is taken again until this one writes what it did (or the lease runs out). The
        rows are picked once, in a materialized CTE: a `WHERE id IN (… SKIP LOCKED)`
        subquery may be run again by the plan and pick other rows."""
        rows = await self._pool.fetch(
            "WITH picked AS MATERIALIZED (SELECT id FROM shipments"
            " WHERE active AND next_poll_at<=$2 AND set_aside IS NULL"
            " AND (poll_lease IS NULL OR poll_lease<=$2)"
            " ORDER BY deadline_at NULLS LAST, next_poll_at, id LIMIT $3"
            " FOR UPDATE SKIP LOCKED)"
            " UPDATE shipments s SET poll_lease=$1 FROM picked WHERE s.id=picked.id RETURNING s.*",
            now + lease, now, limit,
        )  # fmt: skip
        found = readout(rows)
        found.shipments.sort(key=nearest_deadline_first)
        return found

    async def release_polls(self, shipment_ids: Sequence[int]) -> None:
        """Give back claimed shipments not polled (the daemon is stopping): due as they were."""
        async with self._tx() as c:
            # An UPDATE of many rows locks them in the order it finds them: lock in id order
            # first, as every write of several shipments does (see apply_polls).
            await c.execute(lock_in_id_order(), list(shipment_ids))
            await c.execute("UPDATE shipments SET poll_lease=NULL WHERE id = ANY($1::bigint[])",
                            list(shipment_ids))  # fmt: skip

    async def deadlines_ahead(
        self, carrier: str, now: datetime, until: datetime, store: str | None = None
    ) -> int:
        """How many of a carrier's shipments (one store's, for a store's own account) not
        yet due a poll have a deadline to verify in (now, until]: the calls a quota must keep
        for them."""
        count = await self._pool.fetchval(
            "SELECT COUNT(*) FROM shipments WHERE carrier=$1 AND active AND stopped IS NULL"
            " AND deadline_at>$2 AND deadline_at<=$3 AND next_poll_at>$2"
            " AND (store=$4 OR $4::text IS NULL)",
            carrier, now, until, store,
        )  # fmt: skip
        return int(count or 0)

    async def next_poll_at(self) -> datetime | None:
        """When the next poll falls due; a shipment another daemon holds, when its lease
        runs out at the earliest."""
        found: datetime | None = await self._pool.fetchval(NEXT_POLL)
        return found

    async def apply_polls(self, updates: Iterable[PollUpdate]) -> None:
        """Each shipment's answer, in three statements for the whole batch. A shipment
        answered twice in one batch counts both (each update applies in turn)."""
        updates = sorted(updates, key=lambda u: u.shipment_id)
        # One row per key (a shipment answered twice in one batch): an upsert may touch a row
        # once per statement.
        events = list({
            (u.shipment_id, e.occurred_at, e.code, e.place.label()):
                (u.shipment_id, e.occurred_at, e.code, e.place.label(), e.model_dump_json())
            for u in updates if u.result.outcome is Outcome.FOUND for e in u.result.events
        }.values())  # fmt: skip
        # An UPDATE … FROM takes one row per shipment: the k-th update of a shipment goes in
        # round k, so a shipment answered twice in one batch counts both, in turn.
        rounds: list[list[PollUpdate]] = []
        seen: Counter[int] = Counter()
        for update in updates:
            turn = seen[update.shipment_id]
            seen[update.shipment_id] += 1
            if turn == len(rounds):
                rounds.append([])
            rounds[turn].append(update)
        pushed = [u.shipment_id for u in updates if u.pushed and u.result.events]
        async with self._tx() as c:
            await c.execute(lock_in_id_order(), [u.shipment_id for u in updates])
            if pushed:
                await _drop_rescans(c, pushed, events)
            if events:
                await c.execute(_EVENTS, *as_columns(events, 5))
            for batch in rounds:
                await c.execute(_POLLED, *as_columns([_polled(u) for u in batch], 7))

    async def poll_failed(self, failures: Sequence[PollFailure], note: str) -> None:
        """Polls that brought nothing usable: each shipment counts one more miss, keeps the
        reason, and is asked again at its `retry_at` (its data stays as it was, so no rule
        takes the failed poll for fresh news)."""
        async with self._tx() as c:
            await c.executemany(
                "UPDATE shipments SET misses=misses+1, carrier_note=$1, next_poll_at=$2,"
                " poll_lease=NULL"
                " WHERE id=$3 AND next_poll_at IS NOT NULL",
                [
                    (note, f.retry_at, f.shipment_id)
                    for f in sorted(failures, key=lambda f: f.shipment_id)
                ],
            )

    async def reschedule_polls(self, shipment_ids: Sequence[int], next_poll_at: datetime) -> None:
        async with self._tx() as c:
            await c.execute(lock_in_id_order(), list(shipment_ids))  # see release_polls
            await c.execute(
                "UPDATE shipments SET next_poll_at=$1, poll_lease=NULL WHERE id = ANY($2::bigint[])"
                " AND next_poll_at IS NOT NULL",
                next_poll_at, list(shipment_ids),
            )  # fmt: skip


async def _drop_rescans(c: Conn, shipment_ids: list[int], events: list[tuple[Any, ...]]) -> None:
    rows = await c.fetch("SELECT id, shipment_id, code, occurred_at, place, data FROM events"
                         " WHERE shipment_id = ANY($1::bigint[])", shipment_ids)  # fmt: skip
    gone = replaced([StoredScan(*row) for row in rows], events)
    if gone:
        await c.execute("DELETE FROM events WHERE id = ANY($1::bigint[])", gone)
