"""The staff console and the store's tracking page in a real browser (issue 20, item 5):
Debian's headless Chromium, driven by selenium through Debian's chromedriver, against the
daemon's real HTTP app on 127.0.0.1 over a real SQLite file and a frozen clock
(tests/browser.py).

Sign in, find a parcel, open its page, resolve an alert and see the database and the page
change; another store's staff are denied the parcel and see none of its alerts; on the
tracking page a wrong email gets the unknown order's page and the right one the parcel.
Every page is checked for its HTTP status and a clean browser log (nothing failed to load),
and written as a PNG under the test's tmp path, copied to $TRACKWATCH_SCREENSHOTS when set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser import Browser, Site, by_name, start_chromium
from trackwatch.model import AlertState

NUMBER = "1Z5R89390357567127"  # shop's parcel (tests/console_kit.py)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One Chromium for the module: starting it is most of a test's time."""
    driver = start_chromium()
    try:
        yield Browser(driver, tmp_path_factory.mktemp("screenshots"))
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: Browser) -> Browser:
    return chromium.forget()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with Site.running(tmp_path / "tw.db") as running:
        yield running


def sign_in(browser: Browser, site: Site, login: str) -> None:
    browser.open(site.url("/console/login"), "sign-in")
    form = browser.driver.find_element(By.CSS_SELECTOR, "form.card")
    by_name(form, "login").send_keys(login)
    by_name(form, "password").send_keys(site.password)
    browser.submit(form)
    assert browser.driver.current_url == site.url("/console/alerts")
    assert browser.driver.find_element(By.CSS_SELECTOR, "form.who span").text.startswith(login)


def test_staff_sign_in_find_a_parcel_and_resolve_its_alert(browser: Browser, site: Site) -> None:
    sid = site.ids["shop"]
    lost = site.alert_id(sid, "lost")
    sign_in(browser, site, "ann")
    page = browser.open(site.url("/console/alerts"), "alerts")
    assert "lost: call the carrier" in page and "shop-1001" in page and "other-1001" not in page
    assert "Watch it" in browser.open(site.url("/console/watch"), "watch")
    search = browser.driver.find_element(By.CSS_SELECTOR, "header form.search")
    by_name(search, "q").send_keys(NUMBER)
    page = browser.submit(search, "search")
    assert "1 shipment found." in page and NUMBER in page
    page = browser.click(browser.driver.find_element(By.LINK_TEXT, str(sid)), "shipment")
    assert "Order shop-1001" in page and "Arrived at facility" in page
    alert = browser.driver.find_element(By.ID, f"alert-{lost}")
    resolve = alert.find_element(By.CSS_SELECTOR, "form[action$='/resolve']")
    by_name(resolve, "note").send_keys("found at the depot")
    page = browser.submit(resolve, "shipment-resolved")
    assert browser.driver.current_url == site.url(f"/console/shipments/{sid}")
    shown = browser.driver.find_element(By.ID, f"alert-{lost}").text
    assert "resolved" in shown and "by hand: found at the depot (by ann)" in shown
    assert "ann: resolve" in page  # the staff actions list
    resolved = {a.id: a for a in site.alerts(sid)}[lost]
    assert resolved.state is AlertState.RESOLVED
    assert "found at the depot" in str(resolved.resolution)
    assert [(a.staff, a.action) for a in site.actions(sid)] == [("ann", "resolve")]


def test_each_console_page_renders_with_its_stylesheet(browser: Browser, site: Site) -> None:
    sign_in(browser, site, "root")
    for path, name, words in (("/console/alerts", "alerts-operator", "other-1001"),
                              ("/console/health", "health", "ups@shop")):  # fmt: skip
        page = browser.open(site.url(path), name)
        assert words in page, path
        # console.css paints the page: a missing or blocked stylesheet leaves it white.
        background = browser.driver.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        assert background == "rgb(246, 247, 249)", path
    page = browser.open(site.url("/console/report?since=2026-11-01&until=2026-11-30"), "report")
    assert "Carriers' report card" in page and "US → US" in page
    # Its three charts, drawn inline; no script in them (the page's policy runs none, and
    # the browser would log each one it blocked: the Browser's check).
    assert len(browser.driver.find_elements(By.CSS_SELECTOR, "svg.pygal-chart")) == 3
    assert "<script" not in browser.driver.page_source


def test_another_stores_staff_are_denied_the_parcel_and_its_alerts(
    browser: Browser, site: Site
) -> None:
    theirs, mine = site.ids["shop"], site.ids["other"]
    sign_in(browser, site, "bob")
    page = browser.open(site.url("/console/alerts"), "alerts-other-store")
    assert "other-1001" in page  # bob's own alerts are there...
    assert "shop-1001" not in page and "shop body" not in page  # ...and none of shop's
    assert "No open alerts." in browser.open(site.url("/console/alerts?store=shop"))
    page = browser.open(site.url(f"/console/search?q={NUMBER}"))
    assert "0 shipments found." in page
    page = browser.open(site.url(f"/console/shipments/{theirs}"), "denied", status=404)
    assert "No such shipment." in page and NUMBER not in page
    assert "other-1001" in browser.open(site.url(f"/console/shipments/{mine}"))
    assert all(a.state is AlertState.OPEN for a in site.alerts(theirs))
    assert site.actions(theirs) == []


def test_the_tracking_page_refuses_a_wrong_email_and_shows_the_right_one(
    browser: Browser, site: Site
) -> None:
    def look_up(order: str, email: str, shot: str, status: int) -> str:
        browser.open(site.url("/track/shop"), "tracking-form")
        form = browser.driver.find_element(By.TAG_NAME, "form")
        by_name(form, "order").send_keys(order)
        by_name(form, "email").send_keys(email)
        return browser.submit(form, shot, status)

    wrong = look_up("shop-1001", "someone.else@example.org", "tracking-wrong-email", 404)
    unknown = look_up("shop-4242", "Buyer@shop.example", "tracking-unknown-order", 404)
    assert wrong == unknown and "could not find an order" in wrong and NUMBER not in wrong
    right = look_up("shop-1001", "buyer@SHOP.example", "tracking-found", 200)
    assert "Order shop-1001" in right and NUMBER in right and "Arrived at facility" in right
    assert "help@shop.example" in right
    heading = browser.driver.execute_script(
        "return getComputedStyle(document.querySelector('h1')).color"
    )
    assert heading == "rgb(46, 125, 50)"  # the store's brand colour, #2e7d32
