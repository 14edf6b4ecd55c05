"""The sandbox's success bodies validate against each carrier's published schema (the spec
files in tests/fixtures/<carrier>/), for every milestone kind it can render."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from trackwatch.model import Place
from trackwatch.sandbox.carriers.dhl import shipment_body
from trackwatch.sandbox.carriers.fedex import track_body as fedex_body
from trackwatch.sandbox.carriers.usps import track_items
from trackwatch.sandbox.world import MILESTONE_KINDS, Milestone, Parcel, World

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 23, 12, 0).astimezone()
CHI = Place(city="Chicago", state="IL", postal_code="60601", country="US")
LDN = Place(city="London", postal_code="SW1A 1AA", country="GB")


def flatten_all_of(node: Any) -> Any:
    """Merge `allOf` object parts into one object, the way the spec means them.

    USPS declares `additionalProperties: false` inside one allOf part (SharedTrackingDetail)
    while the other parts add deliveryDateExpectation and trackingEvents; validated
    literally, no TrackingDetail could ever be valid. Merging the parts keeps every
    property's own schema and applies the closed-object rule to the union.
    """
    if isinstance(node, list):
        return [flatten_all_of(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: flatten_all_of(v) for k, v in node.items()}
    parts = node.pop("allOf", None)
    if not parts or any("$ref" in p for p in parts):
        return {**node, "allOf": parts} if parts else node
    merged: dict[str, Any] = {k: v for k, v in node.items()}
    merged.setdefault("properties", {})
    for part in parts:
        merged["properties"].update(part.get("properties", {}))
        merged["required"] = sorted({*merged.get("required", []), *part.get("required", [])})
    return merged


def inline_refs(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    if depth > 30:
        return node
    if isinstance(node, list):
        return [inline_refs(n, root, depth + 1) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = root
        for key in node["$ref"][2:].split("/"):
            target = target[key]
        return inline_refs(target, root, depth + 1)
    return {k: inline_refs(v, root, depth + 1) for k, v in node.items()}


def validator(
    spec: dict[str, Any], schema: str, flatten: bool = False
) -> jsonschema.Draft7Validator:
    resolved = inline_refs({"$ref": f"#/components/schemas/{schema}"}, spec)
    # Formats are checked: USPS's eventTimestamp is a oneOf of "date" and "date-time" strings.
    return jsonschema.Draft7Validator(flatten_all_of(resolved) if flatten else resolved,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)  # fmt: skip


def parcels(carrier: str) -> list[Parcel]:
    """One parcel per milestone kind, each ending in that kind."""
    found = []
    for i, kind in enumerate(MILESTONE_KINDS):
        start = NOW - timedelta(days=3)
        timeline = [
            Milestone(start, "label", CHI),
            Milestone(start + timedelta(days=1), kind, LDN if kind == "customs_hold" else CHI),
        ]
        found.append(
            Parcel(
                carrier, f"{carrier}{i:04d}", timeline, CHI, date(2026, 11, 26), date(2026, 11, 20)
            )
        )
    return found


def errors(validate: jsonschema.Draft7Validator, body: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validate.iter_errors(body)
    ]


def test_usps_v3r2_items_and_207_validate() -> None:
    spec = yaml.safe_load((FIXTURES / "usps" / "usps-tracking-v3r2-openapi-3.2.3.yaml").read_text())
    world = World()
    for parcel in parcels("usps"):
        world.add(parcel)
    numbers = [p.number for p in parcels("usps")]
    status, body = track_items(world, numbers, NOW)
    assert status == 200 and len(body) == len(MILESTONE_KINDS)
    assert errors(validator(spec, "TrackingDetails", flatten=True), body) == []
    status, body = track_items(world, [*numbers[:3], "9400111206206406260787"], NOW)
    assert status == 207
    # MultiStatusResponse is a oneOf of two schemas that require nothing, so every item
    # matches both and a literal oneOf check fails for any body. Each item is checked
    # against the branch its statusCode names instead.
    branches = {"200": validator(spec, "SuccessResponse", flatten=True),
                "404": validator(spec, "FailureResponse", flatten=True)}  # fmt: skip
    assert sorted(item["statusCode"] for item in body) == ["200", "200", "200", "404"]
    for item in body:
        assert errors(branches[item["statusCode"]], item) == []


def test_usps_schema_flattening_still_rejects_unknown_fields() -> None:
    spec = yaml.safe_load((FIXTURES / "usps" / "usps-tracking-v3r2-openapi-3.2.3.yaml").read_text())
    world = World()
    world.add(parcels("usps")[0])
    _, body = track_items(world, [parcels("usps")[0].number], NOW)
    body[0]["trackingEvents"][0]["eventZIP"] = "60601"  # the v3 name, not allowed in v3r2
    assert errors(validator(spec, "TrackingDetails", flatten=True), body)


def test_fedex_bodies_validate() -> None:
    spec = json.loads((FIXTURES / "fedex" / "fedex-track-openapi.json").read_text())
    world = World()
    infos = []
    for parcel in parcels("fedex"):
        world.add(parcel)
        infos.append({"trackingNumberInfo": {"trackingNumber": parcel.number}})
    infos.append({"trackingNumberInfo": {"trackingNumber": "123456789012"}})
    body = fedex_body(world, infos, NOW)
    assert errors(validator(spec, "TrkcResponseVO_TrackingNumber"), body) == []


@pytest.mark.parametrize("kind", MILESTONE_KINDS)
def test_dhl_bodies_validate(kind: str) -> None:
    spec = yaml.safe_load(
        (FIXTURES / "dhl" / "dhl-unified-tracking-openapi-1.5.8.yaml").read_text()
    )
    parcel = parcels("dhl")[MILESTONE_KINDS.index(kind)]
    body = {"url": "/track/shipments", "shipments": [shipment_body(parcel, parcel.visible(NOW))]}
    assert errors(validator(spec, "TrackingShipments"), body) == []
