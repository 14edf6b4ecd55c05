"""Which zone a carrier adapter read a stored scan's offset-less local time in, and which
zone it gave a promised date's day-end, worked out again from what the database keeps (the
scan's place, the shipment's destination) with either zone lookup: the legacy one the scan
was read with, or today's. Each function follows its adapter's choice exactly where the
database says enough (see each); where the adapter used what only the carrier's answer said
and the database did not keep, the nearest stored stand-in is named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from carriers.dhl.parse import POSTAL_ZONES
from trackwatch.zones import iso_country

# A zone lookup: (country, postal code, state) -> zone; trackwatch.zones.zone_for or the
# legacy one.
Lookup = Callable[[str | None, str | None, str | None], tzinfo]


@dataclass(frozen=True)
class Spot:
    """A place's fields as a stored event's `place` keeps them."""

    country: str | None = None
    state: str | None = None
    postal_code: str | None = None

    @classmethod
    def of(cls, place: Mapping[str, Any] | None) -> Spot:
        place = place or {}
        return cls(place.get("country") or None, place.get("state") or None,
                   place.get("postal_code") or None)  # fmt: skip

    @property
    def named(self) -> bool:
        return bool(self.country or self.state or self.postal_code)


def query_zone(destination: Spot, lookup: Lookup) -> tzinfo:
    """carriers.base.Query.zone: the shipment's destination country and postal code (the
    poller's query names no state)."""
    return lookup(destination.country, destination.postal_code, None)


def _dhl_zone(place: Spot, fallback: tzinfo, lookup: Lookup) -> tzinfo:
    """carriers.dhl.parse._zone: a postal code counts only where it names a zone (the
    legacy lookup reads none outside the US, so one rule serves both lookups)."""
    if not (place.country or place.state):
        return fallback
    postal = place.postal_code if place.country in POSTAL_ZONES else None
    return lookup(place.country, postal, place.state)


def dhl_destination_zone(destination: Spot, lookup: Lookup) -> tzinfo:
    """carriers.dhl.parse._end_zone of the destination DHL names, taken to be the
    shipment's own (DHL's answer is not kept); the query's zone when it has no country."""
    fallback = query_zone(destination, lookup)
    spot = Spot(iso_country(destination.country or "") or None, None, destination.postal_code)
    return _dhl_zone(spot, fallback, lookup) if spot.country else fallback


def scan_zone(carrier: str, place: Spot, destination: Spot, origin: Spot | None,
              lookup: Lookup) -> tzinfo:  # fmt: skip
    """The zone `carrier`'s adapter read a scan's local time in. `origin`: DHL reads scans
    that name no place at the shipment's origin, which DHL's answer names and the database
    does not keep: the earliest scan that names a country stands in for it."""
    if carrier == "ups":  # parse._zone and push._stamp: always the scan's place
        return lookup(place.country, place.postal_code, place.state)
    if carrier == "dhl":
        destination_zone = dhl_destination_zone(destination, lookup)
        if origin is not None and origin.country:
            fallback = _dhl_zone(origin, destination_zone, lookup)
        else:
            fallback = destination_zone
        return _dhl_zone(place, fallback, lookup)
    # FedEx and USPS: carriers.base.zone_of(place, the query's zone). USPS reads its
    # answer's destination state and ZIP first when it gives them (not kept): the
    # shipment's destination stands in for them.
    if not place.named:
        return query_zone(destination, lookup)
    return lookup(place.country, place.postal_code, place.state)


def eta_zone(carrier: str, destination: Spot, lookup: Lookup) -> tzinfo:
    """The zone a carrier's promised date was made a day-end in: the destination's, as
    each adapter reads it (DHL's without a foreign postal code)."""
    if carrier == "dhl":
        return dhl_destination_zone(destination, lookup)
    return query_zone(destination, lookup)
