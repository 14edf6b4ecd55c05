"""A poll pass writes its answers in batches (issue 21): DHL and UPS answer one number a call,
and one transaction per answer cost SQLite more than the rest of the poll. Every answer is
written before the pass ends (the rules loop runs after it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta

from tests.backends import execute
from tests.conftest import SettingsFactory, both_backends
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Place, Shipment
from trackwatch.poller import FLUSH_AT
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store.records import PollUpdate

CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
COUNT = 2 * FLUSH_AT + 30  # three batches' worth, the last one short


@both_backends
async def test_a_pass_of_single_number_answers_writes_them_in_batches(
    make_settings: SettingsFactory, clock: FrozenClock, world: World, database: str
) -> None:
    numbers = [f"1ZWRITES{i:010d}" for i in range(COUNT)]
    shipped = clock.now() - timedelta(days=1)
    for number in numbers:
        world.add(Parcel("ups", number, [Milestone(shipped, "picked_up", CHICAGO)], CHICAGO))
    async with open_daemon(make_settings(carriers={"ups": {"rate_limit": 100_000}}),
                           clock) as daemon:  # fmt: skip
        await daemon.store.add_shipments([
            Shipment(store="shop", carrier="ups", tracking_number=n, order_id=n,
                     customer_email="c@example.com", shipped_at=shipped) for n in numbers],
            clock.now())  # fmt: skip
        writes: list[int] = []
        apply = daemon.store.apply_polls

        async def counted(updates: Iterable[PollUpdate]) -> None:
            listed = list(updates)
            writes.append(len(listed))
            # A write slow enough (as under load) that the other workers fill a batch and
            # more meanwhile: each that crossed FLUSH_AT waits for the lock.
            held = daemon.poller._answers._held
            for _ in range(100_000):
                if len(writes) > 1 or len(held) >= FLUSH_AT + 3:
                    break
                await asyncio.sleep(0)
            await apply(listed)

        daemon.poller._answers._store.apply_polls = counted  # type: ignore[method-assign]
        assert await daemon.poller.poll_due() == COUNT
    assert len(writes) <= 3  # it was one per answer
    assert sum(writes) == COUNT
    polled = await execute(database, "SELECT COUNT(*) FROM shipments WHERE polls=1 AND"
                           " status='in_transit'")  # fmt: skip
    assert polled == [(COUNT,)]
