"""Carrier quotas: persisted so a restart never overspends, 429s park the carrier, and when
calls are scarce the nearest deadlines go first. Real databases (SQLite and PostgreSQL),
the real sandbox."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import SettingsFactory, both_backends
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.errors import RateLimited
from trackwatch.model import Shipment
from trackwatch.quota import Quota
from trackwatch.sandbox.world import World
from trackwatch.sim.numbers import make_number
from trackwatch.store import open_store

pytestmark = both_backends


async def test_a_restart_starts_from_the_calls_already_spent(database: str) -> None:
    clock = FrozenClock(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    store = await open_store(database)
    quota = Quota("usps", 60, "hour", clock, store)
    for _ in range(60):
        await quota.take()
        clock.advance(seconds=30)  # 60 calls over 30 minutes
    await store.close()

    store = await open_store(database)  # the daemon restarted
    again = Quota("usps", 60, "hour", clock, store)
    assert (await again.spent()).remaining == 0
    with pytest.raises(RateLimited) as refused:
        await again.take()
    assert refused.value.retry_after == 30 * 60  # the first call ages out at 15:00 + 1 h
    clock.advance(minutes=30)
    assert (await again.spent()).remaining == 1  # exactly the calls older than an hour left
    await again.take()
    await store.close()


async def test_a_daily_quota_resets_at_midnight_gmt_also_across_a_restart(database: str) -> None:
    clock = FrozenClock(datetime(2026, 12, 7, 23, 0, tzinfo=UTC))
    store = await open_store(database)
    quota = Quota("dhl", 250, "day", clock, store)
    for _ in range(250):
        await quota.take()
    again = Quota("dhl", 250, "day", clock, store)
    with pytest.raises(RateLimited) as refused:
        await again.take()
    assert refused.value.daily and refused.value.retry_after == 3600
    clock.advance(hours=1)
    assert (await again.spent()).remaining == 250
    await store.close()


def _shipment(number: str, deadline: datetime | None, shipped: datetime) -> Shipment:
    return Shipment(store="shop", carrier="usps", tracking_number=number, order_id=number[-6:],
                    customer_email="c@example.com", destination_postal_code="10001",
                    shipped_at=shipped, deadline_at=deadline)  # fmt: skip


async def test_scarce_calls_go_to_the_nearest_deadlines_and_never_past_the_quota(
    world: World, clock: FrozenClock, make_settings: SettingsFactory
) -> None:
    # Four calls an hour (one kept spare: USPS counts token requests) of 35 numbers each.
    # Due now: 35 parcels with a deadline in 30 minutes and 70 with none soon; 35 more
    # are due in 40 minutes to verify a deadline 50 minutes from now.
    world.quotas["usps"] = (4, "hour")
    settings = make_settings(carriers={"usps": {"quota_calls": 4, "quota_window": "hour"}})
    start = clock.now()
    rnd = random.Random(7)
    groups = {
        "soon": (start, start + timedelta(minutes=30)),
        "later": (start + timedelta(minutes=40), start + timedelta(minutes=50)),
        "routine": (start, None),
    }
    ids: dict[str, list[int]] = {}
    async with open_daemon(settings, clock) as daemon:
        for name, (due, deadline) in groups.items():
            ids[name] = []
            for _ in range(70 if name == "routine" else 35):
                shipment = _shipment(make_number("usps", rnd), deadline, start)
                shipment.next_poll_at = due
                ids[name].append(await daemon.store.add_shipment(shipment, start))

        async def polls(name: str) -> list[int]:
            found = [await daemon.store.get_shipment(i) for i in ids[name]]
            return [s.polls if s else -1 for s in found]

        await daemon.poller.poll_due()
        # A token, the urgent batch and one routine batch; the fourth call is the spare,
        # and the later deadlines are owed one.
        assert world.calls["usps:token"] == 1 and world.calls["usps:track"] == 2
        assert await polls("soon") == [1] * 35
        assert sorted(await polls("routine")) == [0] * 35 + [1] * 35

        async def retry_at() -> set[datetime | None]:
            waiting = [await daemon.store.get_shipment(i) for i in ids["routine"]]
            return {s.next_poll_at for s in waiting if s and s.polls == 0}

        assert await retry_at() == {start + timedelta(minutes=15)}
        clock.set(start + timedelta(minutes=15))
        await daemon.poller.poll_due()
        assert world.calls["usps:track"] == 2  # one call left, owed to the later deadlines
        assert await retry_at() == {start + timedelta(hours=1)}  # when the first calls age out

        clock.set(start + timedelta(minutes=40))
        await daemon.poller.poll_due()
        assert await polls("later") == [1] * 35  # the deadline took the last call
        assert world.calls["usps:track"] == 3

        clock.set(start + timedelta(minutes=59))
        for group in ("soon", "later"):
            await daemon.store.reschedule_polls(ids[group], clock.now())
        await daemon.poller.poll_due()
        assert world.calls["usps:track"] == 3  # nothing left this hour: no call leaves
    assert world.over_quota["usps"] == 0


def carrier_calls(world: World, carrier: str) -> int:
    """Every request the sandbox answered for `carrier` (tokens and tracking alike)."""
    return sum(n for key, n in world.calls.items() if key.startswith(f"{carrier}:"))


def _midnight_gmt_after(instant: datetime) -> datetime:
    return datetime.combine(instant.astimezone(UTC).date() + timedelta(days=1),
                            datetime.min.time(), UTC)  # fmt: skip


# (carrier, fault, minimum gap between polls in minutes, how long the carrier asks to wait)
PARKINGS = {
    # USPS answers 429 with Retry-After: 30, longer here than the minimum gap of 15 s.
    "retry-after": ("usps", "429", 0.25, lambda now: timedelta(seconds=30)),
    # FedEx's daily quota: "Retry after 12:00AM GMT".
    "daily-quota": ("fedex", "daily_quota", 15, lambda now: _midnight_gmt_after(now) - now),
}


@pytest.mark.parametrize(("carrier", "fault", "gap", "wait"), PARKINGS.values(),
                         ids=PARKINGS.keys())  # fmt: skip
async def test_a_429_parks_the_carrier_until_its_wait_is_over(
    world: World, clock: FrozenClock, make_settings: SettingsFactory, carrier: str, fault: str,
    gap: float, wait: Callable[[datetime], timedelta],
) -> None:  # fmt: skip
    """After a 429 the carrier hears nothing, about any shipment, until the wait it asked
    for is over: not about the refused ones, nor about a shipment added since, nor about
    one that falls due meanwhile. Counted at the sandbox, which sees every request."""
    settings = make_settings(carriers={carrier: {}}, min_poll_minutes=gap)
    rnd = random.Random(3)
    start = clock.now()
    over = start + wait(start)

    async def watch(due: datetime) -> int:
        shipment = _shipment(make_number(carrier, rnd), None, start).model_copy(
            update={"carrier": carrier, "next_poll_at": due}
        )
        return await daemon.store.add_shipment(shipment, clock.now())

    async with open_daemon(settings, clock) as daemon:
        refused = [await watch(start) for _ in range(2)]
        world.inject(carrier, fault)
        await daemon.poller.poll_due()
        assert world.calls[f"{carrier}:track"] == 1  # the refused call
        calls = carrier_calls(world, carrier)
        added = await watch(start)  # a new order, due at once
        meanwhile = await watch(start + (over - start) / 2)
        for instant in (start, start + (over - start) / 2, over - timedelta(seconds=1)):
            clock.set(instant)
            await daemon.poller.poll_due()
            asked = carrier_calls(world, carrier) - calls
            assert asked == 0, f"{asked} calls {instant - start} after the 429"
        clock.set(over)
        await daemon.poller.poll_due()
        assert carrier_calls(world, carrier) > calls
        for sid in (*refused, added, meanwhile):
            polled = await daemon.store.get_shipment(sid)
            assert polled is not None and polled.polls == 1 and polled.last_polled_at == over


@pytest.mark.parametrize(("carrier", "window"), [("usps", "hour"), ("dhl", "day")])
async def test_two_daemons_on_one_database_never_take_more_than_the_quota(
    database: str, carrier: str, window: str
) -> None:
    """Each daemon's quota used to be counted in its own memory: two of them spent the
    whole quota each. Two store objects (two connections, as two processes have) taking
    calls at once: together exactly the limit, never more; in a sliding hour (counted
    from the ledger) and in a fixed day (counted as taken)."""
    clock = FrozenClock(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    one = await open_store(database)
    two = await open_store(database)
    quotas = [Quota(carrier, 60, window, clock, store) for store in (one, two, one, two)]

    async def take_all(quota: Quota) -> int:
        taken = 0
        for _ in range(40):
            try:
                await quota.take()
            except RateLimited:
                continue
            taken += 1
        return taken

    assert sum(await asyncio.gather(*(take_all(q) for q in quotas))) == 60
    assert (await quotas[0].spent()).remaining == 0
    assert len(await one.calls_since(carrier, clock.now() - timedelta(days=1))) == 60
    if window == "day":  # the next day starts afresh
        clock.set(datetime(2026, 12, 8, 0, 0, tzinfo=UTC))
        assert (await quotas[1].spent()).remaining == 60
        await quotas[1].take()
        assert (await quotas[0].spent()).remaining == 59
    for store in (one, two):
        await store.close()
