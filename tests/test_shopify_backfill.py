"""`trackwatch shopify backfill` against the sandbox's stand-in for Shopify's Admin GraphQL
API on 127.0.0.1: paginated, within the cost-based rate limit, the fulfillments still in
transit watched through the webhook's path, and a second run changing nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import both_backends, run_on_clock
from tests.shopify_kit import TOKEN, stocked
from trackwatch.chaos.process import to_toml
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.shopify_shop import Bucket, Shop
from trackwatch.sandbox.world import World
from trackwatch.shopify.admin_api import AdminApi
from trackwatch.shopify.backfill import Backfill
from trackwatch.store import Store, open_store

STEP = timedelta(milliseconds=250)


@pytest.fixture
async def shop_server(clock: FrozenClock) -> AsyncIterator[SandboxServer]:
    shop = Shop(clock, access_token=TOKEN, bucket=Bucket(maximum=1000, restore_rate=50,
                                                          available=1000))  # fmt: skip
    server = await SandboxServer(World(), clock, shop=shop).start()
    yield server
    await server.stop()


def settings_for(database: str, server: SandboxServer, **shopify: Any) -> Settings:
    section = {"shop_domain": "sandbox-shop.myshopify.com", "access_token": TOKEN,
               "admin_url": server.base_url, **shopify}  # fmt: skip
    return build_settings({"daemon": {"database": database}, "stores": {
        "shop": {"name": "Shop", "shopify": section}}})  # fmt: skip


async def backfill(
    store: Store, settings: Settings, clock: FrozenClock
) -> tuple[Backfill, AdminApi]:
    lines: list[str] = []
    async with aiohttp.ClientSession() as http:
        api = AdminApi(settings.stores["shop"].shopify, http, clock)
        run = Backfill(store, settings, "shop", clock.now, lines.append)
        await run_on_clock(clock, run.run(api, clock.now() - timedelta(days=30)), STEP)
    return run, api


@both_backends
async def test_backfill_watches_what_is_in_transit_once(
    database: str, shop_server: SandboxServer, clock: FrozenClock
) -> None:
    assert shop_server.shop is not None
    kinds = stocked(shop_server.shop, clock.now(), in_transit=24)
    # A bucket that holds one page: 2 + 5 x 57 = 287 points asked, about 30 spent.
    shop_server.shop.bucket = Bucket(maximum=300, restore_rate=50, available=300)
    settings = settings_for(database, shop_server, page_size=5)
    store = await open_store(database)
    try:
        run, api = await backfill(store, settings, clock)
        found = (await store.list_shipments()).shipments
        assert sorted(s.tracking_number for s in found) == sorted(kinds["in_transit"])
        assert run.counts["watched"] == 36 and run.counts["skipped (delivered)"] == 1
        assert run.counts["skipped (no tracking)"] == 1
        # The order shipped 200 days ago was not even read: Shopify's search left it out.
        assert run.counts["fulfillments"] == 26
        first = next(s for s in found if s.order_id == "#1001")
        assert first.fulfillment_gid == "gid://shopify/Fulfillment/901001"
        assert (first.customer_email, first.destination_postal_code) == ("c1001@example.com",
                                                                         "40003")  # fmt: skip
        # 26 orders, 5 a page: 6 pages; before each page after the first the bucket held
        # less than the 287 points a page asks: the client waited for it, never throttled.
        assert api.calls == 6 and shop_server.shop.throttled == 0 and api.waited > 0
        again, _ = await backfill(store, settings, clock)
        assert again.counts["unchanged (seen before)"] == 24 and again.counts["watched"] == 0
        assert len((await store.list_shipments()).shipments) == 36
    finally:
        await store.close()


@pytest.mark.parametrize("status", [200, 429])
async def test_a_throttled_call_waits_for_the_refill_and_is_sent_again(
    database: str, shop_server: SandboxServer, clock: FrozenClock, status: int
) -> None:
    """The first call knows nothing of the bucket: one answered THROTTLED (with HTTP 200, as
    Shopify does, or 429) waits for what its throttleStatus says and goes again."""
    assert shop_server.shop is not None
    stocked(shop_server.shop, clock.now(), in_transit=3)
    shop_server.shop.bucket.available = 10
    shop_server.shop.throttled_status = status
    store = await open_store(database)
    try:
        run, api = await backfill(store, settings_for(database, shop_server), clock)
    finally:
        await store.close()
    assert shop_server.shop.throttled == 1 and api.calls == 2
    assert run.counts["watched"] == 4
    # (10 points, 50 a second: 572 points after 11.24 s)
    assert 11.2 <= api.waited <= 11.3


async def test_a_wrong_token_is_refused_without_naming_it(
    database: str, shop_server: SandboxServer, clock: FrozenClock
) -> None:
    settings = settings_for(database, shop_server, access_token="shpat_not_the_right_one_000")
    store = await open_store(database)
    try:
        with pytest.raises(Exception, match="HTTP 401") as caught:
            await backfill(store, settings, clock)
    finally:
        await store.close()
    assert "shpat_not_the_right_one_000" not in str(caught.value)
    assert "Invalid API key or access token" in str(caught.value)


async def test_the_command_reads_the_token_from_the_credentials_directory_and_never_prints_it(
    tmp_path: Path, shop_server: SandboxServer, clock: FrozenClock,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    assert shop_server.shop is not None
    stocked(shop_server.shop, clock.now(), in_transit=3)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "shop-shopify-token").write_text(TOKEN + "\n")
    config = tmp_path / "trackwatch.toml"
    config.write_text(to_toml({"daemon": {"database": str(tmp_path / "tw.db")}, "stores": {
        "shop": {"name": "Shop", "shopify": {
            "shop_domain": "sandbox-shop.myshopify.com", "admin_url": shop_server.base_url,
            "access_token_file": "$CREDENTIALS_DIRECTORY/shop-shopify-token"}}}}))  # fmt: skip
    os.environ["CREDENTIALS_DIRECTORY"] = str(credentials)
    try:
        argv = ["shopify", "backfill", "--config", str(config), "--store", "shop", "--json"]
        with caplog.at_level(logging.DEBUG):
            assert await asyncio.to_thread(main, argv, clock) == 0
    finally:
        del os.environ["CREDENTIALS_DIRECTORY"]
    out = capsys.readouterr()
    assert json.loads(out.out)["watched"] == 4
    assert TOKEN not in out.out + out.err + caplog.text


@pytest.mark.parametrize(
    ("argv", "shopify", "message"),
    [(["--since", "last week"], {}, "error: since: 'last week' is not a date such as 2026-11-01"),
     (["--since", "2020-01-01"], {}, "error: since: 2020-01-01 must be within the last 365 days"),
     ([], None, "error: store: 'shop' has no [stores.shop.shopify] shop_domain and "
      "access_token (or access_token_file)"),
     ([], {"write_back": True, "access_token": None},
      "config error: stores.shop.shopify: Value error, write_back needs shop_domain and "
      "access_token (or access_token_file)")],
)  # fmt: skip
def test_what_the_command_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
    shopify: dict[str, Any] | None, message: str,
) -> None:  # fmt: skip
    store: dict[str, Any] = {"name": "Shop"}
    if shopify is not None:
        store["shopify"] = {k: v for k, v in {"shop_domain": "x.myshopify.com",
                                              "access_token": TOKEN, **shopify}.items()
                            if v is not None}  # fmt: skip
    config = tmp_path / "trackwatch.toml"
    config.write_text(to_toml({"daemon": {"database": str(tmp_path / "tw.db")},
                               "stores": {"shop": store}}))  # fmt: skip
    code = main(["shopify", "backfill", "--config", str(config), "--store", "shop", *argv],
                FrozenClock(datetime(2026, 11, 30, tzinfo=UTC)))  # fmt: skip
    assert code == 2 and capsys.readouterr().err.strip() == message
