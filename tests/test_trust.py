"""The daemon keeps working, and keeps its word, whatever a crash, a carrier or a bad row does:
a first poll is never moved later by a judgement, an answer reaches only the shipment it
belongs to, a failing carrier is probed instead of hammered, and a row that cannot be read
or judged is set aside while everything else goes on. The real daemon against the sandbox
carriers on 127.0.0.1, on a FrozenClock, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from aiohttp import web

from carriers import Query
from tests.backends import UNREADABLE, corrupt, execute
from tests.conftest import ALWAYS_STAFFED, FIXTURES, SettingsFactory, both_backends, run_on_clock
from tests.rulekit import ev
from tests.test_end_to_end import CHICAGO, NUMBER, NYC, at, run_until, script
from tests.test_stops import run_to
from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import Audience, Outcome, Shipment, Status, TrackingEvent, TrackingResult
from trackwatch.sandbox.local import serve_locally
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store import PostgresStore, SqliteStore, open_store
from trackwatch.store.records import NoticeDraft, PollUpdate

pytestmark = both_backends
FEDEX = "738488882438"


def shipment(number: str = NUMBER, carrier: str = "ups", store: str = "shop",
             shipped: datetime | None = None, order: str = "A1") -> Shipment:  # fmt: skip
    return Shipment(store=store, carrier=carrier, tracking_number=number, order_id=order,
                    customer_email="c@example.com", destination_postal_code="10001",
                    shipped_at=shipped or at(23, 9))  # fmt: skip


@pytest.fixture
async def daemon(make_settings: SettingsFactory, clock: FrozenClock) -> AsyncIterator[Daemon]:
    async with open_daemon(make_settings(), clock) as running:
        yield running


async def test_a_judgement_before_the_first_poll_leaves_it_due_now(
    world: World, clock: FrozenClock, daemon: Daemon
) -> None:
    """After a crash the rules loop may judge a new shipment before the poll loop asks its
    carrier: the first poll must stay due now, not move to the evening's routine slot."""
    script(world, (at(23, 9), "label"), (at(23, 18), "picked_up"))
    clock.set(at(23, 21))  # after UPS's working day: the routine slot is tomorrow 20:05
    sid = await daemon.store.add_shipment(shipment(), clock.now())
    await daemon.monitor.run_once()
    judged = await daemon.store.get_shipment(sid)
    assert judged is not None and judged.next_poll_at is not None
    assert judged.next_poll_at <= clock.now()
    assert await daemon.poller.poll_due() == 1


async def test_a_number_watched_twice_gets_each_shipment_its_own_parcel(
    database: str, clock: FrozenClock, world: World, sandbox: SandboxServer, sink: HttpSink
) -> None:
    """One FedEx number, reused: two stores watch it, one for the parcel delivered weeks ago,
    one for today's, waiting at a FedEx counter. Each must get its own answer; before, both
    got the answer picked for the last query's ship date, and a customer whose parcel was at
    the counter was told it had been delivered."""
    world.add(Parcel("fedex", FEDEX, [Milestone(at(2, 9), "label", CHICAGO),
                                      Milestone(at(3, 12), "delivered", NYC)], NYC))  # fmt: skip
    world.add(Parcel("fedex", FEDEX, [Milestone(at(20, 9), "label", CHICAGO),
                                      Milestone(at(20, 18), "picked_up", CHICAGO),
                                      Milestone(at(22, 10), "access_point", NYC)], NYC))  # fmt: skip
    clock.set(at(23, 9))
    async with open_daemon(two_stores(database, sandbox, sink), clock) as daemon:
        old = await daemon.store.add_shipment(
            shipment(FEDEX, "fedex", "a", at(2, 9), "OLD"), clock.now()
        )
        new = await daemon.store.add_shipment(
            shipment(FEDEX, "fedex", "b", at(20, 9), "NEW"), clock.now()
        )
        assert await daemon.poller.poll_due() == 2
        assert world.calls["fedex:track"] == 2  # never one number twice in a call
        delivered, waiting = [await daemon.store.get_shipment(i) for i in (old, new)]
        assert delivered is not None and delivered.status is Status.DELIVERED
        assert waiting is not None and waiting.status is Status.AVAILABLE_FOR_PICKUP


def two_stores(database: str, sandbox: SandboxServer, sink: HttpSink) -> Settings:
    carriers = {name: {"enabled": name == "fedex", "base_url": sandbox.base_url,
                       "client_id": "id", "client_secret": "secret", "api_key": "key",
                       "max_inline_wait_seconds": 0}
                for name in ("usps", "ups", "fedex", "dhl")}  # fmt: skip
    stores = {s: {"name": s, "policy": {"staff": ALWAYS_STAFFED},
                  "channels": {"staff_chat": [sink.url(s)]}} for s in ("a", "b")}  # fmt: skip
    return build_settings({"daemon": {"database": database, "http_port": 0},
                           "carriers": carriers, "stores": stores})  # fmt: skip


async def test_a_corrupt_row_is_set_aside_and_the_daemon_goes_on(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, sink: HttpSink,
    caplog: pytest.LogCaptureFixture, backend: str,
) -> None:  # fmt: skip
    script(world, (at(23, 9), "label"), (at(23, 18), "picked_up"), (at(24, 8), "damaged"))
    settings = make_settings()
    async with open_daemon(settings, clock) as daemon:
        good = await daemon.store.add_shipment(shipment(), clock.now())
        bad = await daemon.store.add_shipment(shipment("1Z879E930346834440", order="B2"),
                                              clock.now())  # fmt: skip
        judged_bad = await daemon.store.add_shipment(
            shipment("1Z410E7W0392751591", order="C3"), clock.now()
        )
        await corrupt(settings.daemon.database, bad, **UNREADABLE[backend])
        await corrupt(settings.daemon.database, judged_bad, status="teleported")
        await run_until(daemon, clock, at(24, 20))
        alerts = await daemon.store.all_alerts()
        ok = await daemon.store.get_shipment(good)
        assert ok is not None and ok.status is Status.EXCEPTION  # the good one carried on
        assert {(a.rule, a.subject) for a in alerts} == {
            ("exceptions", ""), ("shipment_set_aside", f"shipment {bad}"),
            ("shipment_set_aside", f"shipment {judged_bad}")}  # fmt: skip
        listed = await daemon.store.list_shipments()
        assert {u.shipment_id for u in listed.unreadable} == {bad, judged_bad}
        await run_until(daemon, clock, at(26, 20))
    rows = await execute(settings.daemon.database, "SELECT next_poll_at, check_at, set_aside"
                         " FROM shipments WHERE id IN (?, ?)", bad, judged_bad)  # fmt: skip
    assert [row[:2] for row in rows] == [(None, None)] * 2  # neither polled nor judged
    assert all(row[2] for row in rows)
    titles = sorted(r.body["title"] for r in sink.received)
    assert f"[Test Shop] Shipment {bad} is set aside: it could not be read" in titles
    assert sum("set aside" in r.getMessage() for r in caplog.records) == 2  # logged once each


async def test_a_row_that_breaks_a_rule_is_set_aside_the_others_are_judged(
    world: World, clock: FrozenClock, daemon: Daemon
) -> None:
    script(world, (at(23, 9), "label"), (at(23, 18), "picked_up"), (at(24, 8), "damaged"))
    good = await daemon.store.add_shipment(shipment(), clock.now())
    # Stored before ingest refused such dates: business-day arithmetic overflows on it.
    far = await daemon.store.add_shipment(
        shipment("1Z879E930346834440", shipped=datetime(9999, 12, 31, 12, tzinfo=NYC_ZONE)),
        clock.now(),
    )
    await run_until(daemon, clock, at(24, 20))
    alerts = await daemon.store.all_alerts()
    assert (good, "exceptions") in {(a.shipment_id, a.rule) for a in alerts}
    (aside,) = [a for a in alerts if a.rule == "shipment_set_aside"]
    assert aside.summary == f"Shipment {far} is set aside: it could not be judged"
    stored = await daemon.store.get_shipment(far)
    assert stored is not None and stored.set_aside and "could not" not in stored.set_aside
    assert stored.next_poll_at is None
    assert await daemon.store.restart_polling(far, clock.now())  # staff take it back
    back = await daemon.store.get_shipment(far)
    assert back is not None and back.set_aside is None and back.next_poll_at == clock.now()


NYC_ZONE = at(1, 0).tzinfo


async def test_a_failing_carrier_is_probed_with_doubling_waits_and_its_quota_kept(
    world: World, clock: FrozenClock, make_settings: SettingsFactory
) -> None:
    """During an outage every call used to be retried in bursts at a fixed interval: UPS's
    40-an-hour quota was gone in minutes. Now: one probe per back-off step, no quick
    retries of a probe, and the quota is there when the carrier comes back."""
    settings = make_settings(carriers={"ups": {"quota_calls": 40, "quota_window": "hour",
                                               "max_inline_wait_seconds": 30}})  # fmt: skip
    async with open_daemon(settings, clock) as daemon:
        for i, number in enumerate(("1Z5R89390357567127", "1Z879E930346834440",
                                    "1Z410E7W0392751591")):  # fmt: skip
            await daemon.store.add_shipment(shipment(number, order=f"O{i}"), clock.now())
        world.inject("ups", *["503"] * 400)
        passes: list[tuple[datetime, int]] = []  # when a pass called UPS, and how often
        while clock.now() < at(24, 4):
            before = world.calls["ups:track"]
            start = clock.now()
            await run_on_clock(clock, daemon.poller.poll_due(), timedelta(seconds=1))
            if (made := world.calls["ups:track"] - before) > 0:
                passes.append((start, made))
            clock.set(start + timedelta(minutes=1))
        gaps = [round((b[0] - a[0]).total_seconds() / 60) for a, b in pairwise(passes)]
        # The first wait runs from the failure, a few seconds of quick retries after 00:00.
        assert gaps[0] in (15, 16) and gaps[1:4] == [30, 60, 60]
        # A probe is one tracking call, never retried at once (and a token request when the
        # token expires).
        assert all(made == 1 for _, made in passes[1:])
        quota = daemon.poller._quotas["ups"]
        assert (await quota.spent(clock.now())).remaining >= 38  # one call an hour, two at most
        world.faults["ups"].clear()
        clock.advance(hours=1)
        assert await daemon.poller.poll_due() == 3  # back: the probe, then the rest
        assert "ups" not in daemon.poller.health.failing


@pytest.mark.parametrize("fault", ["503", "malformed"])  # malformed: a body cut short
async def test_later_batches_wait_when_the_first_call_fails(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, fault: str
) -> None:
    """FedEx takes 30 numbers a call: 31 due shipments are two calls. When the first fails,
    the second is not sent; both wait for the probe. An answer that is not JSON at all is
    about no number in particular: the carrier backs off as a whole, as for a 503."""
    settings = make_settings(carriers={"fedex": {"max_in_flight": 1}})
    async with open_daemon(settings, clock) as daemon:
        for i in range(31):
            await daemon.store.add_shipment(shipment(f"7384888{i:05d}", "fedex", order=f"F{i}"),
                                            clock.now())  # fmt: skip
        world.inject("fedex", *[fault] * 5)
        await daemon.poller.poll_due()
        assert world.calls["fedex:track"] == 1
        assert (await daemon.store.due_shipments(clock.now(), 100)).shipments == []
        clock.advance(minutes=14)
        assert await daemon.poller.poll_due() == 0  # all wait for the probe
        clock.advance(minutes=1)
        assert await daemon.poller.poll_due() == 31
        assert world.calls["fedex:track"] == 2  # the probe failed: the rest wait again


async def test_an_answer_without_the_number_counts_as_no_news_and_is_judged(
    tmp_path: Path, clock: FrozenClock, make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """FedEx answered with an entry keyed by another number (its published capture, asked
    about ours). The carrier answered and said nothing of ours: as good as "no information
    yet". It used to be asked again every 15 minutes forever, with a warning each time, and
    no rule ever judged it; now it is polled daily like any parcel not yet scanned, the
    reason is on the shipment, and the not-picked-up rule tells staff in time."""
    published = json.loads((FIXTURES / "fedex" /
                            "fedex-track-delivered-mixed-timestamp-formats.json").read_text())  # fmt: skip
    asked = "986578788855"
    assert asked not in json.dumps(published)

    async def token(_: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "token_type": "bearer",
                                  "expires_in": 3599, "scope": "CXS-TP"})  # fmt: skip

    async def track(_: web.Request) -> web.Response:
        return web.json_response(published)

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    app.router.add_post("/track/v1/trackingnumbers", track)
    runner, port = await serve_locally(app)
    try:
        settings = make_settings(carriers={"fedex": {"base_url": f"http://127.0.0.1:{port}"}})
        async with open_daemon(settings, clock) as daemon:
            sid = await daemon.store.add_shipment(shipment(asked, "fedex"), clock.now())
            await run_to(daemon, clock, at(26, 12))
            stored = await daemon.store.get_shipment(sid)
            alerts = await daemon.store.all_alerts()
    finally:
        await runner.cleanup()
    assert stored is not None and stored.polls <= 6  # 3.5 days: daily, and before a deadline
    assert stored.carrier_note == "FedEx's answer did not include this number"
    (alert,) = alerts
    assert alert.rule == "not_picked_up" and stored.carrier_note in alert.explanation["label"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_carrier_that_is_not_enabled_is_told_once_and_checked_daily(
    world: World, clock: FrozenClock, daemon: Daemon, sink: HttpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    sid = await daemon.store.add_shipment(shipment("3318810025", "dhl"), clock.now())
    for _ in range(3):
        await daemon.tick()
        clock.advance(hours=1)
    stored = await daemon.store.get_shipment(sid)
    assert stored is not None and stored.next_poll_at == at(23, 0) + timedelta(days=1)
    assert world.calls["dhl:track"] == 0
    (alert,) = await daemon.store.all_alerts()
    assert alert.summary == "DHL parcels are not tracked: the carrier is not enabled"
    assert [r.body["title"] for r in sink.received] == [f"[Test Shop] {alert.summary}"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "not enabled" in
              r.getMessage()]  # fmt: skip
    assert len(errors) == 1


async def test_a_reload_logs_no_alert_that_it_did_not_open(
    world: World, clock: FrozenClock, daemon: Daemon, make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Alerts resolved by hand stay resolved across a reload; the log must not say they
    were opened again (`journalctl -g "alert opened"` would lie)."""
    script(world, (at(23, 9), "label"), (at(23, 18), "picked_up"), (at(24, 8), "damaged"))
    sid = await daemon.store.add_shipment(shipment(), clock.now())
    await run_until(daemon, clock, at(24, 20))
    assert await daemon.store.resolve_by_hand(sid, None, "called the customer", clock.now())
    caplog.clear()
    caplog.set_level(logging.INFO)
    await daemon.reload(make_settings())
    await daemon.monitor.run_once()
    assert not [r for r in caplog.records if "alert opened" in r.getMessage()]
    assert [a.state.value for a in await daemon.store.all_alerts()] == ["resolved"]


async def test_a_loop_that_fails_is_logged_once_and_runs_again(
    clock: FrozenClock, daemon: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing stops the daemon: a pass that raises (here: the database refuses every read
    for a while) is logged with its traceback once, and the loop tries again."""
    import asyncio

    attempts: list[datetime] = []

    async def flaky() -> None:
        attempts.append(clock.now())
        if len(attempts) <= 3:
            raise sqlite3.OperationalError("database is locked")

    async def nothing_due() -> datetime | None:
        return None

    loop = asyncio.create_task(daemon._loop(flaky, nothing_due, None))
    for _ in range(4):
        await clock.someone_sleeping()
        clock.advance(daemon.idle)
        await asyncio.sleep(0)
    await clock.someone_sleeping()
    daemon.stop()
    clock.advance(daemon.idle)
    await loop
    assert len(attempts) >= 4
    failures = [r for r in caplog.records if "failed; trying again" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None


async def test_scans_stored_before_the_label_by_an_older_version_are_not_ours(
    clock: FrozenClock, daemon: Daemon
) -> None:
    """Older versions stored a recycled number's delivery from years before our label: the
    rules must not take it for ours (no delivered check-in, polling goes on)."""
    sid = await daemon.store.add_shipment(shipment(), clock.now())
    years_ago = ev(at(3, 12) - timedelta(days=3 * 365), Status.DELIVERED, "Delivered")
    result = TrackingResult(tracking_number=NUMBER, outcome=Outcome.FOUND, events=[years_ago],
                            status=Status.DELIVERED)  # fmt: skip
    await daemon.store.apply_polls([PollUpdate(sid, clock.now(), clock.now(), result)])
    await daemon.monitor.run_once()
    stored = await daemon.store.get_shipment(sid)
    assert stored is not None and stored.stopped is None and stored.next_poll_at is not None
    assert await daemon.store.all_alerts() == []


async def test_what_the_carrier_says_of_an_unknown_number_is_listed_and_explained(
    clock: FrozenClock, daemon: Daemon, capsys: pytest.CaptureFixture[str]
) -> None:
    """UPS answers TW0001 for a number it does not know yet: `list`, `show` and the
    not-picked-up alert say so, and it is asked about once a day, not every 15 minutes."""
    from trackwatch.views import print_shipments

    sid = await daemon.store.add_shipment(shipment(), clock.now())  # nothing in the world
    await run_to(daemon, clock, at(26, 12))
    stored = await daemon.store.get_shipment(sid)
    assert stored is not None and stored.polls <= 5  # daily, and once before the deadline
    note = "UPS does not know this number yet: Tracking Information Not Found"
    assert stored.carrier_note == note
    print_shipments([stored])
    assert note in capsys.readouterr().out
    (alert,) = await daemon.store.all_alerts()
    assert alert.rule == "not_picked_up" and note in alert.explanation["label"]


async def test_a_row_set_aside_while_its_poll_is_in_flight_stays_aside(
    clock: FrozenClock, daemon: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    """The rules loop sets a row aside (it breaks a rule) while the poll loop's call about
    it is in flight: the answer must not bring the row back to polling and judging."""
    far = await daemon.store.add_shipment(
        shipment("1Z879E930346834440", shipped=datetime(9999, 12, 31, 12, tzinfo=NYC_ZONE)),
        clock.now(),
    )
    ups = daemon.poller._carriers["ups"]
    real = ups.track

    async def judged_meanwhile(queries: Sequence[Query]) -> dict[str, TrackingResult]:
        await daemon.monitor.run_once()  # the rules pass runs while the call is in flight
        return await real(queries)

    ups.track = judged_meanwhile  # type: ignore[method-assign]
    assert await daemon.poller.poll_due() == 1
    ups.track = real  # type: ignore[method-assign]
    caplog.clear()
    for _ in range(3):
        clock.advance(hours=6)
        await daemon.tick()
    row = await daemon.store.get_shipment(far)
    assert row is not None and row.set_aside and row.next_poll_at is None and row.polls == 0
    assert not [r for r in caplog.records if "could not be judged" in r.getMessage()]


async def test_a_storage_error_sets_nothing_aside(clock: FrozenClock, daemon: Daemon) -> None:
    """A moment of disk trouble is not five bad rows: the pass fails (the loop tries again),
    nothing is set aside and nobody is told of rows that are fine."""
    ids = [await daemon.store.add_shipment(shipment(number, order=f"O{i}"), clock.now())
           for i, number in enumerate(("1Z5R89390357567127", "1Z879E930346834440"))]  # fmt: skip

    async def broken(_: Sequence[int]) -> dict[int, list[TrackingEvent]]:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(daemon.store, "events_for", broken)
        with pytest.raises(sqlite3.OperationalError):
            await daemon.monitor.run_once()
    await daemon.monitor.run_once()
    for sid in ids:
        row = await daemon.store.get_shipment(sid)
        assert row is not None and row.set_aside is None
    assert await daemon.store.all_alerts() == []


async def test_a_rule_that_fails_for_every_row_sets_nothing_aside(
    clock: FrozenClock, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When most of a pass fails, the fault is the rules', not the rows': the pass raises
    (logged once by the loop) instead of setting the whole database aside."""
    for i in range(6):
        await daemon.store.add_shipment(shipment(f"7384888{i:05d}", "fedex", order=f"O{i}"),
                                        clock.now())  # fmt: skip

    def broken(*_: object) -> None:
        raise ZeroDivisionError("a rule's bug")

    monkeypatch.setattr(daemon.monitor, "_judge", broken)
    with pytest.raises(RuntimeError, match="6 of 6 shipments could not be judged"):
        await daemon.monitor.run_once()
    listed = await daemon.store.list_shipments()
    assert all(s.set_aside is None for s in listed.shipments)


async def test_setting_aside_and_its_alert_are_one_write(
    clock: FrozenClock, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between setting a row aside and opening its staff alert used to leave a row
    nobody would ever hear of: the two are now one transaction, so when the alert cannot be
    written the row is not set aside either, and the next pass does both."""
    far = await daemon.store.add_shipment(
        shipment("1Z879E930346834440", shipped=datetime(9999, 12, 31, 12, tzinfo=NYC_ZONE)),
        clock.now(),
    )
    assert isinstance(daemon.store, SqliteStore | PostgresStore)
    real = daemon.store._open_store_alert

    async def dies(*_: object) -> None:
        raise SystemExit("killed here")

    monkeypatch.setattr(daemon.store, "_open_store_alert", dies)
    with pytest.raises(SystemExit):
        await daemon.monitor.run_once()
    row = await daemon.store.get_shipment(far)
    assert row is not None and row.set_aside is None  # rolled back with the alert
    monkeypatch.setattr(daemon.store, "_open_store_alert", real)
    clock.advance(minutes=6)  # the dead pass's claim on the row runs out
    await daemon.store.report_missing(far, "nudge", clock.now())  # due for judging again
    await daemon.monitor.run_once()
    (alert,) = await daemon.store.all_alerts()
    assert alert.subject == f"shipment {far}"


async def test_one_refusal_seen_by_calls_in_flight_together_is_not_confirmed(
    world: World, clock: FrozenClock, make_settings: SettingsFactory
) -> None:
    """A momentary 403 answered to the four calls in flight at that moment is one failure,
    not a confirmed refusal: staff are not told (nor told of its resolution a second
    later)."""
    settings = make_settings(carriers={"ups": {"max_in_flight": 4}})
    async with open_daemon(settings, clock) as daemon:
        for i, number in enumerate(("1Z5R89390357567127", "1Z879E930346834440",
                                    "1Z410E7W0392751591", "1Z999AA10123456784")):  # fmt: skip
            await daemon.store.add_shipment(shipment(number, order=f"O{i}"), clock.now())
        world.inject("ups", "403", "403")
        await daemon.poller.poll_due()
        assert await daemon.store.all_alerts() == []


async def test_each_store_hears_of_a_carrier_that_is_not_enabled(
    clock: FrozenClock, daemon: Daemon
) -> None:
    await daemon.store.add_shipment(shipment("3318810025", "dhl"), clock.now())
    await daemon.tick()
    clock.advance(hours=1)
    await daemon.store.add_shipment(shipment("3318810025", "dhl", store="other"), clock.now())
    await daemon.tick()
    await daemon.tick()
    assert sorted(a.store for a in await daemon.store.all_alerts()) == ["other", "shop"]


async def test_a_row_set_aside_again_after_a_restart_is_told_again(
    clock: FrozenClock, daemon: Daemon
) -> None:
    far = await daemon.store.add_shipment(
        shipment("1Z879E930346834440", shipped=datetime(9999, 12, 31, 12, tzinfo=NYC_ZONE)),
        clock.now(),
    )
    await daemon.tick()
    assert await daemon.store.restart_polling(far, clock.now())
    (first,) = await daemon.store.all_alerts()
    assert first.state.value == "resolved" and first.resolution == "taken back by restart"
    clock.advance(days=3)
    await daemon.tick()
    alerts = await daemon.store.all_alerts()
    assert [a.state.value for a in alerts] == ["resolved", "open"]


async def test_notice_keys_differ_between_databases(
    database: str, another_database: str, clock: FrozenClock
) -> None:
    """Alert ids repeat across databases (staging and production, two shops, a restored
    backup): keys, and so Message-IDs, must not, or a deduplicating mailbox drops a real
    notice."""
    keys = []
    for name in (database, another_database):
        store = await open_store(name)
        await store.enqueue([NoticeDraft("daily", Audience.STAFF, "staff_email.0", "shop",
                                         "t", "b", key="digest-shop-2026-11-23")], clock.now())  # fmt: skip
        keys += [n.idempotency_key for n in await store.notices()]
        await store.close()
    assert len(set(keys)) == 2
    again = await open_store(database)
    assert again.instance in keys[0]  # stable for one database
    await again.close()
