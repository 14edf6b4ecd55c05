"""The staff console over HTTP (issue 20, items 1 and 4): the real app on 127.0.0.1, a real
SQLite file, aiohttp's client with its cookie jar, an injected clock. Sign-in and out, wrong
passwords and their limit, idle expiry, CSRF refused on every form, each page's data, each
action changing the store and recorded, and no store's staff reading another's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest

from tests.backends import execute
from tests.conftest import both_backends
from tests.console_kit import NOW, PASSWORD, accounts, many_alerts, seed
from trackwatch.carrier_state import CarrierState
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.heartbeat import Heartbeat
from trackwatch.metrics import Metrics
from trackwatch.model import AlertState, NoticeState
from trackwatch.quota import Quota
from trackwatch.store import Store, open_store
from trackwatch.web.console import ConsoleDesk
from trackwatch.web.ops import Vitals
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import build_app, serve
from trackwatch.web.signing import ReportLinks

pytestmark = both_backends
ACTIONS = ("resolve", "snooze", "assign", "stop", "poll", "report-missing", "resend")


@dataclass
class Console:
    store: Store
    database: str
    clock: FrozenClock
    base: str
    ids: dict[str, int]
    woken: list[int]

    def client(self) -> aiohttp.ClientSession:
        # unsafe: the jar keeps cookies of an IP address (127.0.0.1)
        return aiohttp.ClientSession(self.base, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def page(http: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with http.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text
    return found.group(1)


async def post(
    http: aiohttp.ClientSession, path: str, form: dict[str, str], token: str | None
) -> tuple[int, str]:
    data = {**form, **({"csrf": token} if token is not None else {})}
    async with http.post(path, data=data, allow_redirects=False) as response:
        return response.status, await response.text()


async def sign_in(http: aiohttp.ClientSession, login: str, password: str = PASSWORD) -> int:
    _, text = await page(http, "/console/login")
    status, _ = await post(http, "/console/login", {"login": login, "password": password},
                           csrf_of(text))  # fmt: skip
    return status


async def token(http: aiohttp.ClientSession) -> str:
    return csrf_of((await page(http, "/console/alerts"))[1])


@pytest.fixture
async def console(database: str) -> AsyncIterator[Console]:
    settings = build_settings({"daemon": {"http_port": 0},
                               "stores": {"shop": {"name": "Shop"}, "other": {"name": "Other"}}})  # fmt: skip
    store = await open_store(database)
    ids = await seed(store, database)
    await accounts(store)
    clock, woken = FrozenClock(NOW), []
    report = ReportDesk(store, clock, settings, ReportLinks(b"k" * 32, ""),
                        wake=lambda: woken.append(1))  # fmt: skip
    health = CarrierState(settings.daemon)
    quotas = {k: Quota(k, 100, "hour", clock, store) for k in ("ups", "ups@shop", "ups@other")}
    vitals = Vitals(store, clock, Metrics(), Heartbeat(), quotas, health, sorted(quotas))
    desk = ConsoleDesk(report, store, await store.secret("console"), vitals)
    served = await serve(build_app(report, vitals, desk), settings.daemon)
    yield Console(store, database, clock, served.base_url, ids, woken)
    await served.stop()
    await store.close()


async def test_sign_in_then_out(console: Console) -> None:
    async with console.client() as http:
        assert (await page(http, "/console/alerts"))[0] == 303  # not signed in
        assert await sign_in(http, "ann") == 303
        status, text = await page(http, "/console/alerts")
        assert status == 200 and "ann (shop)" in text
        cookie = next(c for c in http.cookie_jar if c.key == "tw_console")
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
        assert (await post(http, "/console/logout", {}, csrf_of(text)))[0] == 303
        assert (await page(http, "/console/alerts"))[0] == 303


async def test_a_wrong_password_is_refused_and_guessing_is_limited(console: Console) -> None:
    async with console.client() as http:
        assert await sign_in(http, "ann", "not the password at all") == 401
        assert await sign_in(http, "nobody", PASSWORD) == 401
        assert (await page(http, "/console/alerts"))[0] == 303
        for _ in range(4):
            assert await sign_in(http, "ann", "still not the password") == 401
        assert await sign_in(http, "ann") == 429  # five failures: even the right one waits
        console.clock.advance(minutes=16)
        assert await sign_in(http, "ann") == 303


async def test_a_session_ends_after_12_idle_hours_or_a_new_password(console: Console) -> None:
    async with console.client() as http:
        await sign_in(http, "ann")
        console.clock.advance(hours=11)
        assert (await page(http, "/console/alerts"))[0] == 200  # used: idle time starts over
        console.clock.advance(hours=11)
        assert (await page(http, "/console/alerts"))[0] == 200
        console.clock.advance(hours=12, seconds=1)
        assert (await page(http, "/console/alerts"))[0] == 303
        await sign_in(http, "ann")
        await console.store.set_staff_password("ann", "another hash")
        assert (await page(http, "/console/alerts"))[0] == 303


async def test_every_form_refuses_a_post_without_its_csrf_token(console: Console) -> None:
    sid = console.ids["shop"]
    async with console.client() as http:
        _, text = await page(http, "/console/login")
        assert (await post(http, "/console/login", {"login": "ann", "password": PASSWORD},
                           None))[0] == 403  # fmt: skip
        assert (await post(http, "/console/login", {"login": "ann", "password": PASSWORD},
                           "forged"))[0] == 403  # fmt: skip
        await sign_in(http, "ann")
        for action in ACTIONS:
            for wrong in (None, "forged", csrf_of(text)):  # the pre-sign-in token is old
                status, _ = await post(http, f"/console/shipments/{sid}/{action}",
                                       {"alert": "1", "note": "x", "reason": "x"}, wrong)  # fmt: skip
                assert status == 403, (action, wrong)
        assert (await post(http, "/console/logout", {}, None))[0] == 403
        for wrong in (None, "forged"):
            assert (await post(http, "/console/watch", WATCHED, wrong))[0] == 403
    assert await console.store.find_shipments(None, WATCHED["tracking_number"]) == []
    alerts = await console.store.alerts_for(sid)
    assert all(a.state is AlertState.OPEN for a in alerts)
    assert await console.store.staff_actions(sid) == []


async def test_open_alerts_show_explanations_and_what_to_do_urgent_first(
    console: Console,
) -> None:
    async with console.client() as http:
        await sign_in(http, "ann")
        _, text = await page(http, "/console/alerts")
        assert text.index("lost: call the carrier") < text.index("stalled: call the carrier")
        assert "stall.domestic_business_days" in text and "days counted" in text
        assert "shop-1001" in text and "other-1001" not in text
        _, text = await page(http, "/console/alerts?severity=urgent")
        assert "lost summary" in text and "stalled summary" not in text
        _, text = await page(http, "/console/alerts?store=other")
        assert "No open alerts." in text  # ann's filter cannot widen her view


async def test_the_shipment_page_search_and_health(console: Console) -> None:
    sid = console.ids["shop"]
    async with console.client() as http:
        await sign_in(http, "ann")
        status, text = await page(http, f"/console/shipments/{sid}")
        assert status == 200 and "shop body" in text and "dead" in text and "HTTP 500" in text
        assert "next poll" in text and "EST" in text  # the destination's local time (10001)
        for query in ("shop-1001", "1Z5R89390357567127", "BUYER@shop.example"):
            _, text = await page(http, f"/console/search?q={query}")
            assert f"/console/shipments/{sid}" in text
        _, text = await page(http, "/console/health")
        assert 'id="account-ups@shop"' in text and 'id="account-ups"' in text
        assert "ups@other" not in text


async def _open_alert(console: Console, sid: int, rule: str) -> int:
    return next(a.id for a in await console.store.alerts_for(sid) if a.rule == rule)


async def test_each_action_changes_the_store_and_is_recorded(console: Console) -> None:
    sid, store = console.ids["shop"], console.store
    stalled, lost = (
        await _open_alert(console, sid, "stalled"),
        await _open_alert(console, sid, "lost"),
    )
    (notice,) = await store.notices_of_shipment(sid)
    async with console.client() as http:
        await sign_in(http, "ann")
        csrf = await token(http)
        base = f"/console/shipments/{sid}"
        until = (NOW + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
        for action, form in (("assign", {"alert": str(stalled), "assignee": "ann"}),
                             ("snooze", {"alert": str(stalled), "until": until}),
                             ("resolve", {"alert": str(lost), "note": "found at the depot"}),
                             ("resend", {"notice": str(notice.id)}),
                             ("poll", {})):  # fmt: skip
            assert (await post(http, f"{base}/{action}", form, csrf))[0] == 303, action
        triage = await store.alert_triage(sid)
        assert triage[stalled] == ("ann", NOW + timedelta(hours=3))
        resolved = {a.id: a for a in await store.alerts_for(sid)}[lost]
        assert resolved.state is AlertState.RESOLVED and "found at the depot" in str(
            resolved.resolution
        )
        assert (await store.get_notice(notice.id)).state is NoticeState.PENDING  # type: ignore[union-attr]
        assert (await store.get_shipment(sid)).next_poll_at == NOW  # type: ignore[union-attr]
        assert (await post(http, f"{base}/stop", {"reason": "order cancelled"}, csrf))[0] == 303
        stopped = await store.get_shipment(sid)
        assert stopped is not None and not stopped.active
        assert stopped.stopped == "by ann (console): order cancelled"
        assert (await post(http, f"{base}/poll", {}, csrf))[0] == 303  # restarts it
        assert (await store.get_shipment(sid)).stopped is None  # type: ignore[union-attr]
        await execute(console.database, "UPDATE shipments SET status='delivered' WHERE id=?", sid)
        assert (await post(http, f"{base}/report-missing", {}, csrf))[0] == 303
        assert (await store.get_shipment(sid)).missing_reported_by == "ann (console)"  # type: ignore[union-attr]
    done = await store.staff_actions(sid)
    assert [a.action for a in done] == ["assign", "snooze", "resolve", "resend", "poll now",
                                        "stop", "restart", "report missing"]  # fmt: skip
    assert {a.staff for a in done} == {"ann"} and all(a.at == NOW for a in done)
    assert console.woken


WATCHED = {"store": "shop", "tracking_number": "9400111899223100012348", "order_id": "shop-7",
           "customer_email": "new@shop.example", "destination_country": "US",
           "destination_postal_code": "02139", "shipped_at": "2026-11-23T06:00:00-05:00"}  # fmt: skip


async def test_staff_watch_a_parcel_as_the_cli_adds_one_to_their_own_store_only(
    console: Console,
) -> None:
    store, number = console.store, WATCHED["tracking_number"]
    async with console.client() as http:
        await sign_in(http, "ann")
        csrf = await token(http)
        status, text = await page(http, "/console/watch")
        assert status == 200 and '<option value="shop"' in text and '"other"' not in text
        status, _ = await post(http, "/console/watch", {**WATCHED, "store": "other"}, csrf)
        assert status == 403  # another store's: refused, nothing stored
        assert await store.find_shipments(None, number) == []
        bad = {**WATCHED, "order_id": "", "destination_country": "Narnia"}
        status, text = await post(http, "/console/watch", bad, csrf)
        assert status == 400 and "Nothing was stored" in text
        assert (
            "<strong>order_id</strong>" in text and "<strong>destination_country</strong>" in text
        )
        assert 'value="9400111899223100012348"' in text  # what was typed is kept
        assert await store.find_shipments(None, number) == []
        status, _ = await post(http, "/console/watch", WATCHED, csrf)
        assert status == 303
        (added,) = await store.find_shipments(None, number)
        assert (added.store, added.carrier, added.order_id) == ("shop", "usps", "shop-7")
        assert added.shipped_at == NOW - timedelta(hours=1)
        assert (await post(http, "/console/watch", WATCHED, csrf))[0] == 303  # again: no copy
        assert len(await store.find_shipments(None, number)) == 1
    done = await store.staff_actions(added.id or 0)
    assert [(a.action, a.staff) for a in done] == [("add", "ann"), ("add (already watched)", "ann")]


async def test_one_stores_staff_read_nothing_of_another_store(console: Console) -> None:
    theirs = console.ids["shop"]
    alert = await _open_alert(console, theirs, "stalled")
    (notice,) = await console.store.notices_of_shipment(theirs)
    async with console.client() as http:
        await sign_in(http, "bob")
        csrf = await token(http)
        for path in ("/console/alerts", "/console/alerts?store=shop", "/console/search?q=shop-1001",
                     "/console/search?q=buyer@shop.example", "/console/health"):  # fmt: skip
            status, text = await page(http, path)
            assert status == 200 and "ups@shop" not in text, path
            # (a search shows what was searched for: nothing of the parcel itself)
            assert f"/console/shipments/{theirs}" not in text, path
            assert "1Z5R89390357567127" not in text and "shop body" not in text, path
            assert "search" in path or "shop-1001" not in text, path
        status, text = await page(http, f"/console/shipments/{theirs}")
        assert status == 404 and "<h1>404 Not Found</h1><p>No such shipment.</p>" in text
        form = {"alert": str(alert), "note": "x", "reason": "x", "assignee": "bob",
                "notice": str(notice.id), "until": "2026-11-24T00:00"}  # fmt: skip
        for action in ACTIONS:
            status, _ = await post(http, f"/console/shipments/{theirs}/{action}", form, csrf)
            assert status == 404, action
        # Their own shipment's page does not take another store's alert or notice either.
        mine = console.ids["other"]
        for action in ("resolve", "snooze", "assign", "resend"):
            status, _ = await post(http, f"/console/shipments/{mine}/{action}", form, csrf)
            assert status == 400, action
    assert all(a.state is AlertState.OPEN for a in await console.store.alerts_for(theirs))
    assert await console.store.staff_actions(theirs) == []
    assert (await console.store.alert_triage(theirs))[alert] == (None, None)


async def test_an_operator_sees_every_store(console: Console) -> None:
    async with console.client() as http:
        await sign_in(http, "root")
        _, text = await page(http, "/console/alerts")
        assert "shop-1001" in text and "other-1001" in text
        _, text = await page(http, "/console/health")
        assert "ups@shop" in text and "ups@other" in text
        assert (await page(http, f"/console/shipments/{console.ids['other']}"))[0] == 200


async def test_the_report_card_is_the_signed_in_accounts_stores(console: Console) -> None:
    """The report card is mounted in the console: it needs a session, and a store's staff
    can pick (and read) only their own store, an operator every store."""
    path = "/console/report?since=2026-11-01&until=2026-11-30"
    async with console.client() as http:
        assert (await page(http, path))[0] == 303  # not signed in
        await sign_in(http, "bob")
        status, text = await page(http, path)
        assert status == 200 and '<option value="other"' in text
        assert '<option value="shop"' not in text and "you may see" in text
        status, csv = await page(http, "/console/report.csv?since=2026-11-01&store=shop")
        assert status == 200 and len(csv.strip().splitlines()) == 1  # the header alone
    async with console.client() as http:
        await sign_in(http, "root")
        _, text = await page(http, path)
        assert '<option value="shop"' in text and '<option value="other"' in text
        _, theirs = await page(http, "/console/report.csv?since=2026-11-01&store=shop")
        assert len(theirs.strip().splitlines()) > 1  # there is something bob was not shown


def _alert_ids(text: str) -> list[str]:
    return re.findall(r'<article class="alert [^"]*" id="alert-(\d+)"', text)


def _link(text: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', text)
    return found.group(1).replace("&amp;", "&") if found else None


async def test_open_alerts_come_100_a_page_with_the_filters_kept(console: Console) -> None:
    await many_alerts(console.store, 150, "usps")
    await many_alerts(console.store, 30, "ups", start=150)
    async with console.client() as http:
        await sign_in(http, "ann")
        _, text = await page(http, "/console/alerts")
        assert "182 open alerts" in text and "1–100 shown" in text
        assert len(_alert_ids(text)) == 100 and _link(text, "prev") is None
        _, text = await page(http, "/console/alerts?carrier=usps&rule=late")
        assert "150 open alerts" in text and _link(text, "prev") is None
        first, following = _alert_ids(text), _link(text, "next")
        assert len(first) == 100 and following is not None
        assert "carrier=usps" in following and "rule=late" in following
        _, text = await page(http, following)
        rest = _alert_ids(text)
        assert "101–150 shown" in text and len(rest) == 50 and _link(text, "next") is None
        assert len(set(first) | set(rest)) == 150 and "(ups " not in text
        back = _link(text, "prev")
        assert back is not None and "carrier=usps" in back
        assert _alert_ids((await page(http, back))[1]) == first
        _, text = await page(http, "/console/alerts?page=9")  # past the end: none, counted
        assert "182 open alerts" in text and _alert_ids(text) == [] and _link(text, "prev")


async def test_staff_erase_a_customer_of_their_own_store_after_seeing_what_goes(
    console: Console,
) -> None:
    store = console.store
    async with console.client() as http:
        await sign_in(http, "ann")
        csrf = await token(http)
        status, text = await page(http, "/console/forget?email=buyer%40other.example")
        assert status == 200 and "no shipments of buyer@other.example in store shop" in text
        status, text = await page(http, "/console/forget?email=BUYER%40shop.example")
        assert "would erase BUYER@shop.example in store shop: 1 shipments" in text
        assert await store.find_shipments(None, "buyer@shop.example")  # a preview erases nothing
        form = {"email": "buyer@shop.example", "confirm": "yes", "store": "other"}
        assert (await post(http, "/console/forget", form, None))[0] == 403  # no CSRF token
        assert (await post(http, "/console/forget", form, csrf))[0] == 403  # not ann's store
        assert (await post(http, "/console/forget", {**form, "confirm": ""}, csrf))[0] == 400
        assert await store.find_shipments(None, "buyer@shop.example")
        status, text = await post(http, "/console/forget", {**form, "store": ""}, csrf)
        assert status == 200 and "erased buyer@shop.example in store shop: 1 shipments" in text
    assert await store.find_shipments(None, "buyer@shop.example") == []
    assert len(await store.find_shipments(None, "buyer@other.example")) == 1  # bob's store's
    rows = await execute(console.database, "SELECT staff, store, action, detail FROM staff_actions")
    assert [tuple(r) for r in rows] == [
        ("ann", "shop", "forget customer", "1 shipments erased, 0 held for a second run")]  # fmt: skip
