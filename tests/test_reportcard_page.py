"""The report card's page and CSV (issue 20, item 2) on a real aiohttp server, over the
card of tests/reportcard_data.py; which stores a request may see stands in for the console's
sign-in (a header here)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import both_backends
from tests.reportcard_data import fill, write_config
from trackwatch.clock import FrozenClock
from trackwatch.config import load_settings
from trackwatch.reportcard.page import report_routes
from trackwatch.store import Store

NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


async def allowed(request: web.Request) -> frozenset[str] | None:
    given = request.headers.get("X-Stores")
    return None if given is None else frozenset(filter(None, given.split(",")))


@pytest.fixture
async def client(
    any_store: Store, database: str, tmp_path: Path
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    await fill(any_store)
    settings = load_settings(write_config(tmp_path / "tw.toml", database))
    app = web.Application()
    clock = FrozenClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    app.add_routes(report_routes(any_store, settings, allowed, clock))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@both_backends
async def test_the_page_shows_every_carrier_with_charts_and_nothing_from_outside(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/console/report", params=NOVEMBER)
    assert response.status == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    html = await response.text()
    assert len(re.findall(r"<svg\b", html)) == 3
    for chart in ("chart-on_time", "chart-transit", "chart-rates"):
        assert f'id="{chart}"' in html
    assert "UPS US → US" in html and "DHL DE → DE" in html  # the transit chart's series
    assert "75% (3/4)" in html and "50% (2/4)" in html and "<td>3.8</td>" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "fetches from outside"
    assert '<option value="euro">Euro</option>' in html
    assert "Figures as counted at 2026-12-01 09:00 UTC" in html  # the injected clock


@both_backends
async def test_a_store_sees_nothing_of_another(
    client: TestClient[web.Request, web.Application],
) -> None:
    shop = {"X-Stores": "shop"}
    html = await (await client.get("/console/report", params=NOVEMBER, headers=shop)).text()
    assert "DHL" not in html and "Euro" not in html and "UPS" in html
    asked = {**NOVEMBER, "store": "euro"}
    html = await (await client.get("/console/report", params=asked, headers=shop)).text()
    assert "No parcels shipped in this period." in html and "DHL" not in html
    text = await (await client.get("/console/report.csv", params=asked, headers=shop)).text()
    assert len(text.splitlines()) == 1  # the header alone
    nobody = await client.get("/console/report.csv", params=NOVEMBER, headers={"X-Stores": ""})
    assert len((await nobody.text()).splitlines()) == 1


@both_backends
async def test_the_csv_has_a_row_per_carrier_and_lane(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/console/report.csv", params=NOVEMBER)
    assert response.content_type == "text/csv"
    assert 'filename="report-2026-11-01-2026-11-30.csv"' in response.headers[
        "Content-Disposition"]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["carrier"], r["origin"], r["destination"], r["shipped"]) for r in rows] == [
        ("dhl", "DE", "DE", "2"), ("ups", "US", "DE", "1"), ("ups", "US", "US", "4")]  # fmt: skip
    shop = await client.get("/console/report.csv", params=NOVEMBER, headers={"X-Stores": "shop"})
    assert [r["carrier"] for r in csv.DictReader(io.StringIO(await shop.text()))] == [
        "ups", "ups"]  # fmt: skip


@both_backends
async def test_a_bad_day_is_refused_by_name_and_the_default_is_thirty_days(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/console/report", params={"since": "yesterday"})
    assert response.status == 400
    assert await response.text() == "since: 'yesterday' is not a day as YYYY-MM-DD"
    html = await (await client.get("/console/report")).text()  # the clock: 2026-12-01
    assert 'name="since" value="2026-11-02"' in html and 'value="2026-12-01"' in html
