"""Hypothesis strategies for what arrives from outside: API bodies, Shopify fulfillments,
report-link tokens and CSV files. Each mixes well-formed input (so that some of it is
stored, and a refusal is a real decision) with every kind of junk in every field.

Hypothesis is a dev dependency: this module is imported only by the fuzz phase.
"""

from __future__ import annotations

import csv
import io
import json
import random
from typing import Any

from hypothesis import strategies as st

from trackwatch.ingest import FIELDS, REQUIRED
from trackwatch.sim.numbers import make_number

ASCII = st.characters(min_codepoint=32, max_codepoint=126)
CARRIER_NAMES = ("usps", "ups", "fedex", "dhl")
JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=80),
    st.sampled_from(["", " ", "\x00", "'; DROP TABLE shipments; --", "9" * 400, "é🚚",
                     "2026-02-30", "1Z0000000000000000", "../../etc/passwd"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                        max_size=2),
)  # fmt: skip


@st.composite
def tracking_numbers(draw: st.DrawFn) -> tuple[str, str]:
    carrier = draw(st.sampled_from(CARRIER_NAMES))
    return carrier, make_number(carrier, random.Random(draw(st.integers(0, 2**32))))


@st.composite
def shipment_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A valid order, then some of its fields replaced by junk and some junk fields added."""
    carrier, number = draw(tracking_numbers())
    good: dict[str, Any] = {
        "order_id": f"F{draw(st.integers(1, 10**6))}", "carrier": carrier,
        "tracking_number": number, "shipped_at": "2026-11-23",
        "customer_name": "Ann Lee", "customer_email": "ann@example.com",
        "destination_country": "US", "destination_postal_code": "10001",
    }  # fmt: skip
    keys = st.sampled_from([*FIELDS, "customer_phone", "ordered_at", "direction", "id", "x"])
    return {**good, **draw(st.dictionaries(keys, JUNK, max_size=3))}


def api_bodies() -> st.SearchStrategy[bytes]:
    raw = st.sampled_from([b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe", b"{}" + b" " * 300_000])
    return st.one_of(
        shipment_fields().map(lambda d: json.dumps(d).encode()),
        shipment_fields().map(lambda d: json.dumps(d).encode()),
        st.recursive(JUNK, lambda inner: st.lists(inner, max_size=3), max_leaves=5).map(
            lambda v: json.dumps(v).encode()
        ),
        st.binary(max_size=200),
        raw,
    )  # fmt: skip


@st.composite
def fulfillments(draw: st.DrawFn) -> dict[str, Any]:
    carrier, number = draw(tracking_numbers())
    company = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL Express"}[carrier]
    good: dict[str, Any] = {
        "id": draw(st.integers(1, 10**9)), "order_id": draw(st.integers(1, 10**9)),
        "name": f"#{draw(st.integers(1000, 9999))}.1", "status": "success",
        "created_at": "2026-11-23T10:00:00-05:00", "tracking_company": company,
        "tracking_number": number, "tracking_numbers": [number], "email": "ann@example.com",
        "destination": {"name": "Ann Lee", "country_code": "US", "zip": "10001",
                        "city": "New York"},
    }  # fmt: skip
    keys = st.sampled_from([*good, "destination"])
    return {**good, **draw(st.dictionaries(keys, JUNK, max_size=3))}


def webhook_bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        fulfillments().map(lambda d: json.dumps(d).encode()),
        fulfillments().map(lambda d: json.dumps(d).encode()),
        JUNK.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
    )


TOPICS = st.one_of(st.sampled_from(["fulfillments/create", "fulfillments/update"]),
                   st.text(ASCII, max_size=30))  # fmt: skip


def link_tokens(genuine: list[str]) -> st.SearchStrategy[str]:
    """Link tokens: junk, and genuine ones with a part changed (the shipment, the expiry,
    one letter of the MAC)."""

    @st.composite
    def tampered(draw: st.DrawFn) -> str:
        shipment, stamp, mac = draw(st.sampled_from(genuine)).split("-", 2)
        part = draw(st.sampled_from(["shipment", "stamp", "mac", "none"]))
        if part == "shipment":
            shipment = str(draw(st.integers(0, 10**6)))
        elif part == "stamp":
            stamp = str(draw(st.integers(0, 2**40)))
        elif part == "mac" and mac:
            at = draw(st.integers(0, len(mac) - 1))
            mac = mac[:at] + ("A" if mac[at] != "A" else "B") + mac[at + 1 :]
        return f"{shipment}-{stamp}-{mac}"

    return st.one_of(st.text(max_size=80), tampered()) if genuine else st.text(max_size=80)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV export: a header of known and unknown columns in any order, rows of valid
    orders with junk in some cells; or bytes that are not a CSV at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    optional = [f for f in (*FIELDS, "customer_phone", "destination_city") if f not in REQUIRED]
    columns = sorted(REQUIRED) + draw(st.lists(st.sampled_from(optional), unique=True))
    if draw(st.integers(0, 4)) == 0:  # a header that is wrong: a column missing or unknown
        columns = columns[1:] + draw(st.lists(st.sampled_from(["notes", "", "store "]), max_size=1))
    columns = draw(st.permutations(columns))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 6))):
        row = {"store": "a", **draw(shipment_fields())}
        writer.writerow([_cell(row.get(c.strip(), "")) for c in columns])
    return out.getvalue().encode("utf-8", "surrogatepass")


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
