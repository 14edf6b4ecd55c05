"""`trackwatch simulate --push` on small worlds: every carrier pushes in virtual time, the
daemon misses nothing and raises nothing false, alerts that follow a scan come within
minutes of it, polls drop to about two per parcel, and the same seed prints the same report."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from trackwatch.cli import main
from trackwatch.sim.report import figures, targets_met
from trackwatch.sim.run import START, simulate
from trackwatch.sim.scenarios import generate


async def test_a_small_world_with_push_alerts_within_minutes_of_the_scan() -> None:
    parcels = generate(120, START, 8, seed=5)
    outcome = await simulate(parcels, 14, push=True)
    result = figures(outcome, 14, START + timedelta(days=14), 0.0)
    assert (result["missed_alerts"], result["false_alerts"]) == (0, 0), result["examples"]
    assert result["calls_per_shipment"]["median"] <= 3
    for rule in ("delivered", "exceptions"):
        assert result["latency_minutes"][rule]["p95"] <= 15
    push = result["push"]
    assert push["pushes_refused"] == 0
    assert set(push["pushes_taken"]) == {"usps", "ups", "fedex", "dhl"}
    assert push["subscription_calls"]["ups"] < sum(1 for p in parcels if p.parcel.carrier == "ups")
    assert targets_met(result) == []
    # The targets without push (against the fixed 4 h baseline) are not push's: a pushed
    # kind a minute later than the baseline's is no miss with push, one without.
    result["versus_baseline"] = {"fewer_calls": 16.5, "calls_per_shipment_median": [2, 33],
                                 "latency_minutes": {"delivered_not_received": [{"p95": 3.7},
                                                                               {"p95": 2.1}]}}  # fmt: skip
    assert targets_met(result) == []
    del result["push"]
    assert targets_met(result) == ["delivered_not_received p95 3.7 min > the baseline's 2.1"]


def test_the_same_seed_prints_the_same_report_with_push(capsys: pytest.CaptureFixture[str]) -> None:
    measured = re.compile(r"[\d.]+ s wall, peak RSS [\d.]+ MB")
    reports = []
    for _ in range(2):
        assert main(["simulate", "--shipments", "40", "--days", "6", "--seed", "3", "--push"]) == 0
        reports.append(measured.sub("(measured)", capsys.readouterr().out))
    assert reports[0] == reports[1]
    assert "smart+push" in reports[0] and "push: subscription calls" in reports[0]
