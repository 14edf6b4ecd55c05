"""`trackwatch bench-console`: how fast the staff console's pages render over HTTP with a
large store behind them (issue 20's target: under 100 ms with 100,000 shipments and 10,000
open alerts).

It fills a fresh database through the store's own batch methods (add_shipments, apply_polls,
apply_evaluation: the rows the daemon writes), starts the real app on 127.0.0.1, signs in
as an operator and as one store's staff, and times each page: median and p95 of N requests
after a warm-up. The clock is frozen at NOW so the report card's 30 days hold the data."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from trackwatch.carrier_state import CarrierState
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.heartbeat import Heartbeat
from trackwatch.metrics import Metrics
from trackwatch.model import (
    Audience,
    Finding,
    Outcome,
    Place,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.quota import Quota
from trackwatch.staff import hash_password
from trackwatch.store import Store, open_store
from trackwatch.store.records import (
    OPERATOR,
    STAFF,
    AlertOpen,
    Evaluation,
    NoticeDraft,
    PollUpdate,
    StaffAccount,
)

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
STORES = tuple(f"store{i}" for i in range(10))
CARRIERS = ("ups", "usps", "fedex", "dhl")
COUNTRIES = ("US", "US", "CA", "GB", "DE")
RULES = (("stalled", Severity.WARNING), ("late", Severity.WARNING),
         ("lost", Severity.URGENT), ("exception", Severity.URGENT),
         ("delivered_not_received", Severity.INFO))  # fmt: skip
PASSWORD = "bench console password"
BATCH = 5000
TARGET_MS = 100.0


def _number(n: int) -> str:
    return f"1ZBENCH{n:011d}"


def _parcel(n: int) -> Shipment:
    return Shipment(
        store=STORES[n % len(STORES)], carrier=CARRIERS[n % len(CARRIERS)],
        tracking_number=_number(n), order_id=f"#{100000 + n}",
        customer_email=f"Customer{n}@Example.org", destination_country=COUNTRIES[n % 5],
        destination_postal_code="10001" if COUNTRIES[n % 5] == "US" else "",
        shipped_at=NOW - timedelta(days=n % 45, hours=n % 24),
    )  # fmt: skip


def _polled(sid: int, n: int) -> PollUpdate:
    """Two scans; four parcels in five delivered (some late against the carrier's ETA)."""
    shipped = NOW - timedelta(days=n % 45, hours=n % 24)
    delivered = n % 5 != 0
    last = shipped + timedelta(days=2 + n % 6, hours=3)
    events = [TrackingEvent(occurred_at=shipped + timedelta(hours=6), status=Status.IN_TRANSIT,
                            code="I", description="Departed facility",
                            place=Place(city="Louisville", state="KY", country="US"))]  # fmt: skip
    if delivered and last < NOW:
        events.append(TrackingEvent(occurred_at=last, status=Status.DELIVERED, code="D",
                                    description="Delivered", place=Place(country="US")))  # fmt: skip
    status = Status.DELIVERED if len(events) == 2 else Status.IN_TRANSIT
    result = TrackingResult(tracking_number=_number(n), outcome=Outcome.FOUND, events=events,
                            status=status, eta=shipped + timedelta(days=5))  # fmt: skip
    return PollUpdate(sid, NOW - timedelta(hours=1), NOW + timedelta(hours=4), result)


def _opening(sid: int, n: int, store: str) -> AlertOpen:
    rule, severity = RULES[(n // 7) % len(RULES)]
    finding = Finding(rule=rule, episode=f"bench-{n}", severity=severity,
                      audiences=(Audience.STAFF,), summary=f"{rule}: parcel {n}",
                      action="Call the carrier and open a trace.",
                      explanation={"threshold": "3 business days", "days counted": "4",
                                   "policy key": "stall.domestic_business_days"})  # fmt: skip
    draft = NoticeDraft("opened", Audience.STAFF, "staff_chat.0", store, f"{rule} {n}",
                        f"Parcel {n}: {rule}.")  # fmt: skip
    return AlertOpen(sid, finding, (draft,))


async def fill(store: Store, shipments: int, alerts: int) -> list[int]:
    """`shipments` parcels, polled, and open alerts on the first `alerts`; returns the ids."""
    ids: list[int] = []
    for start in range(0, shipments, BATCH):
        numbers = range(start, min(start + BATCH, shipments))
        added = await store.add_shipments([_parcel(n) for n in numbers], NOW - timedelta(days=46))
        batch = [sid for sid, _ in added]
        await store.apply_polls([_polled(sid, n) for sid, n in zip(batch, numbers, strict=True)])
        ids += batch
    for start in range(0, min(alerts, shipments), BATCH):
        numbers = range(start, min(start + BATCH, alerts, shipments))
        opens = [_opening(ids[n], n, STORES[n % len(STORES)]) for n in numbers]
        await store.apply_evaluation(Evaluation(opens=opens), NOW - timedelta(days=1))
    return ids


@dataclass(frozen=True)
class Figure:
    page: str
    viewer: str
    median_ms: float
    p95_ms: float
    size: int

    @property
    def meets(self) -> bool:
        return self.p95_ms < TARGET_MS


async def _time(http: aiohttp.ClientSession, path: str, runs: int, warm: int) -> Figure:
    took, size = [], 0
    for i in range(warm + runs):
        start = time.perf_counter()
        async with http.get(path, allow_redirects=False) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
        if i >= warm:
            took.append((time.perf_counter() - start) * 1000)
        size = len(body)
    took.sort()
    p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
    return Figure(path, "", statistics.median(took), p95, size)


def pages(sid: int, n: int) -> list[str]:
    """Every console page, with the alerts page's each filter, for the parcel `n` (id `sid`)."""
    parcel = _parcel(n)
    return [
        "/console/alerts", "/console/alerts?store=store1", "/console/alerts?rule=stalled",
        "/console/alerts?severity=urgent", "/console/alerts?carrier=usps",
        "/console/alerts?snoozed=on", "/console/alerts?page=5", f"/console/shipments/{sid}",
        f"/console/search?q={parcel.order_id.replace('#', '%23')}",
        f"/console/search?q={parcel.tracking_number}",
        f"/console/search?q={parcel.customer_email.lower()}", "/console/health",
        "/console/report",
    ]  # fmt: skip


async def _sign_in(http: aiohttp.ClientSession, login: str) -> None:
    async with http.get("/console/login") as response:
        text = await response.text()
    token = text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"login": login, "password": PASSWORD, "csrf": token}
    async with http.post("/console/login", data=form, allow_redirects=False) as response:
        if response.status != 303:
            raise RuntimeError(f"sign-in as {login}: HTTP {response.status}")


def _settings() -> Settings:
    return build_settings({"daemon": {"http_port": 0, "http_host": "127.0.0.1"},
                           "stores": {s: {"name": s.title()} for s in STORES}})  # fmt: skip


async def measure(store: Store, ids: Sequence[int], runs: int, warm: int) -> list[Figure]:
    """Serve the real app over `store` and time every page for each viewer."""
    from trackwatch.web.console import ConsoleDesk  # noqa: PLC0415 (the app's weight)
    from trackwatch.web.ops import Vitals  # noqa: PLC0415
    from trackwatch.web.report_page import ReportDesk  # noqa: PLC0415
    from trackwatch.web.server import build_app, serve  # noqa: PLC0415
    from trackwatch.web.signing import ReportLinks  # noqa: PLC0415

    settings, clock = _settings(), FrozenClock(NOW)
    hashed = hash_password(PASSWORD)
    for account in (StaffAccount("root", OPERATOR, None, hashed),
                    StaffAccount("ann", STAFF, "store0", hashed)):  # fmt: skip
        await store.add_staff(account, NOW)
    report = ReportDesk(store, clock, settings, ReportLinks(b"k" * 32, ""), wake=lambda: None)
    keys = [*CARRIERS, *(f"{c}@{s}" for c in CARRIERS for s in STORES[:2])]
    quotas = {k: Quota(k, 1000, "hour", clock, store) for k in keys}
    vitals = Vitals(store, clock, Metrics(), Heartbeat(), quotas, CarrierState(settings.daemon),
                    sorted(quotas))  # fmt: skip
    desk = ConsoleDesk(report, store, await store.secret("console"), vitals)
    served = await serve(build_app(report, vitals, desk), settings.daemon)
    figures = []
    try:
        for login, n in (("root", 11), ("ann", 10)):  # parcel 10 is store0's, with an alert
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(served.base_url, cookie_jar=jar) as http:
                await _sign_in(http, login)
                for path in pages(ids[n], n):
                    got = await _time(http, path, runs, warm)
                    figures.append(Figure(got.page, login, got.median_ms, got.p95_ms, got.size))
    finally:
        await served.stop()
    return figures


def render(figures: Sequence[Figure], header: str) -> str:
    lines = [header, f"{'page':<44} {'viewer':<6} {'median ms':>9} {'p95 ms':>8} "
             f"{'KiB':>7}  < {TARGET_MS:.0f} ms"]  # fmt: skip
    for f in figures:
        lines.append(f"{f.page[:44]:<44} {f.viewer:<6} {f.median_ms:>9.1f} {f.p95_ms:>8.1f} "
                     f"{f.size / 1024:>7.1f}  {'yes' if f.meets else 'NO'}")  # fmt: skip
    slow = [f for f in figures if not f.meets]
    lines.append(f"{len(figures) - len(slow)} of {len(figures)} pages meet {TARGET_MS:.0f} ms "
                 "(p95)" + ("" if not slow else f"; slow: {', '.join(f.page for f in slow)}"))  # fmt: skip
    return "\n".join(lines)


async def run_bench_console(
    shipments: int, alerts: int, database: str | None, runs: int, warm: int
) -> tuple[str, bool]:
    """Fill, serve, time; returns the table and whether every page met the target."""
    with tempfile.TemporaryDirectory() as tmp:
        where = database or str(Path(tmp) / "bench-console.db")
        store = await open_store(where)
        try:
            start = time.perf_counter()
            ids = await fill(store, shipments, alerts)
            filled = time.perf_counter() - start
            reading = await _reading_ms(store)
            figures = await measure(store, ids, runs, warm)
        finally:
            await store.close()
    backend = "PostgreSQL" if where.startswith("postgres") else "SQLite"
    header = (f"bench-console: {backend}, {shipments} shipments, {min(alerts, shipments)} "
              f"open alerts (filled in {filled:.1f} s), {runs} requests per page after "
              f"{warm} warm-up")  # fmt: skip
    table = render(figures, header) + (
        f"\nthe report card's reading of every store's last 30 days: {reading:.0f} ms (the page "
        "serves a reading at most 5 minutes old; this runs in the background, as the daemon "
        "starts and when a person views a card older than that)")  # fmt: skip
    return table, all(f.meets for f in figures)


async def _reading_ms(store: Store) -> float:
    """What one reading of the report card costs (trackwatch.reportcard.cache): the page
    does not wait for it once a period has been read."""
    from trackwatch.reportcard.figures import read_card  # noqa: PLC0415
    from trackwatch.reportcard.period import period_of  # noqa: PLC0415
    from trackwatch.reportcard.promised import origins, policy_promise  # noqa: PLC0415

    settings = _settings()
    start = time.perf_counter()
    await read_card(store, period_of(None, None, None, NOW), origins(settings),
                    policy_promise(settings))  # fmt: skip
    return (time.perf_counter() - start) * 1000
