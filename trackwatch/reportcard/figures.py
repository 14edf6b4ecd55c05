"""The report card's figures: pure functions over what the store counted (trackwatch.store.
lanes) and the stores' policies. Stores are grouped by their policy's origin country, so
two stores shipping from the US share the US lanes.

Against the store's promise, a parcel is measured by the date promised with its order, else
by the store policy's delivery promise (rules.promise.store_promise: processing, transit
window, peak season); a parcel neither gives is left out of that rate, as a parcel without
a first ETA is left out of the carrier's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil, floor

from trackwatch.store.contract import ReportSource
from trackwatch.store.lanes import TOLD, TRANSIT, LaneCounts, Period, Spread, Unpromised

Promise = Callable[[Unpromised], datetime | None]
Key = tuple[str, str, str]  # carrier, origin, destination ("", "" for every lane)


@dataclass(frozen=True)
class Rate:
    """`count` of `of`; no value when there was nothing to count."""

    count: int
    of: int

    @property
    def value(self) -> float | None:
        return self.count / self.of if self.of else None


@dataclass(frozen=True)
class Figures:
    """One carrier's figures on one lane, or over all its lanes (origin and destination
    ""). Transit in days from shipped to delivered; `told_*` in minutes from an alert
    opened to the first notice sent to the customer, over the `told` alerts that had one."""

    carrier: str
    origin: str
    destination: str
    shipped: int
    delivered: int
    on_time_eta: Rate
    on_time_promise: Rate
    transit_median: float | None
    transit_p90: float | None
    stalled: Rate
    exceptions: Rate
    lost: Rate
    told: int
    told_median: float | None
    told_p90: float | None

    @property
    def lane(self) -> str:
        return f"{self.origin} → {self.destination}" if self.origin else "all lanes"


@dataclass(frozen=True)
class Card:
    """The figures per carrier and per lane, and each lane's transit days (whole days to
    parcels) for the charts."""

    period: Period
    carriers: list[Figures]
    lanes: list[Figures]
    transit_days: dict[Key, dict[int, int]]


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    transit: Counter[int] = field(default_factory=Counter)  # tenths of a day
    told: Counter[int] = field(default_factory=Counter)  # minutes


def quantile(histogram: Mapping[int, int], q: float) -> float | None:
    """The q-quantile of the values `histogram` counts, interpolated between the two values
    around it as numpy's and statistics.quantiles' inclusive method do (the median of 2, 3,
    4, 5 is 3.5); None for no values."""
    n = sum(histogram.values())
    if n == 0:
        return None
    position = q * (n - 1)
    low, high = _nth(histogram, floor(position)), _nth(histogram, ceil(position))
    return low + (high - low) * (position - floor(position))


def _nth(histogram: Mapping[int, int], index: int) -> int:
    """The value at `index` (from 0) of the values counted, in order."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if index < seen:
            return value
    raise IndexError(index)


def _keys(carrier: str, origin: str, destination: str) -> tuple[Key, Key]:
    return (carrier, origin, destination), (carrier, "", "")


def _count(tallies: dict[Key, _Tally], row: LaneCounts, origin: str) -> None:
    for key in _keys(row.carrier, origin, row.destination):
        counts = tallies[key].counts
        counts.update({
            "shipped": row.shipped, "delivered": row.delivered, "eta_known": row.eta_known,
            "eta_met": row.eta_met, "promised_known": row.promised_known,
            "promised_met": row.promised_met, "stalled": row.stalled,
            "exceptions": row.exceptions, "lost": row.lost,
        })  # fmt: skip


def _spread(tallies: dict[Key, _Tally], row: Spread, origin: str) -> None:
    for key in _keys(row.carrier, origin, row.destination):
        tally = tallies[key]
        histogram = tally.transit if row.measure == TRANSIT else tally.told
        histogram[row.value] += row.count


def _promise(tallies: dict[Key, _Tally], row: Unpromised, origin: str, due: datetime) -> None:
    met = int(row.delivered_at <= due)
    for key in _keys(row.carrier, origin, row.destination):
        counts = tallies[key].counts  # one row a parcel: Counter.update(**kw) cost 4x this
        counts["promised_known"] += 1
        counts["promised_met"] += met


def _figures(key: Key, tally: _Tally) -> Figures:
    c = tally.counts
    median, p90 = quantile(tally.transit, 0.5), quantile(tally.transit, 0.9)
    return Figures(
        carrier=key[0], origin=key[1], destination=key[2], shipped=c["shipped"],
        delivered=c["delivered"], on_time_eta=Rate(c["eta_met"], c["eta_known"]),
        on_time_promise=Rate(c["promised_met"], c["promised_known"]),
        transit_median=None if median is None else round(median / 10, 1),
        transit_p90=None if p90 is None else round(p90 / 10, 1),
        stalled=Rate(c["stalled"], c["shipped"]), exceptions=Rate(c["exceptions"], c["shipped"]),
        lost=Rate(c["lost"], c["shipped"]), told=sum(tally.told.values()),
        told_median=quantile(tally.told, 0.5), told_p90=quantile(tally.told, 0.9),
    )  # fmt: skip


def _whole_days(tenths: Mapping[int, int]) -> dict[int, int]:
    days: Counter[int] = Counter()
    for value, count in tenths.items():
        days[floor(value / 10)] += count
    return dict(sorted(days.items()))


Tallies = dict[str, dict[Key, _Tally]]  # per store


def tally(
    counts: Iterable[LaneCounts],
    spreads: Iterable[Spread],
    unpromised: Iterable[Unpromised],
    origins: Mapping[str, str],
    promise: Promise,
) -> Tallies:
    """Each store's tallies from the store's counts; `origins` maps each store to its
    origin country (a store not named counts as "??"), `promise` gives a parcel's due date
    by its store's policy (None: the policy promises nothing for it). Kept per store so
    that one reading serves every person's choice of stores (trackwatch.reportcard.cache)."""
    tallies: Tallies = defaultdict(lambda: defaultdict(_Tally))
    for row in counts:
        _count(tallies[row.store], row, origins.get(row.store, "??"))
    for spread in spreads:
        if spread.measure in (TRANSIT, TOLD):
            _spread(tallies[spread.store], spread, origins.get(spread.store, "??"))
    for parcel in unpromised:
        due = promise(parcel)
        if due is not None:
            _promise(tallies[parcel.store], parcel, origins.get(parcel.store, "??"), due)
    return tallies


def _merged(tallies: Tallies, stores: frozenset[str] | None) -> dict[Key, _Tally]:
    merged: dict[Key, _Tally] = defaultdict(_Tally)
    for store, lanes in tallies.items():
        if stores is not None and store not in stores:
            continue
        for key, part in lanes.items():
            whole = merged[key]
            whole.counts.update(part.counts)
            whole.transit.update(part.transit)
            whole.told.update(part.told)
    return merged


def card_from(period: Period, tallies: Tallies) -> Card:
    """The card of `period`'s stores (all of them when None) from every store's tallies."""
    merged = _merged(tallies, period.stores)
    figures = [_figures(key, merged[key]) for key in sorted(merged)]
    return Card(
        period,
        carriers=[f for f in figures if not f.origin],
        lanes=[f for f in figures if f.origin],
        transit_days={k: _whole_days(t.transit) for k, t in sorted(merged.items()) if k[1]},
    )


def card_of(
    period: Period,
    counts: Iterable[LaneCounts],
    spreads: Iterable[Spread],
    unpromised: Iterable[Unpromised],
    origins: Mapping[str, str],
    promise: Promise,
) -> Card:
    """The card from the store's counts of `period` (see `tally`)."""
    return card_from(period, tally(counts, spreads, unpromised, origins, promise))


async def read_card(
    source: ReportSource, period: Period, origins: Mapping[str, str], promise: Promise
) -> Card:
    """The card of `period`, read from the store."""
    counts = await source.lane_counts(period)
    spreads = await source.lane_spreads(period)
    unpromised = await source.unpromised_deliveries(period)
    return card_of(period, counts, spreads, unpromised, origins, promise)
