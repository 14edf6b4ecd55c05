"""The console's report card is read once and served from memory (trackwatch.reportcard.
cache): fresh for five minutes by the injected clock, then renewed in the background while
the older figures are served, one reading shared by everyone asking at once, and each
person's stores cut from the one reading of every store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import both_backends
from tests.reportcard_data import SINCE, UNTIL, _parcel, _shipment, fill, write_config
from trackwatch.clock import FrozenClock
from trackwatch.config import load_settings
from trackwatch.reportcard.cache import FRESH, CardCache, Shown
from trackwatch.reportcard.promised import origins, policy_promise
from trackwatch.store import Store
from trackwatch.store.lanes import LaneCounts, Period, Spread, Unpromised

pytestmark = both_backends
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
DAY = timedelta(days=1)


class Counting:
    """The real store, its lane counts counted (and made to fail on demand)."""

    def __init__(self, store: Store) -> None:
        self.store, self.readings, self.fail = store, 0, False
        self.gate: asyncio.Event | None = None

    async def lane_counts(self, period: Period) -> list[LaneCounts]:
        self.readings += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("database gone")
        return await self.store.lane_counts(period)

    async def lane_spreads(self, period: Period) -> list[Spread]:
        return await self.store.lane_spreads(period)

    async def unpromised_deliveries(self, period: Period) -> list[Unpromised]:
        return await self.store.unpromised_deliveries(period)


@pytest.fixture
async def setup(any_store: Store, tmp_path: Path) -> tuple[Counting, CardCache, FrozenClock]:
    await fill(any_store)
    settings = load_settings(write_config(tmp_path / "tw.toml", str(tmp_path / "x.db")))
    clock = FrozenClock(NOW)
    source = Counting(any_store)
    cache = CardCache(source, clock, lambda: origins(settings), lambda: policy_promise(settings))
    return source, cache, clock


def ups_shipped(shown: Shown) -> int:
    return sum(f.shipped for f in shown.card.carriers if f.carrier == "ups")


async def another_ups_parcel(store: Store) -> None:
    await _parcel(store, _shipment("shop", "ups", "P9", "US"), None, None)


async def test_a_card_read_once_is_served_from_memory_until_five_minutes_pass(
    setup: tuple[Counting, CardCache, FrozenClock],
) -> None:
    source, cache, clock = setup
    first = await cache.card(Period(SINCE, UNTIL))
    assert (ups_shipped(first), first.read_at, source.readings) == (5, NOW, 1)
    await another_ups_parcel(source.store)
    clock.advance(FRESH - timedelta(seconds=1))
    again = await cache.card(Period(SINCE, UNTIL))
    assert (ups_shipped(again), again.read_at, source.readings) == (5, NOW, 1)
    clock.advance(timedelta(seconds=1))
    stale = await cache.card(Period(SINCE, UNTIL))  # served at once, renewed behind it
    assert (ups_shipped(stale), stale.read_at) == (5, NOW)
    await cache.warm(Period(SINCE, UNTIL))  # the renewal under way
    renewed = await cache.card(Period(SINCE, UNTIL))
    assert (ups_shipped(renewed), renewed.read_at, source.readings) == (6, NOW + FRESH, 2)


async def test_everyone_asking_at_once_shares_one_reading_cut_to_their_stores(
    setup: tuple[Counting, CardCache, FrozenClock],
) -> None:
    source, cache, _ = setup
    source.gate = asyncio.Event()
    every = asyncio.create_task(cache.card(Period(SINCE, UNTIL)))
    shop = asyncio.create_task(cache.card(Period(SINCE, UNTIL, frozenset({"shop"}))))
    euro = asyncio.create_task(cache.card(Period(SINCE, UNTIL, frozenset({"euro"}))))
    nobody = asyncio.create_task(cache.card(Period(SINCE, UNTIL, frozenset())))
    await asyncio.sleep(0)
    source.gate.set()
    cards = [(await t).card for t in (every, shop, euro, nobody)]
    assert source.readings == 1
    assert [sorted(f.carrier for f in c.carriers) for c in cards] == [
        ["dhl", "ups"], ["ups"], ["dhl"], []]  # fmt: skip
    assert cards[1].period.stores == frozenset({"shop"})


async def test_a_failed_renewal_keeps_the_figures_and_a_first_reading_fails_loudly(
    setup: tuple[Counting, CardCache, FrozenClock],
) -> None:
    source, cache, clock = setup
    await cache.card(Period(SINCE, UNTIL))
    source.fail = True
    clock.advance(FRESH)
    kept = await cache.card(Period(SINCE, UNTIL))
    with pytest.raises(ConnectionError):
        await cache.warm(Period(SINCE, UNTIL))
    after = await cache.card(Period(SINCE, UNTIL))
    assert (ups_shipped(kept), ups_shipped(after), after.read_at) == (5, 5, NOW)
    with pytest.raises(ConnectionError):
        await cache.card(Period(SINCE - 30 * DAY, SINCE))  # never read: nothing to show


async def test_the_daemons_page_reads_the_last_thirty_days_as_it_starts(
    any_store: Store, tmp_path: Path
) -> None:
    from trackwatch.reportcard.page import mount_report, report_page

    await fill(any_store)
    settings = load_settings(write_config(tmp_path / "tw.toml", str(tmp_path / "x.db")))
    source, clock = Counting(any_store), FrozenClock(datetime(2026, 11, 20, 9, tzinfo=UTC))

    async def every_store(request: web.Request) -> frozenset[str] | None:
        return None

    page = report_page(source, settings, every_store, clock)
    app = web.Application()
    mount_report(app, page)
    source.gate = asyncio.Event()  # the reading waits here until the page is asked for
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for _ in range(1000):  # yields to the loop, no time passes
            if source.readings:
                break
            await asyncio.sleep(0)
        assert source.readings == 1  # as it started, before anyone asked
        asking = asyncio.create_task(client.get("/console/report"))
        source.gate.set()
        html = await (await asking).text()
        assert source.readings == 1 and "2026-11-20 09:00 UTC" in html
        assert "UPS" in html


async def test_a_person_who_leaves_does_not_cancel_the_reading_others_wait_for(
    setup: tuple[Counting, CardCache, FrozenClock],
) -> None:
    source, cache, _ = setup
    source.gate = asyncio.Event()
    leaving = asyncio.create_task(cache.card(Period(SINCE, UNTIL)))
    staying = asyncio.create_task(cache.card(Period(SINCE, UNTIL)))
    await asyncio.sleep(0)
    leaving.cancel()  # the browser closed: aiohttp cancels the handler
    await asyncio.sleep(0)
    source.gate.set()
    assert ups_shipped(await staying) == 5 and source.readings == 1
    assert leaving.cancelled()
