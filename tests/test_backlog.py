"""A backlog is judged as fast as the machine allows (issue 21): after a bulk import (or a
restart, or a reload that marks every shipment), the rules loop judged one batch of 1,000
and slept up to a minute; 100,000 imported shipments waited 100 minutes to be judged once.
One wake-up of the rules loop now judges until nothing waits."""

from __future__ import annotations

from datetime import timedelta

from tests.backends import execute
from tests.conftest import SettingsFactory, both_backends
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.model import Shipment

COUNT = 2500  # two and a half batches of the rules loop


@both_backends
async def test_one_wake_up_judges_a_whole_import(
    make_settings: SettingsFactory, clock: FrozenClock, database: str
) -> None:
    settings = make_settings()
    async with open_daemon(settings, clock) as daemon:
        await daemon.store.add_shipments([
            Shipment(store="shop", carrier="ups", tracking_number=f"1ZBACKLOG{i:09d}",
                     order_id=f"B{i}", customer_email="c@example.com",
                     shipped_at=clock.now() - timedelta(hours=3))
            for i in range(COUNT)], clock.now())  # fmt: skip
        await daemon.judge_due()
        waiting = await execute(database, "SELECT COUNT(*) FROM shipments WHERE dirty=?", True)
    assert waiting == [(0,)]
