"""The carriers' report card's figures (issue 20, item 2), against a real database of either
backend filled through the store's own methods: tests/reportcard_data.py says, parcel by
parcel, why each figure is what it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import both_backends
from tests.reportcard_data import SINCE, UNTIL, fill, write_config
from trackwatch.config import load_settings
from trackwatch.reportcard.figures import Card, Figures, Rate, quantile, read_card
from trackwatch.reportcard.promised import origins, policy_promise
from trackwatch.store import Store
from trackwatch.store.lanes import Period


async def card(store: Store, tmp_path: Path, database: str, stores: frozenset[str] | None) -> Card:
    settings = load_settings(write_config(tmp_path / "tw.toml", database))
    period = Period(SINCE, UNTIL, stores)
    return await read_card(store, period, origins(settings), policy_promise(settings))


def lane(card: Card, carrier: str, origin: str, destination: str) -> Figures:
    (found,) = [f for f in card.lanes if (f.carrier, f.origin, f.destination) ==
                (carrier, origin, destination)]  # fmt: skip
    return found


@both_backends
async def test_every_figure_of_a_lane_as_worked_out_by_hand(
    any_store: Store, database: str, tmp_path: Path
) -> None:
    await fill(any_store)
    report = await card(any_store, tmp_path, database, None)
    ups = lane(report, "ups", "US", "US")
    assert (ups.shipped, ups.delivered) == (4, 4)
    assert ups.on_time_eta == Rate(3, 4)  # the first ETA, not P3's later one
    assert ups.on_time_promise == Rate(2, 4)  # P1 by its date, P4 by the policy's
    assert (ups.transit_median, ups.transit_p90) == (3.8, 5.4)
    assert (ups.stalled, ups.exceptions, ups.lost) == (Rate(1, 4), Rate(1, 4), Rate(0, 4))
    assert (ups.told, ups.told_median, ups.told_p90) == (2, 60.0, 84.0)
    dhl = lane(report, "dhl", "DE", "DE")
    assert (dhl.shipped, dhl.delivered, dhl.on_time_eta, dhl.on_time_promise) == (
        2, 1, Rate(1, 1), Rate(1, 1))  # fmt: skip
    assert (dhl.transit_median, dhl.transit_p90, dhl.lost) == (2.0, 2.0, Rate(1, 2))
    assert (dhl.told, dhl.told_median) == (0, None)
    abroad = lane(report, "ups", "US", "DE")
    assert (abroad.shipped, abroad.delivered, abroad.on_time_eta.value) == (1, 0, None)
    assert report.transit_days[("ups", "US", "US")] == {3: 2, 4: 1, 6: 1}


@both_backends
async def test_a_carriers_figures_add_up_its_lanes(
    any_store: Store, database: str, tmp_path: Path
) -> None:
    await fill(any_store)
    report = await card(any_store, tmp_path, database, None)
    assert [(f.carrier, f.lane) for f in report.carriers] == [
        ("dhl", "all lanes"), ("ups", "all lanes")]  # fmt: skip
    ups = report.carriers[1]
    assert (ups.shipped, ups.delivered, ups.on_time_eta, ups.stalled) == (
        5, 4, Rate(3, 4), Rate(1, 5))  # fmt: skip


@both_backends
async def test_only_the_stores_asked_for_and_the_period(
    any_store: Store, database: str, tmp_path: Path
) -> None:
    await fill(any_store)
    euro = await card(any_store, tmp_path, database, frozenset({"euro"}))
    assert [(f.carrier, f.origin, f.destination) for f in euro.lanes] == [("dhl", "DE", "DE")]
    nobody = await card(any_store, tmp_path, database, frozenset())
    assert nobody.lanes == [] and nobody.carriers == []


@pytest.mark.parametrize(("values", "q", "expected"), [
    ({2: 1, 3: 1, 4: 1, 5: 1}, 0.5, 3.5), ({2: 1, 3: 1, 4: 1, 5: 1}, 0.9, 4.7),
    ({7: 3}, 0.9, 7.0), ({}, 0.5, None), ({1: 1, 10: 1}, 0.5, 5.5),
])  # fmt: skip
def test_quantiles_of_a_histogram(values: dict[int, int], q: float, expected: float | None) -> None:
    found = quantile(values, q)
    assert found == pytest.approx(expected) if expected is not None else found is None
