"""A world whose history is already over: parcels across the four carriers from the
simulator's scenarios, each cut at a random scan and moved back in time so that its last
scan was `QUIET` ago. Some were delivered; the others have been silent for longer than any
stall threshold, so what the rules make of them (stalled, late, not picked up, exceptions,
lost, delivered, risky) does not depend on when, within the minutes a run takes, the daemon
looks. Every third parcel was just shipped instead: a label hours old, nothing to say yet."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from trackwatch.model import Shipment
from trackwatch.sandbox.world import World
from trackwatch.sim.scenarios import SimParcel, generate

CARRIERS = ("usps", "ups", "fedex", "dhl")
# Twelve days of silence is past every stall threshold but customs' (10 business days), and
# that one's deadline is days away, not minutes; the 30-day expiry is far.
QUIET = timedelta(days=12)
JITTER_HOURS = 24.0
FRESH = 3  # every third parcel was just shipped instead
FRESH_HOURS = (1.0, 6.0)
# Half the parcels that have one of these scans are cut just after it (exceptions, lost,
# customs, delivered: rarer than a quiet spell when cut at random).
NOTABLE = frozenset({"damaged", "address_issue", "customs_hold", "lost", "delivered"})


def past_parcels(count: int, seed: int, now: datetime) -> list[SimParcel]:
    """`count` parcels, the four carriers in turn, each with scans only before now."""
    rnd = random.Random(seed)
    parcels: list[SimParcel] = []
    for index, carrier in enumerate(CARRIERS):
        share = count // len(CARRIERS) + (index < count % len(CARRIERS))
        for parcel in generate(share, now - QUIET, 1.0, seed * 7 + index, (carrier,)):
            parcel.key = len(parcels)
            if parcel.key % FRESH == 0:
                parcels.append(_fresh(parcel, rnd, now))
                continue
            quiet = QUIET + timedelta(hours=rnd.uniform(0, JITTER_HOURS))
            parcels.append(_cut(parcel, rnd, now - quiet))
    return parcels


def _fresh(parcel: SimParcel, rnd: random.Random, now: datetime) -> SimParcel:
    """Just shipped: a label a few hours old, nothing else. No rule has anything to say
    yet, so the daemon may judge it before its first poll and schedule that poll later."""
    parcel.parcel.timeline = parcel.parcel.timeline[:1]
    return _cut(parcel, rnd, now - timedelta(hours=rnd.uniform(*FRESH_HOURS)))


def _cut(parcel: SimParcel, rnd: random.Random, last_scan: datetime) -> SimParcel:
    """The parcel's first scans up to a random or notable one, moved so that one happened at
    `last_scan`; nobody presses a report link (no run depends on when)."""
    timeline = parcel.parcel.timeline
    notable = [i for i, m in enumerate(timeline) if m.kind in NOTABLE]
    end = notable[0] + 1 if notable and rnd.random() < 0.5 else rnd.randint(1, len(timeline))
    timeline = timeline[:end]
    shift = timeline[-1].at - last_scan
    days = timedelta(days=shift.days)
    parcel.parcel.timeline = [replace(m, at=m.at - shift) for m in timeline]
    parcel.shipped_at -= shift
    if parcel.parcel.scheduled_delivery is not None:
        parcel.parcel.scheduled_delivery -= days
    if parcel.parcel.shipped_on is not None:
        parcel.parcel.shipped_on = parcel.shipped_at.date()
    parcel.report_at = None
    return parcel


def world_of(parcels: Sequence[SimParcel]) -> World:
    world = World()
    for parcel in parcels:
        world.add(parcel.parcel)
    return world


def shipment_of(parcel: SimParcel, store: str) -> Shipment:
    place = parcel.parcel.destination
    return Shipment(
        store=store, carrier=parcel.parcel.carrier, tracking_number=parcel.parcel.number,
        order_id=f"K{parcel.key:04d}", customer_email=f"c{parcel.key}@example.com",
        destination_country=place.country or "US",
        destination_postal_code=place.postal_code or "", destination_city=place.city or "",
        shipped_at=parcel.shipped_at,
    )  # fmt: skip
