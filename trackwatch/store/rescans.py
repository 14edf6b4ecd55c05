"""A scan a push stored first, read again by a poll: one scan, not two.

Events are unique by (shipment, code, instant, place label). A push may name the place with
other fields than Track does (UPS Track Alert's in-transit scans carry no postal code), so
the poll's reading of the same scan has another label and would be stored beside it: the
console, the tracking page and the rules would then see it twice. Before a poll's events of
a pushed carrier are written, the stored readings they replace are found here and deleted.
Pure: each backend reads the rows and deletes the ids."""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_FIELDS = ("city", "state", "postal_code", "country")


@dataclass(frozen=True)
class StoredScan:
    """An event row as stored: `instant` as the backend keeps it (text or a datetime), the
    same way as the polled scans' instants passed beside it."""

    id: int
    shipment_id: int
    code: str
    instant: Hashable
    place: str
    data: str


def _place_of(data: str) -> Mapping[str, Any]:
    try:
        place = json.loads(data).get("place")
    except (ValueError, AttributeError):
        return {}
    return place if isinstance(place, dict) else {}


def _compatible(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """The same place named with more or fewer fields: no field both name differs."""
    return all(
        not one.get(f) or not other.get(f) or str(one[f]).casefold() == str(other[f]).casefold()
        for f in _FIELDS
    )


def replaced(
    stored: Iterable[StoredScan], polled: Iterable[tuple[int, Hashable, str, str, str]]
) -> list[int]:
    """The ids of stored events that the polled scans (shipment id, instant, code, place
    label, data: the order of the events table's insert) read again under another place label. A stored event matching none is
    kept: two scans at one instant in places that disagree are two scans."""
    by_key: dict[tuple[int, str, Hashable], list[tuple[str, str]]] = {}
    for sid, instant, code, label, data in polled:
        by_key.setdefault((sid, code, instant), []).append((label, data))
    gone = []
    for row in stored:
        readings = by_key.get((row.shipment_id, row.code, row.instant), [])
        if any(label == row.place for label, _ in readings):
            continue  # the poll's own row: the upsert updates it
        mine = _place_of(row.data)
        if any(_compatible(mine, _place_of(data)) for _, data in readings):
            gone.append(row.id)
    return gone
