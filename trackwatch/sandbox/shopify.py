"""A stand-in for Shopify's Admin GraphQL API on the sandbox server:
POST /admin/api/<version>/graphql.json, as Shopify serves it on the shop's domain.

Real parts of it: the query is parsed, validated against the subset of Shopify's schema in
shopify_schema (a field Shopify does not have fails as it would there) and run; the
X-Shopify-Access-Token header is checked (401 with Shopify's body otherwise); every answer
carries `extensions.cost` (requestedQueryCost, actualQueryCost, throttleStatus); a query
costing more than the bucket holds is answered `THROTTLED` (HTTP 200, no data, as Shopify's
published example), one over 1,000 points `MAX_COST_EXCEEDED`; the requested cost is taken
from the bucket and the difference to the actual cost given back. Connections page with
opaque cursors (`pageInfo { hasNextPage endCursor }`); `orders(query:)` understands the
search terms trackwatch sends (`updated_at:>=…`, `created_at:>=…`, `fulfillment_status:…`).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from aiohttp import web
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)

from trackwatch.sandbox.shopify_schema import SCHEMA, operation_cost, parse_time
from trackwatch.sandbox.shopify_shop import Shop, ShopFulfillment, ShopOrder

PATH = "/admin/api/{version}/graphql.json"
MAX_QUERY_COST = 1000
MAX_PAGE = 250
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
RATE_LIMITS = "https://shopify.dev/api/usage/rate-limits"


def _cursor(key: int) -> str:
    return base64.b64encode(f"trackwatch-sandbox:{key}".encode()).decode()


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        return int(base64.b64decode(cursor).decode().rpartition(":")[2])
    except ValueError:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None


def page(items: list[Any], keys: list[int], args: dict[str, Any]) -> dict[str, Any]:
    """A connection over `items` (keyed for cursors) as `first`/`after` ask."""
    first = args.get("first")
    if first is None and args.get("last") is None:
        raise GraphQLError("you must provide one of first or last")
    size = int(first if first is not None else args["last"])
    if size > MAX_PAGE:
        raise GraphQLError(f"The first argument cannot exceed {MAX_PAGE}.")
    after = _after(args.get("after"))
    start = keys.index(after) + 1 if after in keys else 0
    chosen = list(zip(keys, items, strict=True))[start : start + size]
    edges = [{"cursor": _cursor(k), "node": item} for k, item in chosen]
    return {"edges": edges, "nodes": [e["node"] for e in edges], "pageInfo": {
        "hasNextPage": start + size < len(items), "hasPreviousPage": start > 0,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None}}  # fmt: skip


_TERM = re.compile(r"(\w+):(>=|<=|>|<)?'?([^'\s]+)'?")
_SHIPPED = {"shipped": lambda o: bool(o.fulfillments), "unshipped": lambda o: not o.fulfillments}


def _matches(order: ShopOrder, query: str) -> bool:
    """Shopify's search syntax, the terms trackwatch sends; others are ignored (Shopify
    ignores what it cannot apply, with a search warning)."""
    for name, op, value in _TERM.findall(query or ""):
        if name in ("created_at", "updated_at"):
            mine, given = getattr(order, name), parse_time(value)
            ok = {">=": mine >= given, ">": mine > given, "<=": mine <= given,
                  "<": mine < given, "": mine.date() == given.date()}[op]  # fmt: skip
            if not ok:
                return False
        elif name == "fulfillment_status" and value in _SHIPPED and not _SHIPPED[value](order):
            return False
    return True


def fulfillment_view(shop: Shop, order: ShopOrder, found: ShopFulfillment) -> dict[str, Any]:
    events = sorted(found.events, key=lambda e: (e["happenedAt"], e["id"]))
    keys = [int(str(e["id"]).rpartition("/")[2]) for e in events]
    return {
        "id": found.gid, "legacyResourceId": str(found.id), "name": found.name,
        "status": found.status, "displayStatus": found.display_status,
        "createdAt": found.created_at, "updatedAt": found.updated_at,
        "deliveredAt": found.delivered_at, "inTransitAt": None, "estimatedDeliveryAt": None,
        "trackingInfo": lambda _info, first=None: [
            {"company": c, "number": n, "url": u} for c, n, u in found.tracking[:first]],
        "events": lambda _info, **args: page(events[::-1], keys[::-1], args)
        if args.get("reverse") else page(events, keys, args),
        "order": lambda _info: order_view(shop, order),
    }  # fmt: skip


def order_view(shop: Shop, order: ShopOrder) -> dict[str, Any]:
    return {
        "id": order.gid, "legacyResourceId": str(order.id), "name": order.name,
        "email": order.email, "createdAt": order.created_at, "updatedAt": order.updated_at,
        "shippingAddress": order.address or None,
        "fulfillments": lambda _info, first=None: [
            fulfillment_view(shop, order, f) for f in order.fulfillments[:first]],
    }  # fmt: skip


def _orders(shop: Shop, args: dict[str, Any]) -> dict[str, Any]:
    sort = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at"}.get(args["sortKey"], "id")
    found = sorted((o for o in shop.orders if _matches(o, args.get("query") or "")),
                   key=lambda o: (getattr(o, sort), o.id), reverse=bool(args["reverse"]))  # fmt: skip
    return page([order_view(shop, o) for o in found], [o.id for o in found], args)


def _create_event(shop: Shop, given: dict[str, Any]) -> dict[str, Any]:
    found = shop.fulfillment(str(given["fulfillmentId"]))
    if found is None:
        return {"fulfillmentEvent": None, "userErrors": [
            {"field": ["fulfillmentEvent", "fulfillmentId"],
             "message": "Fulfillment does not exist."}]}  # fmt: skip
    _, fulfillment = found
    if fulfillment.status != "SUCCESS":
        return {"fulfillmentEvent": None, "userErrors": [
            {"field": ["fulfillmentEvent", "fulfillmentId"],
             "message": "Fulfillment is not in a state that accepts events."}]}  # fmt: skip
    return {"fulfillmentEvent": shop.record_event(fulfillment, given), "userErrors": []}


def root(shop: Shop) -> dict[str, Any]:
    def one_fulfillment(_info: Any, id: str) -> dict[str, Any] | None:
        found = shop.fulfillment(id)
        return None if found is None else fulfillment_view(shop, *found)

    def one_order(_info: Any, id: str) -> dict[str, Any] | None:
        found = shop.order(id)
        return None if found is None else order_view(shop, found)

    return {"orders": lambda _info, **args: _orders(shop, args), "order": one_order,
            "fulfillment": one_fulfillment,
            "fulfillmentEventCreate": lambda _info, fulfillmentEvent: _create_event(
                shop, fulfillmentEvent)}  # fmt: skip


def _cost(shop: Shop, requested: int, actual: int | None) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": shop.bucket.status()}}  # fmt: skip


def _errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [dict(e.formatted) for e in errors]


class ShopifyAdmin:
    """The route's handler over one shop."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    async def graphql(self, request: web.Request) -> web.Response:
        shop = self.shop
        shop.requests += 1
        if request.headers.get("X-Shopify-Access-Token", "") != shop.access_token:
            return web.json_response({"errors": UNAUTHORIZED}, status=401)
        try:
            body = await request.json()
            document = parse(str(body["query"]))
        except (ValueError, KeyError, TypeError, GraphQLError) as exc:
            message = exc.message if isinstance(exc, GraphQLError) else "Invalid request body"
            return web.json_response({"errors": [{"message": message}]}, status=400)
        variables = body.get("variables") or {}
        if problems := validate(SCHEMA, document):
            return web.json_response({"errors": _errors(problems)})
        answer = self._run(document, variables, body.get("operationName"))
        if shop.hold_writes is not None and "fulfillmentEventCreate" in str(body["query"]):
            await shop.hold_writes.wait()
        throttled = any(e.get("extensions", {}).get("code") == "THROTTLED"
                        for e in answer.get("errors", []))  # fmt: skip
        return web.json_response(answer, status=shop.throttled_status if throttled else 200)

    def _run(self, document: Any, variables: dict[str, Any],
             name: str | None) -> dict[str, Any]:  # fmt: skip
        shop = self.shop
        operation = next(d for d in document.definitions
                         if isinstance(d, OperationDefinitionNode))  # fmt: skip
        try:
            requested = operation_cost(operation, variables)
        except GraphQLError as exc:
            return {"errors": _errors([exc])}
        if requested > MAX_QUERY_COST:
            return {"errors": [{"message": f"Query cost is {requested}, which exceeds the "
                                f"single query max cost limit ({MAX_QUERY_COST}).",
                                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested,
                                               "maxCost": MAX_QUERY_COST}}]}  # fmt: skip
        if shop.bucket.refill(shop.clock.now()) < requested:
            shop.throttled += 1
            return {"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": RATE_LIMITS}}],
                "extensions": _cost(shop, requested, None)}  # fmt: skip
        shop.bucket.available -= requested
        result = execute_sync(SCHEMA, document, root(shop), variable_values=variables,
                              operation_name=name)  # fmt: skip
        actual = operation_cost(operation, variables, result.data or {})
        shop.bucket.available = min(shop.bucket.maximum,
                                    shop.bucket.available + requested - actual)  # fmt: skip
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = _errors(list(result.errors))
        return {**answer, "extensions": _cost(shop, requested, actual)}


def add_routes(app: web.Application, shop: Shop) -> ShopifyAdmin:
    admin = ShopifyAdmin(shop)
    app.router.add_post(PATH, admin.graphql)
    return admin


def when(text: str) -> datetime:
    """An instant as the stand-in's fixtures and tests write them."""
    return parse_time(text)
