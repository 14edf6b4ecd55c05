"""Every way in, fuzzed (Hypothesis): the real aiohttp app in-process on a real SQLite file,
fed random bodies, paths, headers, CSV files and report links. Whatever arrives:

- the answer is 2xx or 4xx, never 5xx (and the API's is JSON);
- nothing is stored on refusal (rows are counted before and after);
- what is stored can be read back, with dates inside the plausible window;
- a store's token never reaches another store's shipments.

Sizes are kept so the whole module runs in seconds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carriers.numbers import candidates
from tests.rulekit import at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.csv_import import KNOWN, import_csv
from trackwatch.errors import InputError
from trackwatch.fields import WINDOWS, plain_text_problem
from trackwatch.model import Outcome, Shipment, Status, TrackingResult
from trackwatch.store import SqliteStore
from trackwatch.store.records import PollUpdate
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import build_app
from trackwatch.web.shopify import signature
from trackwatch.web.signing import ReportLinks

T = TypeVar("T")
NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)
TOKENS = {"shop": "shop-token-0123456789abcdef", "toys": "toys-token-0123456789abcdef"}
SECRETS = {"shop": "shpss_shop_0123456789abcdef", "toys": "shpss_toys_0123456789abcdef"}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID = {"store": "shop", "order_id": "1001", "carrier": "ups",
         "tracking_number": "1Z5R89390357567127", "shipped_at": "2026-11-20",
         "customer_name": "Ann Lee", "customer_email": "ann@example.com",
         "destination_country": "US", "destination_postal_code": "10001",
         "promised_by": "2026-11-27"}  # fmt: skip
NUMBERS = ["1Z5R89390357567127", "1Z5R89390333788764", "9400111206206406260787",
           "9261290113185417468510", "RR123456785GB", "RB123456785US", "0479666972",
           "232860129044", "GM2951173225174494", "1Z5R89390357567128", "12345"]  # fmt: skip


class Harness:
    """The app on a loop of its own: Hypothesis runs each example synchronously."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, settings: Settings, store: SqliteStore,
        client: TestClient[Any, Any], links: ReportLinks, delivered: dict[str, int], tmp: Path,
    ) -> None:  # fmt: skip
        self.tmp = tmp
        self.loop = loop
        self.settings = settings
        self.store = store
        self.client = client
        self.links = links
        self.delivered = delivered  # a delivered shipment of each store, for report links

    def __repr__(self) -> str:  # Hypothesis prints it with each failing example
        return "Harness()"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def count(self) -> int:
        return len(self.run(self.store.list_shipments(limit=10**9)).shipments)

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, str]:
        async def go() -> tuple[int, bytes, str]:
            async with self.client.request(method, path, **kwargs) as response:
                return response.status, await response.read(), response.content_type

        return self.run(go())


async def _start(tmp: Path) -> tuple[Settings, SqliteStore, TestClient[Any, Any], ReportLinks]:
    settings = build_settings({"daemon": {"http_port": 0, "http_max_body_kib": 16}, "stores": {
        store: {"name": store.title(), "api_token": TOKENS[store],
                "shopify_secret": SECRETS[store]} for store in TOKENS}})  # fmt: skip
    store = await SqliteStore.open(tmp / "fuzz.db")
    links = ReportLinks(b"k" * 32, "")
    desk = ReportDesk(store, FrozenClock(NOW), settings, links)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(desk)))
    await client.start_server()
    return settings, store, client, links


async def _delivered(store: SqliteStore, name: str, number: str) -> int:
    sid = await store.add_shipment(Shipment(
        store=name, carrier="usps", tracking_number=number, order_id="D1",
        customer_email="d@example.com", shipped_at=at(11, 20)), at(11, 20))  # fmt: skip
    result = TrackingResult(tracking_number=number, outcome=Outcome.FOUND, status=Status.DELIVERED,
                            events=[ev(at(11, 22, 12), Status.DELIVERED, "Delivered")])  # fmt: skip
    await store.apply_polls([PollUpdate(sid, at(11, 22, 13), at(11, 23, 13), result)])
    return sid


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    loop = asyncio.new_event_loop()
    tmp = tmp_path_factory.mktemp("fuzz")
    try:
        config, store, client, links = loop.run_until_complete(_start(tmp))
        delivered = {name: loop.run_until_complete(_delivered(store, name, number))
                     for name, number in [("shop", "9400111206206406260787"),
                                          ("toys", "9405803699300124287899")]}  # fmt: skip
        yield Harness(loop, config, store, client, links, delivered, tmp)
        loop.run_until_complete(client.close())
        loop.run_until_complete(store.close())
    finally:
        loop.close()


# --- what arrives ---------------------------------------------------------------------------

# Text with the characters that broke things: control characters, line breaks, lone
# surrogates, non-ASCII digits, separators of email lists.
odd_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30) | st.sampled_from(
    ["²", "٣", "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-12:00", "a@x.com,b@y.com",
     "Royal Mail", "UPS", "Other", "+12015550123", "XX", "gb", "\x00", "\r\n", "\u2028",
     "1" * 30, "-1", ""])  # fmt: skip
json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63)
                | st.floats() | odd_text | st.sampled_from(NUMBERS))  # fmt: skip
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=8)  # fmt: skip
dates = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.just(UTC)).map(lambda d: d.isoformat())  # fmt: skip
near_dates = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2029, 1, 1),
                          timezones=st.just(UTC)).map(lambda d: d.isoformat())  # fmt: skip
field_values = json_values | dates | near_dates | st.sampled_from(NUMBERS)
# Values a sender might well send, right or wrong.
plausible = st.sampled_from(
    ["UPS", "USPS", "FedEx", "DHL eCommerce", "Royal Mail", "Other", "gb", "DE", "+12015550123",
     "+1 201 555 0123", "ann@example.com", "", "2026-11-22T10:00-05:00", "2026-11-30",
     "2025-11-24", "return", "outbound", "Zoë Ångström", "10001", "Ann\r\nBcc: x@y.z",
     "100\x0001", "Zoë\u2028", "x\ud800", "tab\there"])  # fmt: skip
# A valid order with a few fields changed, dropped or added: reaches the deeper checks.
orders = st.builds(
    lambda number, carrier, order, changes, dropped: {
        k: v for k, v in {**VALID, "tracking_number": number, "carrier": carrier,
                          "order_id": order, **changes}.items() if k not in dropped},
    st.sampled_from(NUMBERS), st.sampled_from([None, "UPS", "USPS", "FedEx", "DHL", "Other"]),
    st.integers(1, 10**6).map(str),
    st.dictionaries(st.sampled_from([*VALID, "customer_phone", "destination_city", "ordered_at",
                                     "direction", "colour"]), plausible | field_values,
                    max_size=3),
    st.sets(st.sampled_from(list(VALID)), max_size=1),
)  # fmt: skip
bodies = st.one_of(
    orders,
    orders,
    orders,
    json_values,
    st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)


def _check_stored(h: Harness, before: int, status: int, store: str) -> None:
    """Refused: nothing new. Accepted: at most one row, the token's store's, readable,
    with dates inside the window."""
    after = h.count()
    if status >= 400:
        assert after == before, status
        return
    assert after - before in (0, 1)
    for s in h.run(h.store.list_shipments(limit=10**9)).shipments[before:]:
        _plausible(s)
        assert s.store == store


def _plausible(s: Shipment) -> None:
    """A stored shipment's dates are inside their windows and its texts plain."""
    for field in WINDOWS:
        when = getattr(s, field)
        back, ahead = WINDOWS[field]
        assert when is None or NOW - timedelta(days=back) <= when <= NOW + timedelta(days=ahead)
    for field, value in s.model_dump().items():
        assert not isinstance(value, str) or plain_text_problem(value) is None, field


def _auth(store: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[store]}"}


def _api_answer(status: int, raw: bytes, content_type: str) -> dict[str, Any]:
    assert status < 500, raw
    assert content_type == "application/json", raw
    answer = json.loads(raw)
    assert isinstance(answer, dict)
    if status >= 400:
        assert set(answer["error"]) == {"field", "reason"}
    return answer


# --- the HTTP API ---------------------------------------------------------------------------


@FUZZ
@given(body=bodies, store=st.sampled_from(list(TOKENS)))
def test_posting_any_body(harness: Harness, body: Any, store: str) -> None:
    before = harness.count()
    status, raw, kind = harness.request("POST", "/api/v1/shipments", json=body,
                                        headers=_auth(store))  # fmt: skip
    answer = _api_answer(status, raw, kind)
    _check_stored(harness, before, status, store)
    if status < 400:
        sid = answer["id"]
        other = "toys" if store == "shop" else "shop"
        assert harness.request("GET", f"/api/v1/shipments/{sid}", headers=_auth(store))[0] == 200
        # Another store's token sees nothing of it.
        for method, suffix in [("GET", ""), ("POST", "/report-missing")]:
            seen = harness.request(method, f"/api/v1/shipments/{sid}{suffix}", headers=_auth(other))
            assert seen[0] == 404


def _fedex(serial: int) -> str:
    """A FedEx Express number (12 digits) with its check digit: a fresh number per example."""
    base = f"{serial:011d}"
    return next(n for d in "0123456789" if candidates(n := base + d))


def _inside(field: str, text: str | None) -> bool:
    if text is None:
        return True
    when = datetime.fromisoformat(text)
    back, ahead = WINDOWS[field]
    return NOW - timedelta(days=back) <= when <= NOW + timedelta(days=ahead)


any_date = st.none() | dates | near_dates


@FUZZ
@given(serial=st.integers(0, 10**11 - 1), shipped=dates | near_dates, ordered=any_date,
       promised=any_date)  # fmt: skip
def test_dates_anywhere(
    harness: Harness, serial: int, shipped: str, ordered: str | None, promised: str | None
) -> None:
    """Accepted exactly when every date is inside its window, and then stored as given."""
    given = {"shipped_at": shipped, "ordered_at": ordered, "promised_by": promised}
    body = {**VALID, "carrier": "FedEx", "tracking_number": _fedex(serial), **given}
    before = harness.count()
    status, raw, kind = harness.request("POST", "/api/v1/shipments", json=body,
                                        headers=_auth("shop"))  # fmt: skip
    answer = _api_answer(status, raw, kind)
    outside = sorted(k for k, v in given.items() if not _inside(k, v))
    if outside:
        assert status == 400 and sorted(e["field"] for e in answer["errors"]) == outside
        assert harness.count() == before
        return
    assert status in (200, 201), answer
    stored = harness.run(harness.store.get_shipment(answer["id"]))
    assert stored is not None
    if status == 201:
        assert stored.shipped_at == datetime.fromisoformat(shipped)


FREE_TEXT = ["order_id", "customer_name", "destination_city", "destination_postal_code"]


@FUZZ
@given(serial=st.integers(0, 10**11 - 1), field=st.sampled_from(FREE_TEXT),
       text=st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=20)
       | st.sampled_from(["Ann\r\nBcc: x@y.z", "a\x00b", "Zoë\u2028", "x\ud800", "\x85"]))  # fmt: skip
def test_texts_anywhere(harness: Harness, serial: int, field: str, text: str) -> None:
    """A free-text field takes any text but control characters and line breaks."""
    body = {**VALID, "carrier": "FedEx", "tracking_number": _fedex(serial), field: text}
    status, raw, kind = harness.request("POST", "/api/v1/shipments", json=body,
                                        headers=_auth("shop"))  # fmt: skip
    answer = _api_answer(status, raw, kind)
    if plain_text_problem(text) is not None:
        assert status == 400 and answer["error"]["field"] == field
    elif status == 201:
        stored = harness.run(harness.store.get_shipment(answer["id"]))
        assert stored is not None and getattr(stored, field) == text.strip()


@FUZZ
@given(raw=st.binary(max_size=200) | st.sampled_from([b"[" * 3000 + b"]" * 3000,
                                                      b"1" * 5000, b'{"a": NaN}']))  # fmt: skip
def test_posting_any_bytes(harness: Harness, raw: bytes) -> None:
    before = harness.count()
    status, answer, kind = harness.request("POST", "/api/v1/shipments", data=raw,
                                           headers=_auth("shop"))  # fmt: skip
    _api_answer(status, answer, kind)
    assert status == 400 and harness.count() == before


ids = (st.sampled_from(["²", "٣", "1²", str(2**63), "9" * 30, "0", "-1", "1.5", " 1", ""])
       | st.integers(min_value=-1, max_value=2**70).map(str) | odd_text)  # fmt: skip


@FUZZ
@given(text=ids, method=st.sampled_from(["GET", "POST"]), body=st.none() | json_values)
def test_any_shipment_id(harness: Harness, text: str, method: str, body: Any) -> None:
    before = harness.run(harness.store.get_shipment(harness.delivered["shop"]))
    suffix = "/report-missing" if method == "POST" else ""
    path = f"/api/v1/shipments/{quote(text, safe='', errors='surrogatepass')}{suffix}"
    status, raw, kind = harness.request(method, path, json=body, headers=_auth("toys"))
    _api_answer(status, raw, kind)
    # The other store's delivered parcel is never reported through this token.
    after = harness.run(harness.store.get_shipment(harness.delivered["shop"]))
    assert before == after


@FUZZ
@given(state=st.none() | odd_text | st.sampled_from(["open", "resolved", "all"]),
       limit=st.none() | ids)  # fmt: skip
def test_any_alerts_query(harness: Harness, state: str | None, limit: str | None) -> None:
    query = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
             for k, v in {"state": state, "limit": limit}.items() if v is not None}  # fmt: skip
    status, raw, kind = harness.request("GET", "/api/v1/alerts", params=query,
                                        headers=_auth("shop"))  # fmt: skip
    answer = _api_answer(status, raw, kind)
    assert status in (200, 400)
    if status == 200:
        assert all(a["shipment_id"] != harness.delivered["toys"] for a in answer["alerts"])


# --- the Shopify webhook --------------------------------------------------------------------

DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "shopify" /
                         "fulfillments-create.json").read_text())  # fmt: skip
FULFILLMENT_KEYS = ["tracking_company", "tracking_numbers", "tracking_number", "email",
                    "created_at", "name", "order_id", "status", "destination"]  # fmt: skip
fulfillments = st.builds(
    lambda changes, destination: {**DOCUMENTED, "created_at": "2026-11-20T10:00:00-05:00",
                                  **changes, "destination": {**DOCUMENTED["destination"],
                                                             **destination}},
    st.dictionaries(st.sampled_from(FULFILLMENT_KEYS),
                    field_values | st.lists(st.sampled_from(NUMBERS) | json_scalars,
                                            max_size=3), max_size=4),
    st.dictionaries(st.sampled_from(["name", "zip", "city", "country_code"]), field_values,
                    max_size=2),
) | json_values  # fmt: skip
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


@FUZZ
@given(payload=fulfillments, topic=header_text | st.sampled_from(["fulfillments/create"] * 3),
       webhook=header_text, store=st.sampled_from(["shop", "toys", "nobody", "²"]))  # fmt: skip
def test_any_signed_webhook(
    harness: Harness, payload: Any, topic: str, webhook: str, store: str
) -> None:
    body = json.dumps(payload).encode()
    secret = SECRETS.get(store, "x" * 20)
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook,
               "X-Shopify-Hmac-Sha256": signature(secret, body)}  # fmt: skip
    before = harness.count()
    status, raw, kind = harness.request("POST", f"/webhooks/shopify/{quote(store)}", data=body,
                                        headers=headers)  # fmt: skip
    _api_answer(status, raw, kind)
    after = harness.count()
    if status >= 400:
        assert after == before
    for s in harness.run(harness.store.list_shipments(limit=10**9)).shipments[before:]:
        _plausible(s)
        assert s.store == store


# --- CSV import -----------------------------------------------------------------------------

columns = st.lists(st.sampled_from(sorted(KNOWN)) | st.text(max_size=8), max_size=12)
cells = odd_text | near_dates | st.sampled_from(NUMBERS) | st.sampled_from(list(VALID.values()))


@FUZZ
@given(header=columns, rows=st.lists(st.lists(cells, max_size=13), max_size=6))
def test_importing_any_csv(harness: Harness, header: list[str], rows: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    for line in [header, *rows]:
        writer.writerow([c.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                         for c in line])  # fmt: skip
    _import_checked(harness, text.getvalue().encode())


@FUZZ
@given(raw=st.binary(max_size=300))
def test_importing_any_bytes(harness: Harness, raw: bytes) -> None:
    header = b"store,order_id,tracking_number,shipped_at\n"
    _import_checked(harness, raw)
    _import_checked(harness, header + raw)


def _import_checked(h: Harness, content: bytes) -> None:
    path = h.tmp / "fuzz.csv"
    path.write_bytes(content)
    before = h.count()
    try:
        report = h.run(import_csv(path, h.settings, h.store, NOW, progress=False))
    except InputError as exc:
        assert exc.field in ("header", "file")
        assert h.count() == before
        return
    assert all(error.problems for _, error in report.bad)
    assert h.count() == before + report.added
    for s in h.run(h.store.list_shipments(limit=10**9)).shipments[before:]:
        _plausible(s)


# --- the customer's report link -------------------------------------------------------------


def _tokens(h: Harness) -> st.SearchStrategy[str]:
    genuine = h.links.token(h.delivered["shop"], at(12, 20))
    return odd_text | st.builds(
        lambda cut, extra: genuine[:cut] + extra, st.integers(0, len(genuine)), odd_text
    )


@FUZZ
@given(data=st.data(), method=st.sampled_from(["GET", "POST"]))
def test_any_report_link(harness: Harness, data: st.DataObject, method: str) -> None:
    token = data.draw(_tokens(harness))
    before = harness.run(harness.store.get_shipment(harness.delivered["toys"]))
    path = f"/report-missing/{quote(token, safe='-', errors='surrogatepass')}"
    status, raw, kind = harness.request(method, path)
    assert status < 500 and kind == "text/html", raw
    assert status in (200, 400, 404, 405, 409, 410)
    # Only a genuine link reports anything, and only for its own shipment.
    assert harness.run(harness.store.get_shipment(harness.delivered["toys"])) == before
