"""The store's own tracking page (/track/<store>), served by the daemon's HTTP app on
127.0.0.1 over a real database: a parcel shown only for its order number and email (or a
signed link of this purpose), the same refusal for a wrong email and an unknown order,
lookups limited per client and per order, no other store's parcels, the store's promise
in its own words, and notice links that follow the store's setting."""

from __future__ import annotations

import html
import io
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import both_backends
from tests.rulekit import at, ev, fires, view
from trackwatch.clock import FrozenClock
from trackwatch.config import ConfigError, Settings, build_settings
from trackwatch.logs import configure
from trackwatch.model import Audience, Direction, Outcome, Shipment, Status, TrackingResult
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter, Pacing
from trackwatch.notify.render import Renderer
from trackwatch.policy import StorePolicy
from trackwatch.store import Store, open_store
from trackwatch.store.records import PollUpdate
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import Served, build_app, serve
from trackwatch.web.signing import REPORT_PATH, TRACK_PURPOSE, ReportLinks, track_link_path
from trackwatch.web.tracking_view import parcel_view

ROOT = Path(__file__).resolve().parent.parent
TOY_POLICY = str(ROOT / "deploy" / "policies" / "custom-toy-store.toml")
SECRET = b"t" * 32
EMAIL = "Ada.Lovelace@Example.org"
STALL_WORDS = "If your tracking hasn't updated in more than 3 business days"
TRANSIT_WORDS = "Handed to carrier with tracking (4-7 business days transit)"
PAGE = {"enabled": True, "brand_colour": "#C0392B", "contact_phone": "+1 555 010 0200",
        "lookups_per_client_per_hour": 5, "lookups_per_order_per_hour": 2}  # fmt: skip


def settings_with(**stores: dict[str, Any]) -> Settings:
    return build_settings({"daemon": {"http_port": 0}, "stores": stores})


SETTINGS: dict[str, dict[str, Any]] = {
    "toy": {"name": "JetoyUSA", "contact_email": "support@jetoyusa.example",
            "policy_file": TOY_POLICY, "tracking_page": PAGE},
    "other": {"name": "Casesora", "contact_email": "help@casesora.example",
              "tracking_page": {"enabled": True}},
    "plain": {"name": "Plain Shop"},
}  # fmt: skip


@dataclass
class Site:
    store: Store
    clock: FrozenClock
    links: ReportLinks
    served: Served

    def page(self, store: str = "toy") -> str:
        return f"{self.served.base_url}/track/{store}"

    def link(self, shipment_id: int, store: str = "toy", days: int = 30) -> str:
        token = self.links.token(shipment_id, self.clock.now() + timedelta(days=days),
                                 TRACK_PURPOSE)  # fmt: skip
        return self.served.base_url + track_link_path(store, token)


@pytest.fixture
async def site(database: str) -> AsyncIterator[Site]:
    settings = settings_with(**SETTINGS)
    clock = FrozenClock(at(11, 26, 9))
    store = await open_store(database)
    links = ReportLinks(SECRET, "")
    served = await serve(build_app(ReportDesk(store, clock, settings, links)), settings.daemon)
    links.base_url = served.base_url
    yield Site(store, clock, links, served)
    await served.stop()
    await store.close()


async def add(site: Site, number: str, store: str = "toy", order: str = "1001",
              email: str = EMAIL, eta: datetime | None = None, **fields: Any) -> int:  # fmt: skip
    sid = await site.store.add_shipment(Shipment(
        store=store, carrier="usps", tracking_number=number, order_id=order,
        customer_email=email, destination_postal_code="10001", shipped_at=at(11, 23, 9),
        ordered_at=at(11, 20, 9), **fields), at(11, 23, 9))  # fmt: skip
    result = TrackingResult(tracking_number=number, outcome=Outcome.FOUND, eta=eta,
                            status=Status.IN_TRANSIT,
                            events=[ev(at(11, 25, 12), Status.IN_TRANSIT, "Arrived at facility")])  # fmt: skip
    await site.store.apply_polls([PollUpdate(sid, at(11, 25, 13), at(11, 26, 13), result)])
    return sid


async def call(method: str, url: str, **form: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, \
            http.request(method, url, data=form or None) as response:  # fmt: skip
        # The page as a reader sees it: entities (an escaped apostrophe) read as characters.
        return response.status, html.unescape(await response.text()), dict(response.headers)


async def look_up(site: Site, order: str, email: str, store: str = "toy") -> tuple[int, str]:
    status, text, _ = await call("POST", site.page(store), order=order, email=email)
    return status, text


@both_backends
async def test_order_and_email_show_the_parcel_and_the_stores_promise(site: Site) -> None:
    await add(site, "9400100000000000000011")
    # Another case, spaces and the shop's '#': still the order and its customer.
    status, text = await look_up(site, " #1001 ", "  ada.lovelace@EXAMPLE.ORG ")
    assert status == 200
    assert "Order 1001" in text and "9400100000000000000011" in text
    assert "On its way with USPS." in text and "Arrived at facility in New York" in text
    # No carrier estimate: the store's own delivery times, quoted, give the due date; what
    # happens next is the store's own sentence about a quiet parcel.
    assert "Due by " in text and f"JetoyUSA's delivery times (“{TRANSIT_WORDS}”)" in text
    assert f"“{STALL_WORDS}”" in text
    assert "JetoyUSA" in text and "#c0392b" in text and "support@jetoyusa.example" in text
    assert 'href="tel:+15550100200"' in text


@both_backends
async def test_a_wrong_email_and_an_unknown_order_get_the_same_page(site: Site) -> None:
    await add(site, "9400100000000000000011")
    await add(site, "9400100000000000000028", order="1002", email="")  # no email: no match
    wrong = await look_up(site, "1001", "someone.else@example.org")
    unknown = await look_up(site, "4242", EMAIL)
    no_email = await look_up(site, "1002", "anything@example.org")
    assert wrong == unknown == no_email
    assert wrong[0] == 404 and "could not find an order" in wrong[1]
    assert "94001" not in wrong[1]


@both_backends
async def test_another_stores_order_is_never_shown_under_this_stores_page(site: Site) -> None:
    theirs = await add(site, "9400100000000000000035", store="other")
    assert await look_up(site, "1001", EMAIL) == await look_up(site, "4242", EMAIL)
    status, text, _ = await call("GET", site.link(theirs, store="toy"))
    assert status == 400 and "94001" not in text
    status, text, _ = await call("GET", site.link(theirs, store="other"))
    assert status == 200 and "9400100000000000000035" in text and "Casesora" in text


@both_backends
async def test_a_signed_link_shows_each_parcel_of_the_order(site: Site) -> None:
    first = await add(site, "9400100000000000000011")
    await add(site, "9400100000000000000028", eta=at(11, 30, 20))
    await add(site, "9400100000000000000042", email="stranger@example.org")  # not theirs
    await add(site, "9400100000000000000059", order="1003")
    status, text, _ = await call("GET", site.link(first))
    assert status == 200
    assert "Parcel 1 of 2" in text and "Parcel 2 of 2" in text
    assert "USPS expects to deliver it by Monday 30 November." in text
    assert "9400100000000000000042" not in text and "9400100000000000000059" not in text


async def test_tampered_expired_and_report_links_are_refused(site: Site) -> None:
    sid = await add(site, "9400100000000000000011")
    good = site.link(sid)
    token = good.rsplit("/", 1)[1]
    tampered = good[:-1] + ("B" if good.endswith("A") else "A")
    report = site.served.base_url + track_link_path("toy", site.links.token(sid, at(12, 20)))
    for url in (tampered, report, site.page() + "/link/garbage", site.page() + "/link/"):
        status, text, _ = await call("GET", url)
        assert status == 400 and "This link is not valid" in text and "94001" not in text
    expired = site.link(sid, days=-1)
    status, text, _ = await call("GET", expired)
    assert status == 410 and "94001" not in text
    # And a tracking link is no report link: the report page refuses it, and records nothing.
    for method in ("GET", "POST"):
        status, _, _ = await call(method, f"{site.served.base_url}{REPORT_PATH}{token}")
        assert status == 400
    shipment = await site.store.get_shipment(sid)
    assert shipment is not None and shipment.missing_reported_at is None


async def test_lookups_are_limited_per_order_and_per_client(site: Site) -> None:
    await add(site, "9400100000000000000011")
    assert (await look_up(site, "1001", EMAIL))[0] == 200
    site.clock.advance(timedelta(minutes=10))
    assert (await look_up(site, "#1001", "guess@example.org"))[0] == 404
    # The order's 2 lookups an hour are spent, whoever asks, known email or not.
    status, text, headers = await call("POST", site.page(), order="1001", email=EMAIL)
    assert status == 429 and "94001" not in text
    assert headers["Retry-After"] == str(50 * 60)
    # Other orders from this client, up to its 5 an hour; an unknown order counts the same.
    for order in ("2001", "2002", "2003"):
        assert (await look_up(site, order, EMAIL))[0] == 404
    # (The refused lookup above was not counted.) The client's first lookup, 10 minutes
    # ago, frees a place in 50 minutes.
    status, _, headers = await call("POST", site.page(), order="2004", email=EMAIL)
    assert status == 429 and headers["Retry-After"] == str(50 * 60)
    site.clock.advance(timedelta(hours=1))
    assert (await look_up(site, "1001", EMAIL))[0] == 200


@pytest.mark.parametrize("proxied", [False, True])
async def test_clients_behind_our_proxy_are_told_apart_and_others_cannot_choose(
    database: str, proxied: bool
) -> None:
    """From a configured proxy, X-Forwarded-For names the client; from anyone else it is
    ignored, so a client cannot spread its lookups over addresses it makes up."""
    settings = build_settings({"daemon": {"http_port": 0,
                                          "forwarded_by": ["127.0.0.1"] if proxied else []},
                               "stores": {"toy": SETTINGS["toy"]}})  # fmt: skip
    store = await open_store(database)
    desk = ReportDesk(store, FrozenClock(at(11, 26, 9)), settings, ReportLinks(SECRET, ""))
    served = await serve(build_app(desk), settings.daemon)
    statuses = []
    try:
        async with aiohttp.ClientSession() as http:
            for i in range(6):  # the client limit is 5 an hour; each order once
                forwarded = {"X-Forwarded-For": f"203.0.113.{i % 2}, 127.0.0.1"}
                async with http.post(f"{served.base_url}/track/toy", headers=forwarded,
                                     data={"order": f"30{i}", "email": EMAIL}) as response:  # fmt: skip
                    statuses.append(response.status)
    finally:
        await served.stop()
        await store.close()
    # Two clients behind the proxy, 3 lookups each; one client (the connection) making 6.
    assert statuses == ([404] * 6 if proxied else [404] * 5 + [429])


async def test_a_store_without_the_page_has_none(site: Site) -> None:
    await add(site, "9400100000000000000066", store="plain")
    for store in ("plain", "nosuchstore"):
        status, text, _ = await call("GET", site.page(store))
        assert status == 404 and "no tracking page" in text
        status, text = await look_up(site, "1001", EMAIL, store=store)
        assert status == 404 and "94001" not in text


async def test_the_page_fetches_nothing_and_runs_no_script(site: Site) -> None:
    await add(site, "9400100000000000000011")
    status, text, headers = await call("POST", site.page(), order="1001", email=EMAIL)
    assert status == 200 and "<script" not in text.lower()
    assert re.findall(r'\ssrc="', text) == []  # no logo configured: nothing loads at all
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "img-src 'none'" in policy
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"


async def test_no_customer_data_in_the_logs(site: Site) -> None:
    """Logging as the daemon sets it at DEBUG (trackwatch.logs.configure), every line."""
    sid = await add(site, "9400100000000000000011")
    root, quiet = logging.getLogger(), logging.getLogger("aiosqlite")
    saved = (root.handlers[:], root.level, quiet.level)
    buffer = io.StringIO()
    configure("DEBUG", settings_with(**SETTINGS), journald=False)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        logging.getLogger("trackwatch").debug("the log is on")
        await look_up(site, "1001", EMAIL)
        await look_up(site, "1001", "wrong@example.org")
        await call("GET", site.link(sid))
    finally:
        root.handlers[:], _, _ = saved
        root.setLevel(saved[1])
        quiet.setLevel(saved[2])
    logged = buffer.getvalue().lower()
    assert "the log is on" in logged
    for secret in (EMAIL.lower(), "wrong@example.org", "9400100000000000000011", "1001"):
        assert secret not in logged


def test_the_logo_is_the_stores_https_url_only() -> None:
    store = {"name": "JetoyUSA", "tracking_page": {"enabled": True,
                                                   "logo_url": "https://cdn.jetoy.example/l.png"}}  # fmt: skip
    page = settings_with(toy=store).stores["toy"].tracking_page
    assert page.logo_url == "https://cdn.jetoy.example/l.png"
    for bad in ("http://cdn.jetoy.example/l.png", 'https://x/"onerror=', "javascript:x"):
        with pytest.raises(ConfigError) as caught:
            settings_with(toy={**store, "tracking_page": {"logo_url": bad}})
        assert caught.value.problems[0].startswith("stores.toy.tracking_page.logo_url:")


@pytest.mark.parametrize(
    ("key", "value"),
    [("brand_colour", "red"), ("background_colour", "#12345"), ("text_colour", "#ggg"),
     ("contact_email", "not an address"), ("contact_phone", "call us")],
)  # fmt: skip
def test_bad_branding_is_refused_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(toy={"name": "JetoyUSA", "tracking_page": {key: value}})
    assert caught.value.problems[0].startswith(f"stores.toy.tracking_page.{key}:")


def test_the_page_is_off_unless_enabled() -> None:
    assert settings_with(toy={"name": "JetoyUSA"}).stores["toy"].tracking_page.enabled is False


def _drafted_link(settings: Settings, sid: int) -> str:
    links = ReportLinks(SECRET, "https://shop.example")
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer(), links)
    quiet = view([ev(at(11, 18, 12))], pol=settings.store("toy").policy, id=sid, store="toy",
                 carrier="usps", tracking_number="9400100000000000000011",
                 shipped_at=at(11, 17, 9))  # fmt: skip
    finding = fires("stalled", quiet, at(11, 26, 9))
    assert finding is not None and Audience.CUSTOMER in finding.audiences
    (draft,) = drafter.for_shipment(quiet.shipment, "stalled", finding.severity,
                                    [(Audience.CUSTOMER, "opened")], Pacing(at(11, 26, 9)),
                                    alert=finding)  # fmt: skip
    match = re.search(r"Track it: (\S+)", draft.body)
    assert match is not None
    return match[1]


async def test_notice_links_follow_the_stores_setting(site: Site) -> None:
    channels = {"customer_email": ["mailto://127.0.0.1:2525?from=orders@jetoy.example"]}
    toy = {**SETTINGS["toy"], "channels": channels}
    sid = await add(site, "9400100000000000000011")
    on = _drafted_link(settings_with(toy=toy), sid)
    assert on.startswith("https://shop.example/track/toy/link/")
    off = _drafted_link(settings_with(toy={**toy, "tracking_page": {"enabled": False}}), sid)
    assert off == "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400100000000000000011"
    # The link in the notice opens the page (on this daemon's address), for 90 days.
    path = on.removeprefix("https://shop.example")
    status, text, _ = await call("GET", site.served.base_url + path)
    assert status == 200 and "9400100000000000000011" in text
    site.clock.advance(timedelta(days=91))
    assert (await call("GET", site.served.base_url + path))[0] == 410


def test_customers_are_told_only_what_the_store_promised() -> None:
    toy = settings_with(**SETTINGS).stores["toy"]
    bare = toy.model_copy(update={"policy": StorePolicy()})  # the defaults: nothing promised
    delivered = [ev(at(11, 25, 12), Status.DELIVERED, "Delivered")]
    quiet = [ev(at(11, 18, 12))]
    kw: dict[str, Any] = {"store": "toy", "carrier": "usps", "shipped_at": at(11, 17, 9)}
    for events, status in ((delivered, Status.DELIVERED), (quiet, Status.IN_TRANSIT)):
        shipment = view(events, status=status, ordered_at=at(11, 13, 9), **kw).shipment
        assert parcel_view(shipment, events, bare, at(11, 26, 9)).next_steps == []
        assert parcel_view(shipment, events, bare, at(11, 26, 9)).due == ""
    shipment = view(delivered, status=Status.DELIVERED, **kw).shipment
    steps = parcel_view(shipment, delivered, toy, at(11, 26, 9)).next_steps
    assert steps == ["Wait 24 hours in case of delivery scan delays",
                     "Email us within 30 days of delivery"]  # fmt: skip
    returned = view(delivered, status=Status.DELIVERED, direction=Direction.RETURN, **kw)
    shown = parcel_view(returned.shipment, delivered, toy, at(11, 26, 9))
    assert shown.status == "Delivered back to JetoyUSA." and shown.next_steps == []
