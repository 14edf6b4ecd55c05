"""When polling stops: after a delivery's confirmation window, after 30 days without carrier
information (staff told), at a lost declaration; and a restart by hand. The real daemon
against the UPS sandbox, on a FrozenClock that jumps to the daemon's next due instant."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import SettingsFactory
from tests.test_end_to_end import NUMBER, NYC, at, script, started
from trackwatch.app import Daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Shipment
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import Milestone, World


async def run_to(daemon: Daemon, clock: FrozenClock, until: datetime) -> None:
    """Run the loops at every instant one of them is due, up to `until`."""
    while True:
        await daemon.tick()
        store = daemon.store
        due = [d for d in (await store.next_poll_at(), await store.next_check_at(),
                           await store.next_notice_at()) if d is not None]  # fmt: skip
        step = min([*due, until])
        if step > until or clock.now() >= until:
            return
        clock.set(max(step, clock.now() + timedelta(minutes=1)))


async def shipment(daemon: Daemon) -> Shipment:
    (found,) = (await daemon.store.list_shipments()).shipments
    return found


async def test_a_delivered_parcel_is_polled_once_more_then_no_more(
    world: World, clock: FrozenClock, make_settings: SettingsFactory
) -> None:
    script(world, (at(23, 9), "label"), (at(23, 18), "picked_up"), (at(24, 11), "delivered"))
    async for daemon in started(make_settings, clock):
        await run_to(daemon, clock, at(24, 20))
        assert (await shipment(daemon)).status.value == "delivered"
        await run_to(daemon, clock, at(27, 0))
        stopped = await shipment(daemon)
        assert stopped.stopped == "delivered" and stopped.next_poll_at is None
        assert stopped.last_polled_at is not None
        assert stopped.last_polled_at >= at(24, 11) + timedelta(hours=48)  # the confirming poll
        polls = stopped.polls
        await run_to(daemon, clock, at(28, 0, month=12))  # past the 30-day claim window
        after = await shipment(daemon)
        assert after.polls == polls  # not one call more
        rules = {(a.rule, a.state.value) for a in await daemon.store.all_alerts()}
        assert ("delivered", "resolved") in rules  # the rules still ran to the window's end


async def test_a_number_the_carrier_never_knows_expires_after_30_days_and_staff_hear(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, sink: HttpSink
) -> None:
    # No parcel in the world: UPS answers "not found" to every poll.
    async for daemon in started(make_settings, clock):
        await run_to(daemon, clock, at(23, 9) + timedelta(days=31))
        expired = await shipment(daemon)
        assert expired.stopped == "expired" and expired.next_poll_at is None
        assert expired.stopped_at is not None
        assert expired.stopped_at - at(23, 9) < timedelta(days=30, hours=1)
        polls = expired.polls
        assert polls <= 40  # a day's poll before the first scan, not one every few hours
        titles = [r.body["title"] for r in sink.received]
        assert f"[Test Shop] UPS {NUMBER} (order A1): no carrier information for 30 days; " \
            "tracking stopped" in titles  # fmt: skip
        await run_to(daemon, clock, at(23, 9) + timedelta(days=40))
        assert (await shipment(daemon)).polls == polls
        # The not-picked-up alert it had is moot now that tracking stopped: only the
        # expiry stays open, so digests do not count it twice.
        alerts = {a.rule: a for a in await daemon.store.all_alerts()}
        assert alerts["not_picked_up"].resolution == "superseded by expired"
        assert alerts["expired"].resolved_at is None


async def test_a_lost_declaration_ends_polling_and_a_restart_resumes_it(
    world: World, clock: FrozenClock, make_settings: SettingsFactory
) -> None:
    script(world, (at(23, 9), "label"), (at(23, 18), "picked_up"), (at(25, 12), "lost"))
    async for daemon in started(make_settings, clock):
        await run_to(daemon, clock, at(26, 12))
        lost = await shipment(daemon)
        assert lost.stopped == "lost" and lost.next_poll_at is None
        polls = lost.polls
        await run_to(daemon, clock, at(5, 12, month=12))
        assert (await shipment(daemon)).polls == polls
        # Found after all: staff restart polling and the carrier's new scan is seen.
        world.parcel("ups", NUMBER).timeline.append(  # type: ignore[union-attr]
            Milestone(at(5, 13, month=12), "delivered", NYC)
        )
        clock.set(at(5, 14, month=12))
        assert await daemon.store.restart_polling(lost.id or 0, clock.now())
        await run_to(daemon, clock, at(6, 12, month=12))
        found = await shipment(daemon)
        assert found.status.value == "delivered" and found.stopped is None
        assert found.polls == polls + 1
        lost_alert = [a for a in await daemon.store.all_alerts() if a.rule == "lost"]
        assert [a.state.value for a in lost_alert] == ["resolved"]
