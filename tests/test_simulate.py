"""trackwatch simulate on small worlds: the daemon misses nothing, raises nothing false and
stays inside every quota; the generated scenarios raise what they are meant to."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SettingsFactory
from trackwatch.app import open_daemon
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.model import Place, Shipment
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.sim.command import run_simulation
from trackwatch.sim.declared import Declared, declare
from trackwatch.sim.report import (
    _baseline_misses,
    disagreements,
    figures,
    score,
    score_declared,
    versus,
)
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
    assert result["calls_per_shipment"]["median"] <= 12  # fixed 4 h: about 30
    # The scenarios' own declarations agree with the rules', and the daemon meets both.
    card = result["scenario_scorecard"]
    assert (card["missed_alerts"], card["false_alerts"]) == (0, 0), card["examples"]
    assert card["alerts_declared"] == result["alerts_expected"]
    assert result["disagreements"] == 0, result["disagreement_examples"]
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
    against = result["versus_baseline"]
    assert against["calls_per_shipment_median"] == [smart["median"], fixed["median"]]
    assert against["fewer_calls"] == round(fixed["median"] / smart["median"], 2)
    for rule, (ours, theirs) in against["latency_minutes"].items():
        assert ours == result["latency_minutes"].get(rule, ours)
        assert theirs == result["baseline"]["latency_minutes"].get(rule, theirs)


def test_the_baseline_runs_by_default_and_the_targets_are_judged_against_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "--shipments", "30", "--days", "5", "--seed", "4"]) == 0
    text = capsys.readouterr().out
    assert "beside the baseline (fixed) on the same world:" in text
    assert "calls per shipment, median: " in text and "target 6x" in text
    assert re.search(r"^    delivered +[\d.]+ / [\d.]+ +[\d.]+ / [\d.]+ +(yes|NO)$", text, re.M)
    assert main(["simulate", "--shipments", "30", "--days", "5", "--seed", "4",
                 "--baseline", "none"]) == 0  # fmt: skip
    assert "beside the baseline" not in capsys.readouterr().out


def test_a_miss_against_the_baseline_is_a_missed_target() -> None:
    latency = {"delivered": {"median": 90.0, "p95": 230.0, "count": 10}}
    result = {"calls_per_shipment": {"median": 6.0}, "carrier_calls": 600,
              "latency_minutes": latency}  # fmt: skip
    baseline = {"calls_per_shipment": {"median": 33.0}, "carrier_calls": 3000,
                "latency_minutes": {"delivered": {"median": 117.0, "p95": 228.0, "count": 10}}}  # fmt: skip
    misses = _baseline_misses(versus(result, baseline))
    assert misses == ["calls per shipment 6 vs 33 for the baseline: 5.5x fewer < 6x",
                      "delivered p95 230 min > the baseline's 228"]  # fmt: skip
    latency["delivered"]["p95"] = 228.0
    result["calls_per_shipment"] = {"median": 5.0}
    assert _baseline_misses(versus(result, baseline)) == []


async def test_the_scenario_scorecard_counts_missed_false_and_late_and_lists_disagreements() -> (
    None
):
    parcels = generate(30, START, 3, seed=2)
    outcome = await simulate(parcels, 6)
    end = START + timedelta(days=6)
    assert score_declared(outcome, end)["missed_alerts"] == 0 and not disagreements(outcome, end)
    sid, rule, _ = next(iter(outcome.actual))
    dropped = next(a for a in outcome.declared[sid] if a.rule == rule)
    outcome.declared[sid].remove(dropped)  # the daemon's alert is now beyond the declaration
    other = next(s for s in outcome.declared if s != sid)
    early = dropped.due - timedelta(hours=2)
    outcome.declared[other].append(Declared("lost", early, early, "a loss nobody raised"))
    for alerts in outcome.declared.values():  # and every raised alert now comes too late
        alerts[:] = [Declared(a.rule, a.due, a.due - timedelta(hours=1), a.why) for a in alerts]
    card = score_declared(outcome, end)
    assert (card["missed_alerts"], card["false_alerts"]) == (1, 1)
    assert card["later_than_declared"] == len(outcome.actual) - 1
    found = disagreements(outcome, end)
    assert any(line.startswith(f"shipment {sid} {rule}: rules ") for line in found)
    assert any(line.startswith(f"shipment {other} lost: rules none, scenario ") for line in found)


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


def _script(carrier: str, to: Place, scans: list[tuple[datetime, str, Place]]) -> Parcel:
    return Parcel(carrier, "X", [Milestone(at, kind, place) for at, kind, place in scans], to,
                  scheduled_delivery=date(2026, 12, 4))  # fmt: skip


def test_a_scenario_declares_its_alerts_from_its_script_alone() -> None:
    # Picked up on Tuesday 1 December, at the hub on Wednesday, then silence: stalled once
    # three business days have passed (Thu, Fri, Mon), presumed lost after ten, late 48 hours
    # after its Friday estimate (before the customer's grace day, a Monday, ends).
    ny, hub = ZoneInfo("America/New_York"), Place(city="Memphis", country="US")
    nyc = Place(city="New York", postal_code="10001", country="US")
    shipped = datetime(2026, 12, 1, 10, tzinfo=ny)
    parcel = _script("ups", nyc, [(shipped, "label", nyc),
                                  (datetime(2026, 12, 1, 16, tzinfo=ny), "picked_up", nyc),
                                  (datetime(2026, 12, 2, 7, tzinfo=ny), "arrived", hub)])  # fmt: skip
    said = {(d.rule, d.due) for d in declare(parcel, shipped, None)}
    assert said == {("stalled", datetime(2026, 12, 8, tzinfo=ny)),
                    ("late", datetime(2026, 12, 7, tzinfo=ny)),
                    ("lost", datetime(2026, 12, 17, tzinfo=ny))}  # fmt: skip
    # Abroad and last scanned at home: the customs stretch's ten days, a loss after twenty.
    berlin = Place(city="Berlin", postal_code="10115", country="DE")
    abroad = _script("dhl", berlin, [(shipped, "label", nyc),
                                     (datetime(2026, 12, 2, 7, tzinfo=ny), "arrived", hub)])  # fmt: skip
    stalled = next(d for d in declare(abroad, shipped, None) if d.rule == "stalled")
    assert stalled.due == datetime(2026, 12, 17, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_delivered_parcel_declares_its_delivery_and_its_customer_s_report() -> None:
    ny = ZoneInfo("America/New_York")
    nyc = Place(city="New York", postal_code="10001", country="US")
    shipped = datetime(2026, 12, 1, 10, tzinfo=ny)
    delivered = datetime(2026, 12, 3, 14, tzinfo=ny)
    parcel = _script("usps", nyc, [(shipped, "label", nyc),
                                   (datetime(2026, 12, 1, 16, tzinfo=ny), "picked_up", nyc),
                                   (delivered, "delivered", nyc)])  # fmt: skip
    report = delivered + timedelta(hours=20)  # the day's wait runs from the delivery scan
    said = [(d.rule, d.due, d.by - d.due) for d in declare(parcel, shipped, report)]
    assert said == [("delivered", delivered, timedelta(hours=4)),
                    ("risky_delivery", delivered, timedelta(hours=4)),
                    ("delivered_not_received", delivered + timedelta(hours=24), timedelta(hours=1))]  # fmt: skip
