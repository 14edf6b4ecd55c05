"""The sandbox's stand-in for Shopify's Admin GraphQL API, on 127.0.0.1, against Shopify's
published examples (tests/fixtures/shopify/README.md): the documented fulfillmentEventCreate
request runs as published, a throttled answer has the published shape, queries are
validated against Shopify's schema, pages have cursors, and the cost extension and the
leaky bucket behave as Shopify's rate-limit page says."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from tests.conftest import FIXTURES
from tests.shopify_kit import TOKEN, order
from trackwatch.clock import FrozenClock
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.shopify import UNAUTHORIZED
from trackwatch.sandbox.shopify_shop import Bucket, Shop, ShopFulfillment
from trackwatch.sandbox.world import World

DOCUMENTED = json.loads(
    (FIXTURES / "shopify" / "fulfillment-event-create-request.json").read_text()
)
THROTTLED = json.loads((FIXTURES / "shopify" / "graphql-throttled.json").read_text())
ORDERS = """query Page($first: Int!, $after: String) {
  orders(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { name fulfillments(first: 1) { trackingInfo(first: 2) { number } } } }
  }
}"""


@pytest.fixture
async def admin(clock: FrozenClock) -> AsyncIterator[SandboxServer]:
    shop = Shop(clock, access_token=TOKEN)
    for i in range(5):
        order(shop, 1001 + i, clock.now() - timedelta(days=3), [f"1Z5R8939035756712{i}"])
    server = await SandboxServer(World(), clock, shop=shop).start()
    yield server
    await server.stop()


async def post(server: SandboxServer, body: dict[str, Any], token: str = TOKEN) -> tuple[int, Any]:
    url = f"{server.base_url}/admin/api/2025-10/graphql.json"
    async with aiohttp.ClientSession() as http, http.post(
        url, json=body, headers={"X-Shopify-Access-Token": token}) as response:  # fmt: skip
        return response.status, await response.json()


def shape(value: Any) -> Any:
    """The keys of nested objects, values left out."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return None


async def test_the_documented_fulfillment_event_create_runs_as_published(
    admin: SandboxServer, clock: FrozenClock
) -> None:
    assert admin.shop is not None
    placed = order(admin.shop, 2001, clock.now() - timedelta(days=2), ["1Z5R89390357567127"])
    placed.fulfillments[0] = ShopFulfillment(237894043, "#2001.1", clock.now(), clock.now(),
                                             [("UPS", "1Z5R89390357567127", "")])  # fmt: skip
    status, body = await post(admin, DOCUMENTED)
    assert status == 200 and "errors" not in body
    created = body["data"]["fulfillmentEventCreate"]
    assert created == {"fulfillmentEvent": {"id": "gid://shopify/FulfillmentEvent/1",
                                            "status": "OUT_FOR_DELIVERY",
                                            "message": "This package is now out for delivery!"},
                       "userErrors": []}  # fmt: skip
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (10, 10)
    assert cost["throttleStatus"] == {"maximumAvailable": 1000.0, "currentlyAvailable": 990.0,
                                      "restoreRate": 50.0}  # fmt: skip
    assert admin.shop.events_written["gid://shopify/Fulfillment/237894043"] == 1
    # An unknown fulfillment is a user error, as Shopify reports one, and writes nothing.
    other = {
        **DOCUMENTED["variables"]["fulfillmentEvent"],
        "fulfillmentId": "gid://shopify/Fulfillment/1",
    }
    status, body = await post(admin, {**DOCUMENTED, "variables": {"fulfillmentEvent": other}})
    assert body["data"]["fulfillmentEventCreate"]["userErrors"][0]["field"] == [
        "fulfillmentEvent", "fulfillmentId"]  # fmt: skip


async def test_a_throttled_answer_has_the_published_shape(admin: SandboxServer) -> None:
    assert admin.shop is not None
    admin.shop.bucket = Bucket(available=20)
    status, body = await post(admin, {"query": ORDERS, "variables": {"first": 5}})
    assert status == 200 and shape(body) == shape(THROTTLED) and "data" not in body
    # Five orders, each with one fulfillment and up to two numbers: 2 + 5 x (1 + 1 + 2).
    assert body["extensions"]["cost"]["requestedQueryCost"] == 22
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 20
    assert admin.shop.throttled == 1


async def test_pages_come_with_cursors_and_cost_what_they_hold(admin: SandboxServer) -> None:
    names: list[str] = []
    after = None
    costs: list[tuple[int, int]] = []
    while True:
        _, body = await post(admin, {"query": ORDERS, "variables": {"first": 2, "after": after}})
        orders = body["data"]["orders"]
        names += [e["node"]["name"] for e in orders["edges"]]
        cost = body["extensions"]["cost"]
        costs.append((cost["requestedQueryCost"], cost["actualQueryCost"]))
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
        assert after == orders["edges"][-1]["cursor"]
    assert names == ["#1001", "#1002", "#1003", "#1004", "#1005"]
    # Two orders a page ask 2 + 2 x (order, fulfillment, 2 numbers) = 10; each has one
    # number, so a full page costs 2 + 2 x 3 and the last, with one order, 2 + 3.
    assert costs == [(10, 8), (10, 8), (10, 5)]


@pytest.mark.parametrize(
    ("query", "message"),
    [("{ orders(first: 1) { nodes { trackingNumbers } } }",
      "Cannot query field 'trackingNumbers' on type 'Order'."),
     ("{ orders { nodes { name } } }", "you must provide one of first or last"),
     ("{ orders(first: 251) { nodes { name } } }", "The first argument cannot exceed 250.")],
)  # fmt: skip
async def test_what_shopify_refuses_the_stand_in_refuses(
    admin: SandboxServer, query: str, message: str
) -> None:
    status, body = await post(admin, {"query": query})
    assert status == 200 and body["errors"][0]["message"] == message


async def test_a_query_over_a_thousand_points_is_refused_whole(admin: SandboxServer) -> None:
    query = "{ orders(first: 250) { nodes { fulfillments(first: 5) { name } } } }"
    _, body = await post(admin, {"query": query})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 2 + 250 * 6,
                                   "maxCost": 1000}  # fmt: skip
    assert admin.shop is not None and admin.shop.bucket.available == 1000


async def test_the_access_token_is_checked(admin: SandboxServer) -> None:
    status, body = await post(admin, {"query": ORDERS, "variables": {"first": 1}},
                              token="shpat_wrong")  # fmt: skip
    assert (status, body) == (401, {"errors": UNAUTHORIZED})
