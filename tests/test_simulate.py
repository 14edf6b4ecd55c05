"""trackwatch simulate on small worlds: the daemon misses nothing, raises nothing false and
stays inside every quota; the generated scenarios raise what they are meant to."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest

from tests.conftest import SettingsFactory
from trackwatch.app import open_daemon
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.model import Place, Shipment
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.sim.command import run_simulation
from trackwatch.sim.report import figures, score
from trackwatch.sim.run import START, STEP, simulate
from trackwatch.sim.scenarios import generate
from trackwatch.sim.stepping import ClockSleep, Stepper

# What each scenario must raise (at least), judged by the all-knowing run.
MEANT = {"stalled": "stalled", "recovered": "stalled", "late": "late", "lost": "lost",
         "exception": "exceptions", "address_problem": "exceptions",
         "customs_hold": "exceptions", "not_picked_up": "not_picked_up",
         "delivered_not_received": "delivered_not_received", "on_time": "delivered"}  # fmt: skip


async def test_a_small_world_is_watched_without_a_miss_a_false_alert_or_a_quota_overrun() -> None:
    parcels = generate(160, START, 8, seed=5)
    outcome = await simulate(parcels, 14)
    result = figures(outcome, 14, START + timedelta(days=14), 0.0)
    assert result["alerts_expected"] > 200
    assert (result["missed_alerts"], result["false_alerts"]) == (0, 0), result["examples"]
    assert result["over_quota_calls"] == 0
    assert result["calls_per_shipment"]["median"] <= 8
    for rule in ("stalled", "late", "not_picked_up"):
        assert result["latency_minutes"][rule]["p95"] <= 60
    assert result["latency_minutes"]["exceptions"]["p95"] <= 360
    # The scenarios do what they say: each raises its alert in the ground truth.
    raised = {(k[0], k[1]) for k in outcome.expected}
    ids = {p.key: i + 1 for i, p in enumerate(sorted(parcels, key=lambda p: p.shipped_at))}
    for parcel in parcels:
        meant = MEANT.get(parcel.scenario)
        if meant and parcel.shipped_at < START + timedelta(days=6):
            assert (ids[parcel.key], meant) in raised, (parcel.scenario, parcel.parcel.number)
    slow = [ids[p.key] for p in parcels if p.scenario == "slow_but_fine"]
    assert slow and not any((sid, "stalled") in raised for sid in slow)


async def test_the_score_counts_a_missed_and_a_false_alert() -> None:
    parcels = generate(30, START, 3, seed=2)
    outcome = await simulate(parcels, 6)
    key = next(iter(outcome.actual))
    truth = outcome.expected.pop(key)  # the daemon's alert is now unexpected...
    outcome.expected[(key[0], key[1], "another episode")] = truth  # ...and this one unseen
    result = score(outcome, START + timedelta(days=30))
    assert (result["missed_alerts"], result["false_alerts"]) == (1, 1)


def test_json_output_with_a_baseline_has_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--shipments", "40", "--days", "6", "--seed", "9", "--json",
                 "--baseline", "fixed:4h"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    fields = {"shipments", "days", "calls_per_shipment", "calls_by_carrier", "over_quota_calls",
              "rate_limited", "latency_minutes", "missed_alerts", "false_alerts",
              "wall_seconds", "peak_rss_mb"}  # fmt: skip
    assert fields <= set(result) and fields <= set(result["baseline"])
    assert result["shipments"] == result["baseline"]["shipments"] == 40
    assert result["calls_by_carrier"]["usps"]["quota"] == "60/hour"
    smart, fixed = result["calls_per_shipment"], result["baseline"]["calls_per_shipment"]
    assert smart["median"] < fixed["median"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "fixed4h"], "baseline: 'fixed4h' is not fixed:<hours>h"),
        (["--carriers", "ups,pigeon"], "carriers: 'pigeon': not one of usps, ups, fedex, dhl"),
        (["--shipments", "0"], "shipments: must be positive"),
    ],
)
def test_bad_arguments_name_the_field(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--days", "1", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_same_seed_prints_the_same_report(capsys: pytest.CaptureFixture[str]) -> None:
    # Virtual time: a slow or busy machine changes only the measured wall time and memory.
    measured = re.compile(r"[\d.]+ s wall, peak RSS [\d.]+ MB")
    reports = []
    for _ in range(2):
        assert main(["simulate", "--shipments", "40", "--days", "6", "--seed", "3"]) == 0
        text = capsys.readouterr().out
        assert measured.search(text), text
        reports.append(measured.sub("(measured)", text))
    assert reports[0] == reports[1]
    assert "alerts: " in reports[0] and "calls per shipment" in reports[0]


async def test_a_pass_that_sleeps_on_the_stepped_clock_fails_instead_of_hanging(
    make_settings: SettingsFactory, world: World, clock: FrozenClock
) -> None:
    # A carrier call retried after a wait sleeps on the clock, which moves only between passes.
    nyc = Place(city="New York", state="NY", postal_code="10001", country="US")
    number = "1Z5R89390357567127"
    world.add(Parcel("ups", number, [Milestone(clock.now(), "label", nyc)], nyc))
    world.inject("ups", "503")
    settings = make_settings(carriers={"ups": {"max_inline_wait_seconds": 30}})
    async with open_daemon(settings, clock) as daemon:
        shipment = Shipment(store="shop", carrier="ups", tracking_number=number, order_id="A1",
                            customer_email="c@example.com", destination_postal_code="10001",
                            shipped_at=clock.now())  # fmt: skip
        await daemon.store.add_shipment(shipment, clock.now())
        with pytest.raises(ClockSleep, match="max_inline_wait_seconds = 0"):
            await asyncio.wait_for(Stepper(daemon, clock, STEP).pass_at(clock.now()), 30)


def test_a_world_of_one_carrier() -> None:
    result = run_simulation(20, 4, 1, carriers="usps")
    assert set(c for c, v in result["calls_by_carrier"].items() if v["calls"]) == {"usps"}


def test_a_large_world_never_reuses_a_tracking_number() -> None:
    # UPS numbers have seven random digits: 3,600 of them collide more often than not.
    parcels = generate(10_000, START, 25, seed=1)
    assert len({(p.parcel.carrier, p.parcel.number) for p in parcels}) == 10_000
