"""The part of Shopify's Admin GraphQL schema the sandbox serves (API version 2025-10), as
Shopify publishes it (tests/fixtures/shopify/README.md lists the reference pages): orders
and their fulfillments with tracking, a fulfillment's events, and `fulfillmentEventCreate`.
Types, field names, arguments, nullability and enum values are Shopify's; only the fields
trackwatch reads are here, so a query naming another field fails validation, as a typo would
against Shopify.

Cost, as Shopify's rate-limit page states it: a scalar or enum costs 0, an object 1, a
mutation 10, a connection is sized by its `first`/`last` argument (the sandbox charges 2 plus
that many times a node, the common reading of "sized by"), a list of objects by `first` (1
without); the requested cost assumes every page full, the actual cost counts what came back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pycountry
from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    get_named_type,
)
from graphql.execution.values import get_argument_values

MUTATION_COST = 10

_SDL = """
scalar DateTime
scalar URL
scalar UnsignedInt64

enum FulfillmentStatus { CANCELLED ERROR FAILURE SUCCESS OPEN PENDING }
enum FulfillmentDisplayStatus {
  ATTEMPTED_DELIVERY CANCELED CARRIER_PICKED_UP CONFIRMED DELAYED DELIVERED FAILURE FULFILLED
  IN_TRANSIT LABEL_PRINTED LABEL_PURCHASED LABEL_VOIDED MARKED_AS_FULFILLED NOT_DELIVERED
  OUT_FOR_DELIVERY PICKED_UP READY_FOR_PICKUP SUBMITTED
}
enum FulfillmentEventStatus {
  ATTEMPTED_DELIVERY CARRIER_PICKED_UP CONFIRMED DELAYED DELIVERED FAILURE IN_TRANSIT
  LABEL_PRINTED LABEL_PURCHASED OUT_FOR_DELIVERY PICKED_UP READY_FOR_PICKUP
}
enum FulfillmentEventSortKeys { HAPPENED_AT ID }
enum OrderSortKeys { CREATED_AT ID ORDER_NUMBER PROCESSED_AT UPDATED_AT }
enum CountryCode { %(countries)s }

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}
type MailingAddress {
  address1: String
  city: String
  countryCodeV2: CountryCode
  name: String
  province: String
  zip: String
}
type FulfillmentTrackingInfo { company: String number: String url: URL }
type FulfillmentEvent {
  createdAt: DateTime!
  estimatedDeliveryAt: DateTime
  happenedAt: DateTime!
  id: ID!
  message: String
  status: FulfillmentEventStatus!
}
type FulfillmentEventEdge { cursor: String! node: FulfillmentEvent! }
type FulfillmentEventConnection {
  edges: [FulfillmentEventEdge!]!
  nodes: [FulfillmentEvent!]!
  pageInfo: PageInfo!
}
type Fulfillment {
  createdAt: DateTime!
  deliveredAt: DateTime
  displayStatus: FulfillmentDisplayStatus
  estimatedDeliveryAt: DateTime
  events(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
         sortKey: FulfillmentEventSortKeys = HAPPENED_AT): FulfillmentEventConnection!
  id: ID!
  inTransitAt: DateTime
  legacyResourceId: UnsignedInt64!
  name: String!
  order: Order!
  status: FulfillmentStatus!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  updatedAt: DateTime!
}
type Order {
  createdAt: DateTime!
  email: String
  fulfillments(first: Int): [Fulfillment!]!
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  shippingAddress: MailingAddress
  updatedAt: DateTime!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }
type UserError { field: [String!] message: String! }
type FulfillmentEventCreatePayload { fulfillmentEvent: FulfillmentEvent userErrors: [UserError!]! }

input FulfillmentEventInput {
  address1: String
  city: String
  country: String
  estimatedDeliveryAt: DateTime
  fulfillmentId: ID!
  happenedAt: DateTime
  latitude: Float
  longitude: Float
  message: String
  province: String
  status: FulfillmentEventStatus!
  zip: String
}

type QueryRoot {
  fulfillment(id: ID!): Fulfillment
  order(id: ID!): Order
  orders(first: Int, after: String, last: Int, before: String, query: String,
         reverse: Boolean = false, sortKey: OrderSortKeys = ID): OrderConnection!
}
type Mutation {
  fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!): FulfillmentEventCreatePayload
}
schema { query: QueryRoot mutation: Mutation }
"""


def _countries() -> str:
    codes = sorted({c.alpha_2 for c in pycountry.countries} | {"ZZ"})
    return " ".join(codes)


SCHEMA: GraphQLSchema = build_schema(_SDL % {"countries": _countries()})


def _is_list(field: GraphQLField) -> bool:
    kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(kind, GraphQLList)


def _child(selection: SelectionSetNode | None, name: str) -> FieldNode | None:
    for node in selection.selections if selection else ():
        if isinstance(node, FieldNode) and node.name.value == name:
            return node
    return None


def _items(kind: GraphQLObjectType, node: FieldNode) -> tuple[GraphQLObjectType, FieldNode] | None:
    """The node type of a connection and the selection on it (`nodes`, or `edges.node`)."""
    nodes = _child(node.selection_set, "nodes")
    edges = _child(node.selection_set, "edges")
    inner = nodes or (_child(edges.selection_set, "node") if edges else None)
    if inner is None:
        return None
    holder = kind if nodes is not None else get_named_type(kind.fields["edges"].type)
    assert isinstance(holder, GraphQLObjectType)
    item = get_named_type(holder.fields[inner.name.value].type)
    assert isinstance(item, GraphQLObjectType)
    return item, inner


def _connection_cost(kind: GraphQLObjectType, node: FieldNode, size: int | None,
                     variables: dict[str, Any], value: Any) -> int:  # fmt: skip
    """2 for the connection, and each node: `size` of them asked (requested cost), or the
    ones `value` holds (actual cost; None for a connection that came back null)."""
    found = _items(kind, node)
    if found is None:
        return 2
    item, inner = found
    if size is not None:
        return 2 + size * (1 + selection_cost(item, inner.selection_set, variables))
    if not isinstance(value, dict):
        return 0
    nodes = value.get("nodes") or [e.get("node") for e in value.get("edges") or []]
    return 2 + sum(1 + selection_cost(item, inner.selection_set, variables, n, True)
                   for n in nodes)  # fmt: skip


def field_cost(field: GraphQLField, node: FieldNode, variables: dict[str, Any],
               value: Any = None, actual: bool = False) -> int:  # fmt: skip
    """One field's cost: requested (`actual` False) or as answered (`value`)."""
    kind = get_named_type(field.type)
    if not isinstance(kind, GraphQLObjectType):
        return 0
    args = get_argument_values(field, node, variables)
    size = int(args.get("first") or args.get("last") or (0 if _is_list(field) else 1))
    if kind.name.endswith("Connection"):
        return _connection_cost(kind, node, None if actual else size, variables, value)
    if actual and value is None:
        return 0
    items = (value if isinstance(value, list) else [value]) if actual else [None] * max(size, 1)
    return sum(1 + selection_cost(kind, node.selection_set, variables, item, actual)
               for item in items)  # fmt: skip


def selection_cost(kind: GraphQLObjectType, selection: SelectionSetNode | None,
                   variables: dict[str, Any], data: Any = None,
                   actual: bool = False) -> int:  # fmt: skip
    total = 0
    for node in selection.selections if selection else ():
        if not isinstance(node, FieldNode) or node.name.value.startswith("__"):
            continue
        key = node.alias.value if node.alias else node.name.value
        value = data.get(key) if isinstance(data, dict) else None
        total += field_cost(kind.fields[node.name.value], node, variables, value, actual)
    return total


def operation_cost(operation: OperationDefinitionNode, variables: dict[str, Any],
                   data: dict[str, Any] | None = None) -> int:  # fmt: skip
    """The operation's requested cost (no `data`), or its actual cost given the answer."""
    if operation.operation is OperationType.MUTATION:
        fields = [n for n in operation.selection_set.selections if isinstance(n, FieldNode)]
        return MUTATION_COST * len(fields)
    root = SCHEMA.query_type
    assert root is not None
    return selection_cost(root, operation.selection_set, variables, data, data is not None)


def _serialize_time(value: Any) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError(f"DateTime cannot represent {value!r}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime:
    """ISO 8601 with an offset, as Shopify's DateTime takes it (a date alone is midnight
    UTC)."""
    if not isinstance(value, str):
        raise TypeError("DateTime must be an ISO 8601 text")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_TIME = SCHEMA.type_map["DateTime"]
assert isinstance(_TIME, GraphQLScalarType)
_TIME.serialize = _serialize_time  # type: ignore[method-assign]
_TIME.parse_value = parse_time  # type: ignore[method-assign]


def _literal(node: Any, variables: dict[str, Any] | None = None) -> datetime:
    return parse_time(getattr(node, "value", None))


_TIME.parse_literal = _literal  # type: ignore[method-assign]
