"""The HTTP API on 127.0.0.1: per-store bearer tokens, JSON errors naming the field, a body
size limit, and a store's token seeing only its own shipments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from tests.backends import execute
from tests.conftest import both_backends
from tests.rulekit import at, ev
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import (
    Audience,
    Finding,
    NoticeState,
    Outcome,
    Severity,
    Status,
    TrackingResult,
)
from trackwatch.store import Store, open_store
from trackwatch.store.records import AlertOpen, Evaluation, NoticeDraft, PollUpdate
from trackwatch.web.report_page import ReportDesk
from trackwatch.web.server import Served, build_app, serve
from trackwatch.web.signing import ReportLinks

pytestmark = both_backends


SHOP_TOKEN = "shop-token-0123456789abcdef"
TOYS_TOKEN = "toys-token-0123456789abcdef"
ORDER = {"order_id": "1001", "tracking_number": "1Z5R89390357567127", "carrier": "ups",
         "shipped_at": "2026-11-23T09:00-05:00", "customer_name": "Ann Lee",
         "customer_email": "ann@example.com", "destination_country": "US",
         "destination_postal_code": "10001"}  # fmt: skip


@dataclass
class Api:
    store: Store
    served: Served
    woken: list[int]

    async def call(
        self, method: str, path: str, token: str | None = SHOP_TOKEN, body: Any = None,
        data: bytes | None = None,
    ) -> tuple[int, Any]:  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.served.base_url + path, json=body, data=data,
                         headers=headers) as response,
        ):  # fmt: skip
            return response.status, await response.json()


@pytest.fixture
async def api(database: str) -> AsyncIterator[Api]:
    settings = build_settings({
        "daemon": {"http_port": 0, "http_max_body_kib": 4},
        "stores": {"shop": {"name": "Shop", "api_token": SHOP_TOKEN},
                   "toys": {"name": "Toys", "api_token": TOYS_TOKEN},
                   "quiet": {"name": "No API"}},
    })  # fmt: skip
    store = await open_store(database)
    woken: list[int] = []
    desk = ReportDesk(store, FrozenClock(at(11, 23, 12)), settings, ReportLinks(b"k" * 32, ""),
                      wake=lambda: woken.append(1))  # fmt: skip
    served = await serve(build_app(desk), settings.daemon)
    yield Api(store, served, woken)
    await served.stop()
    await store.close()


async def test_add_then_read_a_shipment(api: Api) -> None:
    status, body = await api.call("POST", "/api/v1/shipments", body=ORDER)
    assert status == 201 and body["created"] is True
    sid = body["id"]
    status, shipment = await api.call("GET", f"/api/v1/shipments/{sid}")
    assert status == 200
    assert shipment["store"] == "shop" and shipment["carrier"] == "ups"
    assert shipment["tracking_number"] == "1Z5R89390357567127"
    assert shipment["shipped_at"] == "2026-11-23T14:00:00+00:00"
    assert shipment["status"] == "unknown" and shipment["events"] == []
    # The same order again (a client retrying): the same shipment, not a second one.
    status, again = await api.call("POST", "/api/v1/shipments", body=ORDER)
    assert status == 200 and again == {**body, "created": False}
    assert len((await api.store.list_shipments()).shipments) == 1


async def test_the_carrier_may_come_from_the_number(api: Api) -> None:
    order = {**ORDER, "carrier": None, "tracking_number": "9400111398259791907485"}
    status, body = await api.call("POST", "/api/v1/shipments", body=order)
    assert status == 201 and body["shipment"]["carrier"] == "usps"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "send 'Authorization: Bearer <store token>'"),
        ("wrong-token-0123456789abcdef", "the token is not valid"),
        (SHOP_TOKEN[:-1], "the token is not valid"),
    ],
)
async def test_no_or_wrong_token_is_refused(api: Api, token: str | None, reason: str) -> None:
    for method, path in [("POST", "/api/v1/shipments"), ("GET", "/api/v1/shipments/1"),
                         ("GET", "/api/v1/alerts"), ("DELETE", "/api/v1/shipments/1"),
                         ("POST", "/api/v1/shipments/1/report-missing")]:  # fmt: skip
        status, body = await api.call(method, path, token=token, body=ORDER)
        assert status == 401, path
        assert body == {"error": {"field": "authorization", "reason": reason}}
    assert (await api.store.list_shipments()).shipments == []


async def test_a_store_sees_only_its_own(api: Api) -> None:
    _, body = await api.call("POST", "/api/v1/shipments", body=ORDER)
    sid = body["id"]
    status, error = await api.call("GET", f"/api/v1/shipments/{sid}", token=TOYS_TOKEN)
    assert status == 404 and error["error"]["field"] == "id"
    status, _ = await api.call("POST", f"/api/v1/shipments/{sid}/report-missing",
                               token=TOYS_TOKEN)  # fmt: skip
    assert status == 404
    status, error = await api.call("POST", "/api/v1/shipments", token=TOYS_TOKEN,
                                   body={**ORDER, "store": "shop"})  # fmt: skip
    assert status == 403
    assert error == {"error": {"field": "store", "reason": "this token belongs to store 'toys'"}}
    # The same number under the other store is that store's own shipment.
    status, other = await api.call("POST", "/api/v1/shipments", token=TOYS_TOKEN, body=ORDER)
    assert status == 201 and other["id"] != sid and other["shipment"]["store"] == "toys"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"tracking_number": "1Z5R89390357567128"}, "tracking_number", "fails the UPS check digit"),
        ({"carrier": "pigeon"}, "carrier", "pigeon is not supported"),
        ({"customer_email": "nobody"}, "customer_email", "is not a valid email address"),
        ({"shipped_at": None}, "shipped_at", "is required"),
        ({"shipped_at": "yesterday"}, "shipped_at", "'yesterday' is not an ISO date"),
        ({"destination_country": "USA"}, "destination_country", "is not an ISO 3166 alpha-2"),
        ({"colour": "red"}, "colour", "is not a known field"),
        ({"order_id": 7}, "order_id", "Input should be a valid string"),
    ],
)  # fmt: skip
async def test_bad_input_names_the_field(
    api: Api, change: dict[str, Any], field: str, reason: str
) -> None:
    order = {k: v for k, v in {**ORDER, **change}.items() if v is not None}
    status, body = await api.call("POST", "/api/v1/shipments", body=order)
    assert status == 400
    assert body["error"]["field"] == field and reason in body["error"]["reason"]
    assert (await api.store.list_shipments()).shipments == []


async def test_bodies_that_are_not_json_objects_or_too_large(api: Api) -> None:
    status, body = await api.call("POST", "/api/v1/shipments", data=b"{not json")
    assert status == 400 and body["error"]["field"] == "body"
    assert "not valid JSON" in body["error"]["reason"]
    status, body = await api.call("POST", "/api/v1/shipments", body=[ORDER])
    assert (status, body["error"]["reason"]) == (400, "must be a JSON object")
    status, body = await api.call("POST", "/api/v1/shipments",
                                  body={**ORDER, "customer_name": "x" * 5000})  # fmt: skip
    assert status == 413 and body["error"]["field"] == "body"
    assert "too large" in body["error"]["reason"]
    status, body = await api.call("GET", "/api/v1/nothing")
    assert status == 404 and body["error"]["field"] == "path"
    status, body = await api.call("DELETE", "/api/v1/shipments")
    assert status == 405 and body["error"]["field"] == "method"


async def delivered(api: Api, sid: int) -> None:
    result = TrackingResult(tracking_number=ORDER["tracking_number"], outcome=Outcome.FOUND,
                            events=[ev(at(11, 25, 12), Status.DELIVERED, "Delivered")],
                            status=Status.DELIVERED)  # fmt: skip
    await api.store.apply_polls([PollUpdate(sid, at(11, 25, 13), at(11, 26, 13), result)])


async def test_report_missing_only_for_delivered_parcels(api: Api) -> None:
    _, body = await api.call("POST", "/api/v1/shipments", body=ORDER)
    sid = body["id"]
    path = f"/api/v1/shipments/{sid}/report-missing"
    status, error = await api.call("POST", path)
    assert status == 409 and "not delivered" in error["error"]["reason"]
    assert api.woken == []
    await delivered(api, sid)
    status, report = await api.call("POST", path, body={"reported_by": "support desk"})
    assert status == 200 and report["first_report"] is True
    assert report["reported_at"] == "2026-11-23T17:00:00+00:00"
    assert report["claim_after_hours"] == 24
    assert api.woken == [1]  # the rules judge the report now, not at their next timer
    status, again = await api.call("POST", path)
    assert status == 200 and again["first_report"] is False
    assert again["reported_at"] == report["reported_at"]
    shipment = await api.store.get_shipment(sid)
    assert shipment is not None and shipment.missing_reported_by == "support desk"
    status, view = await api.call("GET", f"/api/v1/shipments/{sid}")
    assert view["status"] == "delivered" and view["events"][0]["status"] == "delivered"


async def open_alert_for(store: Store, sid: int, rule: str, now: datetime) -> None:
    found = Finding(rule=rule, episode="e1", severity=Severity.WARNING,
                    audiences=(Audience.STAFF,), summary=f"{rule} parcel", action="look",
                    explanation={"why": "test"})  # fmt: skip
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, found, ())]), now)


async def test_open_alerts_of_the_token_store_only(api: Api) -> None:
    _, mine = await api.call("POST", "/api/v1/shipments", body=ORDER)
    _, theirs = await api.call("POST", "/api/v1/shipments", token=TOYS_TOKEN, body=ORDER)
    await open_alert_for(api.store, mine["id"], "stalled", at(11, 23, 13))
    await open_alert_for(api.store, theirs["id"], "late", at(11, 23, 13))
    status, body = await api.call("GET", "/api/v1/alerts?state=open")
    assert status == 200
    assert [(a["rule"], a["order_id"], a["state"]) for a in body["alerts"]] == [
        ("stalled", "1001", "open")]  # fmt: skip
    status, body = await api.call("GET", "/api/v1/alerts?state=resolved")
    assert (status, body) == (200, {"alerts": []})
    status, body = await api.call("GET", "/api/v1/alerts?state=closed")
    assert status == 400
    assert body["error"] == {"field": "state", "reason": "must be one of open, resolved, all"}


# --- issue 16 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"shipped_at": "0001-01-01"}, "shipped_at", "0001-01-01 is more than 365 days ago"),
        ({"shipped_at": "9999-12-31"}, "shipped_at", "9999-12-31 is more than 7 days ahead"),
        ({"ordered_at": "0001-01-01"}, "ordered_at", "more than 365 days ago"),
        ({"promised_by": "9999-12-31"}, "promised_by", "more than 365 days ahead"),
    ],
)
async def test_implausible_dates_are_refused_and_nothing_stored(
    api: Api, change: dict[str, str], field: str, reason: str
) -> None:
    """Finding 1: one such row made the daemon exit on each pass (0001-01-01 was answered
    500 but stored, 9999-12-31 answered 201)."""
    status, body = await api.call("POST", "/api/v1/shipments", body={**ORDER, **change})
    assert status == 400
    assert body["error"]["field"] == field and reason in body["error"]["reason"]
    assert (await api.store.list_shipments()).shipments == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/shipments/²",
        "/api/v1/shipments/٣",  # an Arabic-Indic digit: str.isdigit() says yes, int() parses it
        "/api/v1/shipments/1²",
        f"/api/v1/shipments/{2**63}",
        "/api/v1/shipments/99999999999999999999999999",
        "/api/v1/shipments/-1",
        "/api/v1/shipments/ 1",
    ],
)
async def test_ids_are_ascii_digits_in_range(api: Api, path: str) -> None:
    """Finding 2: non-ASCII digits and ids past SQLite's integer range answered 500."""
    await api.call("POST", "/api/v1/shipments", body=ORDER)
    for method, suffix in [("GET", ""), ("POST", "/report-missing"), ("DELETE", "")]:
        status, body = await api.call(method, path + suffix)
        assert status == 404, (method, path)
        assert body["error"]["field"] == "id"


@pytest.mark.parametrize("limit", ["²", "٣", "0", "1001", "-1", str(2**64), "1.5", ""])
async def test_a_limit_that_is_not_a_whole_number_in_range_is_a_400(api: Api, limit: str) -> None:
    status, body = await api.call("GET", f"/api/v1/alerts?limit={limit}")
    assert status == 400
    assert body["error"] == {"field": "limit", "reason": "must be a whole number from 1 to 1000"}


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
async def test_a_deeply_nested_body_is_a_400(api: Api, opener: bytes) -> None:
    """Finding 2: a JSON body nested a few thousand levels deep (under the size limit)
    answered 500 (the parser's recursion limit)."""
    closer = b"]" if opener == b"[" else b"}"
    depth = 3900 // (len(opener) + 1)
    for path in ("/api/v1/shipments", "/api/v1/shipments/1/report-missing"):
        status, body = await api.call("POST", path, data=opener * depth + b"1" + closer * depth)
        assert status in (400, 404), path
        if status == 400:
            assert body["error"]["field"] == "body" and "nested" in body["error"]["reason"]
    status, body = await api.call("POST", "/api/v1/shipments", data=b"[" * 40 + b"]" * 40)
    assert status == 400 and "nested" in body["error"]["reason"]
    assert (await api.store.list_shipments()).shipments == []


async def test_every_bad_field_is_reported(api: Api) -> None:
    """Finding 15: all the problems of a body, not only the first, each `field: reason`."""
    bad = {"customer_email": "a@x.com,evil@y.com", "destination_country": "XX",
           "shipped_at": "9999-12-31", "customer_name": "Ann\r\nBcc: x@y.z"}  # fmt: skip
    status, body = await api.call("POST", "/api/v1/shipments", body={**ORDER, **bad})
    assert status == 400
    fields = [e["field"] for e in body["errors"]]
    assert sorted(fields) == sorted(bad)
    assert body["error"] == body["errors"][0]
    assert (await api.store.list_shipments()).shipments == []


async def test_an_unsupported_carrier_is_refused_by_name(api: Api) -> None:
    """Finding 16: the sender's carrier name outranks the number's shape."""
    order = {**ORDER, "carrier": "Royal Mail", "tracking_number": "RR123456785GB"}
    status, body = await api.call("POST", "/api/v1/shipments", body=order)
    assert status == 400 and body["error"]["field"] == "carrier"
    assert body["error"]["reason"].startswith("Royal Mail is not supported")
    assert (await api.store.list_shipments()).shipments == []


async def test_a_usps_delivered_label_of_another_carrier_is_tracked_with_usps(api: Api) -> None:
    """Finding 17: a UPS SurePost label's IMpb was refused; it is tracked where the parcel
    is, with USPS, and the answer says so."""
    order = {**ORDER, "carrier": "UPS", "tracking_number": "9261290113185417468510"}
    status, body = await api.call("POST", "/api/v1/shipments", body=order)
    assert status == 201
    view = body["shipment"]
    assert (view["carrier"], view["sender_carrier"]) == ("usps", "ups")
    note = "UPS SurePost or Mail Innovations label: tracked with USPS, which delivers it"
    assert body["notes"] == [note] and view["notes"] == [note]
    stored = await api.store.get_shipment(body["id"])
    assert stored is not None and stored.sender_carrier == "ups" and stored.carrier == "usps"


async def test_an_order_without_email_is_watched_with_staff_alerts_only(api: Api) -> None:
    """Finding 18: point-of-sale, phone and marketplace orders have no email."""
    order = {k: v for k, v in ORDER.items() if k != "customer_email"}
    status, body = await api.call("POST", "/api/v1/shipments", body=order)
    assert status == 201
    assert body["shipment"]["customer"]["email"] is None
    (note,) = body["notes"]
    assert "no customer email" in note and "staff alerts only" in note
    stored = await api.store.get_shipment(body["id"])
    assert stored is not None and stored.customer_email == ""


async def test_reported_by_refuses_control_characters(api: Api) -> None:
    _, body = await api.call("POST", "/api/v1/shipments", body=ORDER)
    await delivered(api, body["id"])
    path = f"/api/v1/shipments/{body['id']}/report-missing"
    status, error = await api.call("POST", path, body={"reported_by": "desk\r\nX-Evil: 1"})
    assert status == 400 and error["error"]["field"] == "reported_by"
    shipment = await api.store.get_shipment(body["id"])
    assert shipment is not None and shipment.missing_reported_at is None


# --- issue 17 ------------------------------------------------------------------------------


async def customer_notice_for(store: Store, sid: int) -> None:
    """An open alert, staff told, whose customer email is still waiting to go out."""
    found = Finding(rule="stalled", episode="e1", severity=Severity.WARNING,
                    audiences=(Audience.CUSTOMER, Audience.STAFF), summary="stalled",
                    action="look", explanation={"why": "test"})  # fmt: skip
    draft = NoticeDraft("opened", Audience.CUSTOMER, "customer_email.0", "shop", "Late",
                        "Your parcel", recipient="ann@example.com")  # fmt: skip
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, found, (draft,))]),
                                 at(11, 23, 12))  # fmt: skip


async def test_delete_stops_watching_and_answers_the_shipment(api: Api) -> None:
    """Finding 7: there was no way to stop watching a shipment."""
    _, added = await api.call("POST", "/api/v1/shipments", body=ORDER)
    sid = added["id"]
    await customer_notice_for(api.store, sid)
    path = f"/api/v1/shipments/{sid}"
    status, body = await api.call("DELETE", path, body={"reason": "order cancelled"})
    assert status == 200
    assert (body["id"], body["watching"], body["next_poll_at"]) == (sid, False, None)
    assert body["polling_stopped"] == "by store (api): order cancelled"
    assert body["stopped_at"] == "2026-11-23T17:00:00+00:00"
    assert [(a["state"], a["resolution"]) for a in body["alerts"]] == [
        ("resolved", "watching stopped: order cancelled")]  # fmt: skip
    assert body["stop"] == {"already_stopped": False, "alerts_resolved": [body["alerts"][0]["id"]],
                            "customer_notices_cancelled": 1}  # fmt: skip
    (notice,) = await api.store.notices()
    assert notice.state is NoticeState.CANCELLED
    # DELETE again: the same answer, nothing changed, the first reason kept.
    status, again = await api.call("DELETE", path, body={"reason": "something else"})
    assert status == 200 and again["polling_stopped"] == body["polling_stopped"]
    assert again["stop"] == {"already_stopped": True, "alerts_resolved": [],
                             "customer_notices_cancelled": 0}  # fmt: skip
    status, shown = await api.call("GET", path)
    assert shown["watching"] is False and shown["polling_stopped"] == body["polling_stopped"]


async def test_delete_without_a_body_gives_the_default_reason(api: Api) -> None:
    _, added = await api.call("POST", "/api/v1/shipments", body=ORDER)
    status, body = await api.call("DELETE", f"/api/v1/shipments/{added['id']}")
    assert status == 200
    assert body["polling_stopped"] == "by store (api): cancelled by the store (api)"


async def test_delete_of_another_stores_shipment_is_a_404(api: Api) -> None:
    _, added = await api.call("POST", "/api/v1/shipments", body=ORDER)
    status, body = await api.call("DELETE", f"/api/v1/shipments/{added['id']}", token=TOYS_TOKEN)
    assert status == 404 and body["error"]["field"] == "id"
    shipment = await api.store.get_shipment(added["id"])
    assert shipment is not None and shipment.active and shipment.stopped is None


@pytest.mark.parametrize(
    ("reason", "why"),
    [("", "must be a text of 1 to 200 characters"), ("x" * 201, "1 to 200 characters"),
     (5, "must be a text"), ("refund\r\nX-Evil: 1", "control character")],
)  # fmt: skip
async def test_a_delete_reason_that_is_not_plain_text_is_a_400(
    api: Api, reason: object, why: str
) -> None:
    _, added = await api.call("POST", "/api/v1/shipments", body=ORDER)
    status, body = await api.call("DELETE", f"/api/v1/shipments/{added['id']}",
                                  body={"reason": reason})  # fmt: skip
    assert status == 400 and body["error"]["field"] == "reason"
    assert why in body["error"]["reason"]
    shipment = await api.store.get_shipment(added["id"])
    assert shipment is not None and shipment.active


async def test_a_missing_report_for_a_shipment_no_longer_watched_is_a_409(api: Api) -> None:
    """Nothing would judge the report, so nobody would act on it: the store is told so."""
    _, added = await api.call("POST", "/api/v1/shipments", body=ORDER)
    await delivered(api, added["id"])
    await api.call("DELETE", f"/api/v1/shipments/{added['id']}", body={"reason": "refunded"})
    status, body = await api.call("POST", f"/api/v1/shipments/{added['id']}/report-missing")
    assert status == 409 and body["error"]["field"] == "id"
    assert "no longer watched (by store (api): refunded)" in body["error"]["reason"]
    shipment = await api.store.get_shipment(added["id"])
    assert shipment is not None and shipment.missing_reported_at is None


async def test_a_set_aside_unreadable_row_is_a_409_that_echoes_nothing(
    api: Api, database: str
) -> None:
    """A row corrupted in the database is the store's problem, not the request's: a 4xx
    that names the shipment and no stored data, never a 500."""
    status, body = await api.call("POST", "/api/v1/shipments", body=ORDER)
    sid = body["id"]
    await execute(database, "UPDATE shipments SET status='secret-ish garbage' WHERE id=?", sid)
    for method in ("GET", "DELETE"):
        status, body = await api.call(method, f"/api/v1/shipments/{sid}")
        assert status == 409 and "set aside" in body["error"]["reason"]
        assert "garbage" not in str(body)
    status, body = await api.call("GET", f"/api/v1/shipments/{sid}", token=TOYS_TOKEN)
    assert status == 404  # another store's, even unreadable, does not exist for it
