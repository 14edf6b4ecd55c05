"""What the carriers' report card reads of the store (trackwatch.reportcard), already counted
by the database: per store, carrier and destination country, so that the card can group
stores by their origin country without reading 100,000 shipments one by one.

Only parcels going out to customers count (returns run the lane backwards), shipped from
`since` up to but not including `until`. A parcel is delivered when its status is
`delivered`; its delivery is then its latest scan (`last_event_at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The rules whose alerts the card counts as a stall, an exception and a loss.
STALL_RULE = "stalled"
EXCEPTION_RULE = "exceptions"
LOSS_RULE = "lost"
# Spreads are kept as histograms: transit in tenths of a day, telling in whole minutes.
TRANSIT = "transit"
TOLD = "told"


@dataclass(frozen=True)
class Period:
    """Parcels shipped in [since, until) of `stores` (None: every store's)."""

    since: datetime
    until: datetime
    stores: frozenset[str] | None = None


@dataclass(frozen=True)
class LaneCounts:
    """One store's parcels with one carrier to one destination country. `eta_known`: those
    delivered that had a first ETA from the carrier, `eta_met` of them delivered by it;
    `promised_known` / `promised_met` likewise for a date promised with the order."""

    store: str
    carrier: str
    destination: str
    shipped: int
    delivered: int
    eta_known: int
    eta_met: int
    promised_known: int
    promised_met: int
    stalled: int
    exceptions: int
    lost: int


@dataclass(frozen=True)
class Spread:
    """`count` parcels (TRANSIT) or alerts (TOLD) of a lane whose measure is `value`: tenths
    of a day from shipped to delivered, or minutes from an alert opened to the first notice
    sent to the customer."""

    store: str
    carrier: str
    destination: str
    measure: str
    value: int
    count: int


@dataclass(frozen=True)
class Unpromised:
    """A delivered parcel with no date promised for its order: the store policy's promise
    is worked out for it in Python (business days, peak seasons)."""

    store: str
    carrier: str
    destination: str
    shipped_at: datetime
    ordered_at: datetime | None
    delivered_at: datetime
