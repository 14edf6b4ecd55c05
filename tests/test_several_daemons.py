"""Several daemons on one PostgreSQL database (issue 18, item 6): `trackwatch simulate
--daemons 3 --kill-seed S` meets every target with one daemon killed mid-pass and restarted;
the sandbox counts a shipment polled twice in one slot; `trackwatch bench-daemons` prints
its figures (at a tiny size: no timing is asserted)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.postgres import Cluster, give_back, take_database
from trackwatch.app import open_daemon
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import Place, Shipment
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.sim.asking import AskingSandbox
from trackwatch.sim.command import several_run
from trackwatch.sim.numbers import make_number
from trackwatch.sim.report import render, targets_met
from trackwatch.sim.run import START, STEP, settings_data
from trackwatch.sim.scenarios import CARRIER_SHARE
from trackwatch.sim.stepping import Stepper

NYC = Place(city="New York", state="NY", postal_code="10001", country="US")


@pytest.fixture
async def pg_database(postgres: Cluster) -> AsyncIterator[str]:
    name = await take_database(postgres)
    yield postgres.url(name)
    await give_back(postgres, name)


def test_three_daemons_one_killed_mid_pass_meet_every_target(pg_database: str) -> None:
    result = several_run(40, 4, 3, tuple(CARRIER_SHARE), pg_database, 3, kill_seed=1)
    assert result["alerts_expected"] > 5
    assert (result["missed_alerts"], result["false_alerts"]) == (0, 0), result["examples"]
    assert result["over_quota_calls"] == 0
    assert result["polled_twice_in_one_slot"] == 0, result["polled_twice_examples"]
    assert result["notices_owed"] > 5 and result["notices_lost"] == 0
    kill = result["kill"]
    # Killed inside a pass (a carrier had just answered it), mid-run, and started again.
    assert kill["mid_pass"] and kill["while_calling"] in CARRIER_SHARE
    end = (START + timedelta(days=4)).isoformat()
    assert START.isoformat() < kill["killed_at"] < kill["restarted_at"] < end
    assert sorted(result["daemon_starts"]) == [1, 1, 2]
    assert targets_met(result) == []
    text = render(result, False)
    assert "polled twice in one slot 0, notices lost 0 of" in text
    assert re.search(r"kill: daemon \d SIGKILLed at .* \(mid-pass, just after \w+ answered", text)


async def _parcels(world: World, clock: FrozenClock) -> list[Shipment]:
    """One parcel per carrier in the world, and the shipment a store watches for each."""
    rnd, shipments = random.Random(4), []
    for carrier in CARRIER_SHARE:
        number = make_number(carrier, rnd)
        world.add(Parcel(carrier, number, [Milestone(clock.now(), "label", NYC)], NYC))
        shipments.append(Shipment(store="sim", carrier=carrier, tracking_number=number,
                                  order_id=f"A-{carrier}", customer_email="c@example.com",
                                  destination_postal_code="10001",
                                  shipped_at=clock.now()))  # fmt: skip
    return shipments


async def _pass(database: str, url: str, sink: HttpSink, clock: FrozenClock,
                shipments: list[Shipment]) -> None:  # fmt: skip
    settings = build_settings(settings_data(database, url, sink.url("staff"), "smart", 4.0))
    async with open_daemon(settings, clock) as daemon:
        await daemon.store.add_shipments(shipments, clock.now())
        await Stepper(daemon, clock, STEP).pass_at(clock.now())


async def test_a_number_asked_twice_in_one_slot_is_counted(tmp_path: Path, sink: HttpSink) -> None:
    # Two daemons without shared claims (a database each) watch the same four parcels: at
    # one instant, each asks every carrier about its number. One pass alone asks once.
    world, clock = World(), FrozenClock(START)
    sandbox = await AskingSandbox(world, clock).start()
    try:
        shipments = await _parcels(world, clock)
        await _pass(str(tmp_path / "one.db"), sandbox.base_url, sink, clock, shipments)
        assert world.asked_twice() == [] and len(world.asked) == 4
        await _pass(str(tmp_path / "two.db"), sandbox.base_url, sink, clock, shipments)
    finally:
        await sandbox.stop()
    twice = world.asked_twice()
    assert sorted((c, n) for c, n, _ in twice) == sorted((s.carrier, s.tracking_number)
                                                         for s in shipments)  # fmt: skip
    assert {at for _, _, at in twice} == {START}


def test_bench_daemons_prints_every_configuration_and_the_ratios(
    postgres: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench-daemons", "--database", postgres.admin_url, "--shipments", "40",
            "--seconds", "0.5", "--warm-up", "0.5"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    for backend, daemons in (("sqlite", "1 daemon "), ("postgresql", "1 daemon "),
                             ("postgresql", "2 daemons"), ("postgresql", "3 daemons")):  # fmt: skip
        assert re.search(rf"{backend}\s+{daemons}:\s+[\d.]+ responses/s \(\d+ in", out), out
    # Each figure beside what it cost the machine (at this size they drain in the warm-up,
    # so the figures themselves are a benchmark's to read, not a test's).
    cost = r"CPU ms a response: sandbox [\d.]+, daemons [\d.]+, database [\d.]+\)"
    assert len(re.findall(cost, out)) == 4, out
    assert re.search(r"PostgreSQL, over one daemon: 2/1 = [\d.]+x, 3/1 = [\d.]+x", out), out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--daemons", "3"], "database: several daemons"),
        (["--database", "sim.db", "--kill-seed", "1"], "database: several daemons"),
        (["--database", "postgresql://x/y", "--daemons", "1", "--kill-seed", "1"],
         "kill_seed: needs --daemons 2 or more"),
    ],
)  # fmt: skip
def test_several_daemon_arguments_name_the_field(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--days", "1", *args]) == 2
    assert message in capsys.readouterr().err


def test_one_daemon_on_a_sqlite_file_prints_what_it_always_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    measured = re.compile(r"[\d.]+ s wall, peak RSS [\d.]+ MB")
    reports = []
    for extra in ([], ["--database", str(tmp_path / "sim.db"), "--daemons", "1"]):
        assert main(["simulate", "--shipments", "30", "--days", "4", "--seed", "3", *extra]) == 0
        reports.append(measured.sub("(measured)", capsys.readouterr().out))
    assert reports[0] == reports[1] and "daemons:" not in reports[0]
    assert (tmp_path / "sim.db").exists()
    assert main(["simulate", "--days", "1", "--database", str(tmp_path / "sim.db")]) == 2
    assert "sim.db exists: the simulation needs a new file" in capsys.readouterr().err
