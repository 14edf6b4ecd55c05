"""`trackwatch report` (issue 20, item 2): the card of tests/reportcard_data.py as text, JSON
and CSV, on either backend."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import both_backends
from tests.reportcard_data import fill, write_config
from trackwatch.cli import main
from trackwatch.store import open_store

NOVEMBER = ["--since", "2026-11-01", "--until", "2026-11-30"]


async def _filled(database: str) -> None:
    store = await open_store(database)
    try:
        await fill(store)
    finally:
        await store.close()


@pytest.fixture
def config(tmp_path: Path, database: str) -> Path:
    asyncio.run(_filled(database))
    return write_config(tmp_path / "tw.toml", database)


@both_backends
def test_the_card_as_text(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--config", str(config), *NOVEMBER]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Carriers' report card: shipped 2026-11-01 to 2026-11-30, every store"
    ups = next(line for line in lines if line.startswith("UPS") and "US→US" in line)
    assert ups.split() == ["UPS", "US→US", "4", "4", "75%", "3/4", "50%", "2/4", "3.8/5.4",
                           "25%", "25%", "0%", "60/84"]  # fmt: skip
    dhl = next(line for line in lines if line.startswith("DHL") and "all" in line)
    assert dhl.split() == ["DHL", "all", "2", "1", "100%", "1/1", "100%", "1/1", "2/2", "0%",
                           "0%", "50%", "-"]  # fmt: skip


@both_backends
def test_the_card_as_json_of_one_store(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--config", str(config), *NOVEMBER, "--store", "euro", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["stores"] == ["euro"] and document["since"] == "2026-11-01T00:00:00+00:00"
    assert document["until"] == "2026-12-01T00:00:00+00:00"
    (lane,) = document["lanes"]
    assert lane == {
        "carrier": "dhl", "origin": "DE", "destination": "DE", "shipped": 2, "delivered": 1,
        "on_time_eta": 1.0, "on_time_eta_of": 1, "on_time_promise": 1.0,
        "on_time_promise_of": 1, "transit_days_median": 2.0, "transit_days_p90": 2.0,
        "stall_rate": 0.0, "exception_rate": 0.0, "loss_rate": 0.5, "told": 0,
        "told_minutes_median": None, "told_minutes_p90": None,
    }  # fmt: skip


@both_backends
def test_the_card_as_csv(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--config", str(config), *NOVEMBER, "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["carrier"], r["origin"], r["destination"]) for r in rows] == [
        ("dhl", "DE", "DE"), ("ups", "US", "DE"), ("ups", "US", "US")]  # fmt: skip
    ups = rows[2]
    assert (ups["on_time_eta"], ups["on_time_promise"], ups["transit_days_median"]) == (
        "0.75", "0.5", "3.8")  # fmt: skip
    assert (rows[1]["on_time_eta"], rows[1]["shipped"]) == ("", "1")


def test_bad_days_and_unknown_stores_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "tw.toml", str(tmp_path / "tw.db"))
    assert main(["report", "--config", str(config), "--since", "November"]) != 0
    assert "since: 'November' is not a day as YYYY-MM-DD" in capsys.readouterr().err
    assert main(["report", "--config", str(config), *NOVEMBER, "--store", "nope"]) != 0
    assert "store: 'nope' is not one of euro, shop" in capsys.readouterr().err
    assert main(["report", "--config", str(config), "--since", "2026-12-02",
                 "--until", "2026-12-01"]) != 0  # fmt: skip
    assert "since: 2026-12-02 is after until (2026-12-01)" in capsys.readouterr().err


PROBE = """
import json, sys
from trackwatch.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def test_the_command_and_help_never_load_the_chart_library(tmp_path: Path) -> None:
    """pygal is the page's: `--help` and `trackwatch report` stay light (tests/test_layers.py)."""
    config = write_config(tmp_path / "tw.toml", str(tmp_path / "tw.db"))
    for args in (["--help"], ["report", "--config", str(config), *NOVEMBER]):
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                              text=True, timeout=120, check=True)  # fmt: skip
        modules = json.loads(done.stderr.strip().splitlines()[-1])
        assert "trackwatch.reportcard.figures" not in modules or args[0] == "report"
        assert [m for m in modules if m.startswith(("pygal", "trackwatch.reportcard.charts"))] == []
