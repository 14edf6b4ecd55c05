"""A real browser for the tests (tests/test_browser.py): Debian's headless Chromium driven by
selenium through Debian's chromedriver, and the daemon's HTTP app served from a thread.

Chromium that cannot start fails the tests, with what to install; only
TRACKWATCH_ALLOW_NO_BROWSER=1 outside CI lets them skip (a developer's machine), as
tests/postgres.py does for PostgreSQL. Selenium is handed the driver's path, so Selenium
Manager never tries to download a browser or a driver."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver import ChromeOptions
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tests.console_kit import NOW, PASSWORD, accounts, seed
from tests.rulekit import ev
from trackwatch.carrier_state import CarrierState
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.heartbeat import Heartbeat
from trackwatch.metrics import Metrics
from trackwatch.model import Alert, Outcome, Status, TrackingResult
from trackwatch.quota import Quota
from trackwatch.store import Store, open_store
from trackwatch.store.records import PollUpdate, StaffAction
from trackwatch.web.console import ConsoleDesk
from trackwatch.web.ops import Vitals
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import Served, build_app, serve
from trackwatch.web.signing import ReportLinks

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS_ENV = "TRACKWATCH_SCREENSHOTS"
# Chromium asks every site for one; the app has none, and its 404 is no fault of a page.
_HARMLESS = ("favicon.ico",)

T = TypeVar("T")


def _options() -> ChromeOptions:
    options = ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # --no-sandbox: Chromium's sandbox refuses to run as root (CI containers).
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,900", "--lang=en-US"):  # fmt: skip
        options.add_argument(argument)
    # The performance log carries each response's HTTP status, the browser log its errors.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return options


def _unavailable(reason: str) -> NoReturn:
    message = (f"headless Chromium cannot start ({reason}): install Debian's chromium and "
               "chromium-driver (apt-get install chromium chromium-driver; .ci/run does), or "
               "set TRACKWATCH_ALLOW_NO_BROWSER=1 to skip the browser tests on this machine")  # fmt: skip
    if os.environ.get("TRACKWATCH_ALLOW_NO_BROWSER") == "1" and not os.environ.get("CI"):
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


def start_chromium() -> WebDriver:
    """Debian's Chromium under Debian's chromedriver, or the test fails saying why."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.exists():
            _unavailable(f"no {program}")
    try:
        return WebDriver(options=_options(), service=Service(str(CHROMEDRIVER)))
    except WebDriverException as error:
        _unavailable(error.msg or type(error).__name__)


@dataclass
class Browser:
    """The driver, and where its screenshots go. Every page it lands on is checked: the
    HTTP status expected, nothing broken in the browser's log (a stylesheet not found, a
    script error)."""

    driver: WebDriver
    shots: Path

    def open(self, url: str, shot: str | None = None, status: int = 200) -> str:
        self.driver.get(url)
        return self._landed(shot, status)

    def click(self, element: WebElement, shot: str | None = None, status: int = 200) -> str:
        """Clicks a link or a form's button and waits for the next page."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.driver, 10).until(lambda _: _left(old))
        return self._landed(shot, status)

    def submit(self, form: WebElement, shot: str | None = None, status: int = 200) -> str:
        return self.click(form.find_element(By.TAG_NAME, "button"), shot, status)

    def forget(self) -> Browser:
        """Signed out of everything: a test starts without the last one's session."""
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        for kind in ("performance", "browser"):  # drained: the next page's alone count
            self.log(kind)
        return self

    def _landed(self, shot: str | None, status: int) -> str:
        assert self.statuses()[-1:] == [status], self.driver.current_url
        errors = [e["message"] for e in self.log("browser")
                  if e["level"] == "SEVERE" and not any(h in e["message"] for h in _HARMLESS)]  # fmt: skip
        if status != 200:  # Chromium logs the page's own status as an error
            errors = [e for e in errors if f"status of {status}" not in e]
        assert errors == [], errors
        if shot is not None:
            self.screenshot(shot)
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def log(self, kind: str) -> list[dict[str, Any]]:
        """Chromium's `kind` log since the last call (reading it empties it)."""
        return list(self.driver.get_log(kind))  # type: ignore[no-untyped-call]

    def statuses(self) -> list[int]:
        """The HTTP status of each page loaded since the last call (the performance log's
        document responses; a redirect's own 303 is not one of them)."""
        found = []
        for entry in self.log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.responseReceived" and params["type"] == "Document":
                found.append(int(params["response"]["status"]))
        return found

    def screenshot(self, name: str) -> Path:
        """The whole page, not only the window, as a PNG; copied to $TRACKWATCH_SCREENSHOTS."""
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                           {"format": "png", "captureBeyondViewport": True})  # fmt: skip
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        if wanted := os.environ.get(SHOTS_ENV):
            Path(wanted).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(wanted) / path.name)
        return path


def by_name(form: WebElement, name: str) -> WebElement:
    return form.find_element(By.NAME, name)


class _Loop:
    """An event loop in a thread of its own: selenium's calls block the test's thread, so
    the server it talks to cannot run on the test's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


SETTINGS = {
    "daemon": {"http_port": 0},
    "stores": {"shop": {"name": "Shop", "contact_email": "help@shop.example",
                        "tracking_page": {"enabled": True, "brand_colour": "#2e7d32"}},
               "other": {"name": "Other"}},
}  # fmt: skip


@dataclass
class Site:
    """The daemon's app (the console, the report card, the tracking page) over a real SQLite
    file with tests/console_kit.py's two stores, parcels, alerts and staff."""

    loop: _Loop
    store: Store
    served: Served
    ids: dict[str, int]
    password: str = PASSWORD

    @classmethod
    @contextlib.contextmanager
    def running(cls, database: Path) -> Iterator[Site]:
        loop = _Loop()
        try:
            site = loop.run(_start(loop, str(database)))
            try:
                yield site
            finally:
                loop.run(site.served.stop())
                loop.run(site.store.close())
        finally:
            loop.close()

    def url(self, path: str) -> str:
        return self.served.base_url + path

    def alerts(self, shipment_id: int) -> list[Alert]:
        return self.loop.run(self.store.alerts_for(shipment_id))

    def alert_id(self, shipment_id: int, rule: str) -> int:
        return next(a.id for a in self.alerts(shipment_id) if a.rule == rule)

    def actions(self, shipment_id: int) -> list[StaffAction]:
        return self.loop.run(self.store.staff_actions(shipment_id))


async def _start(loop: _Loop, database: str) -> Site:
    settings = build_settings(SETTINGS)
    store = await open_store(database)
    ids = await seed(store, database)
    await accounts(store)
    scan = ev(NOW, Status.IN_TRANSIT, "Arrived at facility")
    result = TrackingResult(tracking_number="1Z5R89390357567127", outcome=Outcome.FOUND,
                            status=Status.IN_TRANSIT, events=[scan])  # fmt: skip
    await store.apply_polls([PollUpdate(ids["shop"], NOW, NOW, result)])
    clock = FrozenClock(NOW)
    report = ReportDesk(store, clock, settings, ReportLinks(b"k" * 32, ""), wake=lambda: None)
    quotas = {k: Quota(k, 100, "hour", clock, store) for k in ("ups@shop", "ups@other")}
    health = CarrierState(settings.daemon)
    vitals = Vitals(store, clock, Metrics(), Heartbeat(), quotas, health, sorted(quotas))
    desk = ConsoleDesk(report, store, await store.secret("console"), vitals)
    served = await serve(build_app(report, vitals, desk), settings.daemon)
    return Site(loop, store, served, ids)


def _left(old: WebElement) -> bool:
    """Whether the page `old` belonged to is gone. Chromium answers a node of a page being
    replaced either as stale or, in the moment between, as an inspector error ("does not
    belong to the document"): both mean the next page is coming."""
    try:
        old.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False
