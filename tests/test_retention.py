"""Retention and erasure on both backends: what is past retention goes with everything of
it, what anything still holds stays, notice bodies are blanked with their rows kept, one
customer's data is erased on request and nobody else's, and the daemon runs the pass at
start and daily on its injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.backends import execute
from tests.conftest import SettingsFactory, both_backends
from trackwatch.app import open_daemon, policies_fingerprint
from trackwatch.clock import FrozenClock
from trackwatch.config import RetentionSettings
from trackwatch.model import (
    Audience,
    Finding,
    Outcome,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.retention import purge
from trackwatch.store import Store, open_store
from trackwatch.store.records import (
    AlertOpen,
    AlertResolve,
    Evaluation,
    NoticeDraft,
    PollUpdate,
    Purged,
)

pytestmark = both_backends

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
DAY = timedelta(days=1)
DEFAULTS = RetentionSettings()


def parcel(number: str, email: str = "ann@example.com", store: str = "shop") -> Shipment:
    return Shipment(store=store, carrier="ups", tracking_number=number, order_id=number,
                    customer_email=email, shipped_at=NOW - 200 * DAY)  # fmt: skip


def told(email: str) -> NoticeDraft:
    return NoticeDraft("opened", Audience.CUSTOMER, "customer_email.0", "shop", "Delayed",
                       f"Dear {email}, your parcel is late", recipient=email)  # fmt: skip


STAFF = NoticeDraft("opened", Audience.STAFF, "staff_chat.0", "shop", "Stalled", "order 1")
FINDING = Finding(rule="stalled", episode="e1", severity=Severity.WARNING,
                  audiences=(Audience.STAFF, Audience.CUSTOMER), summary="s", action="a",
                  explanation={"k": "v"})  # fmt: skip


async def watch(store: Store, number: str, email: str = "ann@example.com",
                shop: str = "shop") -> int:  # fmt: skip
    """A shipment with a scan, an alert and its customer and staff notices (pending)."""
    sid = await store.add_shipment(parcel(number, email, shop), NOW - 200 * DAY)
    event = TrackingEvent(occurred_at=NOW - 190 * DAY, status=Status.IN_TRANSIT, code="I",
                          description="Arrived at facility")  # fmt: skip
    result = TrackingResult(tracking_number=number, outcome=Outcome.FOUND, events=[event],
                            status=Status.IN_TRANSIT)  # fmt: skip
    await store.apply_polls([PollUpdate(sid, NOW - 190 * DAY, NOW, result)])
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, FINDING, (told(email), STAFF))]),
                                 NOW - 190 * DAY)  # fmt: skip
    return sid


async def finish(store: Store, database: str, sid: int, days_ago: float,
                 resolve: bool = True, sent: bool = True) -> None:  # fmt: skip
    """Polling stopped `days_ago` (delivered), its alert resolved and notices sent."""
    if resolve:
        (alert,) = await store.alerts_for(sid)
        await store.apply_evaluation(
            Evaluation(resolves=[AlertResolve(alert.id, "auto", "delivered", ())]), NOW - 190 * DAY
        )
    if sent:
        await execute(database, "UPDATE notices SET state='sent', sent_at=? WHERE shipment_id=?",
                      NOW - 190 * DAY, sid)  # fmt: skip
    await execute(database, "UPDATE shipments SET stopped='delivered', stopped_at=?, dirty=?,"
                  " check_at=NULL, next_poll_at=NULL WHERE id=?", NOW - days_ago * DAY,
                  False, sid)  # fmt: skip


async def counts(database: str, sid: int) -> tuple[int, int, int, int]:
    """The shipment's rows: itself, its events, alerts and notices."""
    (row,) = await execute(
        database, "SELECT (SELECT COUNT(*) FROM shipments WHERE id=?), (SELECT COUNT(*) FROM"
        " events WHERE shipment_id=?), (SELECT COUNT(*) FROM alerts WHERE shipment_id=?),"
        " (SELECT COUNT(*) FROM notices WHERE shipment_id=?)", sid, sid, sid, sid,
    )  # fmt: skip
    return tuple(int(n) for n in row)  # type: ignore[return-value]


async def test_past_retention_goes_and_what_anything_holds_stays(
    any_store: Store, database: str
) -> None:
    store = any_store
    gone = await watch(store, "1")
    await finish(store, database, gone, 181)
    recent = await watch(store, "2")
    await finish(store, database, recent, 179)
    alerting = await watch(store, "3")
    await finish(store, database, alerting, 181, resolve=False)
    unsent = await watch(store, "4")
    await finish(store, database, unsent, 181, sent=False)
    claimed = await watch(store, "5")
    await finish(store, database, claimed, 181)
    await execute(database, "UPDATE shipments SET poll_lease=? WHERE id=?", NOW + DAY, claimed)
    due = await watch(store, "6")
    await finish(store, database, due, 181)
    await execute(database, "UPDATE shipments SET check_at=? WHERE id=?", NOW + DAY, due)
    watched = await watch(store, "7")  # still polled: never finished, the newest row
    done = await purge(store, DEFAULTS, NOW)
    assert (done.shipments, done.events, done.alerts, done.notices) == (1, 1, 1, 2)
    assert await counts(database, gone) == (0, 0, 0, 0)
    for kept in (recent, alerting, unsent, claimed, due, watched):
        assert await counts(database, kept) == (1, 1, 1, 2), kept
    again = await purge(store, DEFAULTS, NOW)
    assert again.removed == 0


async def test_sent_notice_bodies_are_blanked_and_their_rows_kept(
    any_store: Store, database: str
) -> None:
    store = any_store
    old, fresh, pending = [await watch(store, n) for n in "123"]
    for sid, days in ((old, 31), (fresh, 29), (pending, 40)):
        await execute(database, "UPDATE notices SET created_at=? WHERE shipment_id=?",
                      NOW - days * DAY, sid)  # fmt: skip
    await execute(database, "UPDATE notices SET state='sent' WHERE shipment_id IN (?, ?)",
                  old, fresh)  # fmt: skip
    done = await purge(store, DEFAULTS, NOW)
    assert done.bodies == 2 and done.notices == 0
    bodies = {(int(r[0]), r[1] == "") for r in await execute(
        database, "SELECT shipment_id, body FROM notices")}  # fmt: skip
    assert bodies == {(old, True), (fresh, False), (pending, False)}
    assert len(await store.notices()) == 6
    assert (await purge(store, DEFAULTS, NOW)).removed == 0


async def test_zero_days_keeps_forever(any_store: Store, database: str) -> None:
    sid = await watch(any_store, "1")
    await finish(any_store, database, sid, 4000)
    forever = RetentionSettings(notice_bodies_days=0, finished_days=0)
    assert (await purge(any_store, forever, NOW)).removed == 0
    assert await counts(database, sid) == (1, 1, 1, 2)


async def test_bookkeeping_goes_after_its_use(any_store: Store, database: str) -> None:
    for at in (NOW - 31 * DAY, NOW - DAY):
        await execute(database, "INSERT INTO webhook_receipts (key, received_at) VALUES (?, ?)",
                      f"k{at.day}", at)  # fmt: skip
        await execute(database, "INSERT INTO fulfillments (store, source, updated_at,"
                      " received_at) VALUES ('shop', ?, ?, ?)", f"s{at.day}", at, at)  # fmt: skip
    await execute(database, "INSERT INTO carrier_calls (carrier, at) VALUES ('ups', ?),"
                  " ('ups', ?)", NOW - 3 * DAY, NOW - timedelta(hours=1))  # fmt: skip
    today, old = NOW.replace(hour=0, minute=0, second=0, microsecond=0), NOW - 3 * DAY
    for day in (old, today):
        await execute(database, "INSERT INTO carrier_days (carrier, day, calls)"
                      " VALUES ('dhl', ?, 7)", day)  # fmt: skip
    assert len(await any_store.calls_since("ups", NOW - 4 * DAY)) == 2  # reading keeps all
    done = await purge(any_store, RetentionSettings(batch_rows=1), NOW)
    assert (done.receipts, done.calls) == (2, 1)
    assert len(await any_store.calls_since("ups", NOW - 4 * DAY)) == 1
    assert (await any_store.calls_on("dhl", old), await any_store.calls_on("dhl", today)) == (0, 7)
    assert (await purge(any_store, DEFAULTS, NOW)).removed == 0


async def test_a_failed_push_goes_with_the_receipts(any_store: Store, database: str) -> None:
    """A push the worker could not use is kept as failed, with why, for staff to look at;
    its body may name the recipient and their address, so it goes after RECEIPTS_KEPT
    (push review: failed pushes were kept for ever)."""
    for n, (state, worked) in enumerate([("failed", NOW - 31 * DAY), ("failed", NOW - DAY),
                                         ("new", None)]):  # fmt: skip
        await execute(database, "INSERT INTO push_inbox (carrier, digest, body, received_at,"
                      " state, worked_at) VALUES ('usps', ?, '{}', ?, ?, ?)",
                      f"d{n}", NOW - 40 * DAY, state, worked)  # fmt: skip
    done = await purge(any_store, RetentionSettings(batch_rows=1), NOW)
    assert done.receipts == 1
    left = await execute(database, "SELECT digest FROM push_inbox ORDER BY digest")
    assert [r[0] for r in left] == ["d1", "d2"]


async def test_a_batch_is_small_and_the_pass_goes_on_until_done(
    any_store: Store, database: str
) -> None:
    sids = [await watch(any_store, str(n)) for n in range(5)]
    for sid in sids:
        await finish(any_store, database, sid, 200)
    await watch(any_store, "newest")
    done = await purge(any_store, RetentionSettings(batch_rows=10), NOW)  # one a transaction
    assert done.shipments == 5
    assert [await counts(database, sid) for sid in sids] == [(0, 0, 0, 0)] * 5


async def test_forget_erases_one_customer_in_every_store_whatever_the_case(
    any_store: Store, database: str
) -> None:
    store = any_store
    transit = await watch(store, "1", "Ann@Example.com")
    finished = await watch(store, "2", "ann@example.com", "other")
    await finish(store, database, finished, 3)
    bob = await watch(store, "3", "bob@example.com")
    trial = await store.forget_customer(" ANN@example.COM ", None, NOW, dry_run=True)
    assert trial == Purged(shipments=2, events=2, alerts=2, notices=4, watched=1)
    assert await counts(database, transit) == (1, 1, 1, 2)  # a dry run changes nothing
    assert (await store.get_shipment(transit) or parcel("x")).active
    assert await store.forget_customer("ann@EXAMPLE.com", None, NOW) == trial
    assert await counts(database, transit) == await counts(database, finished) == (0, 0, 0, 0)
    assert await counts(database, bob) == (1, 1, 1, 2)
    assert await store.forget_customer("ann@example.com", None, NOW) == Purged()


async def test_forget_in_one_store_leaves_the_others(any_store: Store, database: str) -> None:
    here = await watch(any_store, "1", "ann@example.com", "shop")
    there = await watch(any_store, "2", "ann@example.com", "other")
    await watch(any_store, "3", "bob@example.com")
    done = await any_store.forget_customer("ann@example.com", "other", NOW)
    assert done.shipments == 1
    assert await counts(database, there) == (0, 0, 0, 0)
    assert await counts(database, here) == (1, 1, 1, 2)


async def test_forget_stops_a_claimed_shipment_and_erases_it_once_free(
    any_store: Store, database: str
) -> None:
    sid = await watch(any_store, "1")
    await watch(any_store, "2", "bob@example.com")
    await execute(
        database, "UPDATE shipments SET poll_lease=? WHERE id=?", NOW + timedelta(minutes=1), sid
    )
    held = await any_store.forget_customer("ann@example.com", None, NOW)
    assert (held.shipments, held.held, held.watched) == (0, 1, 1)
    shipment = await any_store.get_shipment(sid)
    assert shipment is not None and not shipment.active  # no daemon takes it again
    later = await any_store.forget_customer("ann@example.com", None, NOW + DAY)
    assert (later.shipments, later.held) == (1, 0)
    assert await counts(database, sid) == (0, 0, 0, 0)


async def test_forget_of_the_newest_row_leaves_no_trace_and_no_id_to_reuse(
    any_store: Store, database: str, backend: str
) -> None:
    await watch(any_store, "1", "bob@example.com")
    newest = await watch(any_store, "2")
    done = await any_store.forget_customer("ann@example.com", None, NOW)
    assert done.shipments + done.kept_empty == 1
    found = await execute(database, "SELECT COUNT(*) FROM shipments WHERE customer_email LIKE"
                          " '%ann%' OR tracking_number='2'")  # fmt: skip
    assert found == [(0,)]
    assert await execute(database, "SELECT COUNT(*) FROM notices WHERE body LIKE '%ann%'"
                         " OR recipient LIKE '%ann%'") == [(0,)]  # fmt: skip
    added = await any_store.add_shipment(parcel("3", "cy@example.com"), NOW)
    assert added > newest
    assert done.kept_empty == (1 if backend == "sqlite" else 0)


async def test_the_daemon_purges_at_start_and_then_daily(
    database: str, make_settings: SettingsFactory, clock: FrozenClock
) -> None:
    now, settings = clock.now(), make_settings()
    store = await open_store(database)
    try:
        # Judged under these settings already: the daemon does not mark every row for a
        # judgement again at start (a row due a judgement is not finished).
        await store.judge_all_again(policies_fingerprint(settings))
        first = await watch(store, "1")
        await finish(store, database, first, (NOW - now) / DAY + 181)
        second = await watch(store, "2")
        await finish(store, database, second, (NOW - now) / DAY + 179.5)
        await watch(store, "3")  # the newest, still watched
    finally:
        await store.close()
    async with open_daemon(settings, clock) as daemon:
        running = asyncio.create_task(daemon.run())
        await asyncio.wait_for(daemon.retention.ran.wait(), 30)
        assert (await counts(database, first))[0] == 0
        assert (await counts(database, second))[0] == 1
        daemon.retention.ran.clear()
        clock.advance(hours=23)
        await asyncio.wait_for(clock.someone_sleeping(), 30)
        assert not daemon.retention.ran.is_set() and (await counts(database, second))[0] == 1
        clock.advance(hours=1)
        await asyncio.wait_for(daemon.retention.ran.wait(), 30)
        assert (await counts(database, second))[0] == 0
        daemon.stop()
        await asyncio.wait_for(running, 30)
