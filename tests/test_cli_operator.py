"""The operator's CLI (issue 19, items 2 and 3): which configuration, reads that never
create a database, machine output, filters, and flags named after fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from rules import RULES
from tests.postgres import Cluster
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.metrics import Metrics

NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)
UPS = ("1Z5R89390357567127", "1Z879E930346834440")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{tmp_path / "tw.db"}"\n'
                    '[stores.shop]\nname = "Shop"\n[stores.other]\nname = "Other"\n')  # fmt: skip
    return path


def run(*args: str) -> int:
    return main(list(args), clock=FrozenClock(NOW))


def add(config: Path, number: str, store: str = "shop", *more: str) -> int:
    return run("add", "--config", str(config), "--store", store, "--tracking-number", number,
               "--order-id", number[-4:], "--shipped-at", "2026-11-23T09:00-05:00", *more)  # fmt: skip


def output(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_the_configuration_comes_from_config_then_the_environment_then_etc(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.delenv("TRACKWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run("list") == 2
    assert capsys.readouterr().err == (
        "config error: /etc/trackwatch/trackwatch.toml: no such file (the configuration named "
        "by the default, without --config or $TRACKWATCH_CONFIG)\n")  # fmt: skip
    assert not (tmp_path / "trackwatch.db").exists()  # it made ./trackwatch.db, and listed it
    monkeypatch.setenv("TRACKWATCH_CONFIG", str(tmp_path / "nowhere.toml"))
    assert run("list") == 2
    assert "nowhere.toml: no such file (the configuration named by $TRACKWATCH_CONFIG)" in (
        capsys.readouterr().err)  # fmt: skip
    monkeypatch.setenv("TRACKWATCH_CONFIG", str(config))
    assert add(config, UPS[0]) == 0
    assert run("list") == 0
    assert UPS[0] in capsys.readouterr().out
    assert run("--config", str(tmp_path / "gone.toml"), "list") == 2  # --config wins
    assert "gone.toml: no such file (the configuration named by --config)" in (
        capsys.readouterr().err)  # fmt: skip


def test_config_before_or_after_the_command(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(config, UPS[0]) == 0
    capsys.readouterr()
    assert run("--config", str(config), "list", "--json") == 0
    before = output(capsys)
    assert run("list", "--json", "--config", str(config)) == 0
    assert output(capsys) == before and before["shipments"][0]["tracking_number"] == UPS[0]
    assert run("--config", str(config), "check-config") == 0
    assert capsys.readouterr().out.startswith(f"{config}: OK\n")
    assert run("check-config", "--config", str(config)) == 0
    capsys.readouterr()
    assert run("check-config", str(config), "--json") == 0
    checked = output(capsys)
    assert checked["ok"] is True and checked["stores"]["shop"]["channels"]["staff_chat"] == 0
    assert checked["stores"]["shop"]["policy"]["stall"]["domestic_business_days"] == 3


def test_a_read_never_creates_a_sqlite_database(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["list"], ["alerts"], ["notices"], ["show", "1"], ["restart", "1"]):
        assert run(*command, "--config", str(config)) == 2
        assert capsys.readouterr().err == (
            f"error: database: {tmp_path / 'tw.db'}: no such file; check [daemon] database or "
            "TRACKWATCH_DAEMON__DATABASE (only the daemon, add and import create it)\n")  # fmt: skip
    assert list(tmp_path.iterdir()) == [config]


def test_a_read_of_a_missing_postgresql_database_is_an_error(
    postgres: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{postgres.url("no_such_database")}"\n')
    assert run("list", "--config", str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: database: cannot open postgresql://")
    assert 'database "no_such_database" does not exist' in err


def test_json_documents_use_the_models_field_names(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert add(config, UPS[0], "shop", "--customer-email", "ann@example.com", "--json") == 0
    added = output(capsys)
    assert added["id"] == 1 and added["notes"] == []
    assert added["shipment"]["destination_country"] == "US"
    assert "customer_email" not in added["shipment"]  # customers' data, as in the text views
    assert run("show", "1", "--json", "--config", str(config)) == 0
    shown = output(capsys)
    assert shown["shipment"]["id"] == 1 and shown["events"] == [] and shown["alerts"] == []
    assert run("alerts", "--json", "--config", str(config)) == 0
    assert output(capsys) == {"alerts": []}
    assert run("notices", "--json", "--config", str(config)) == 0
    assert output(capsys) == {"notices": []}
    orders = tmp_path / "orders.csv"
    orders.write_text(f"store,order_id,tracking_number,shipped_at\nshop,7,{UPS[1]},2026-11-23\n"
                      f"shop,8,{UPS[1][:-1]}1,2026-11-23\n")  # fmt: skip
    assert run("import", str(orders), "--json", "--config", str(config)) == 1
    imported = output(capsys)
    assert imported["added"] == 1 and imported["unchanged"] == 0
    assert imported["bad"] == [{"line": 3, "field": "tracking_number", "reason":
                                f"'{UPS[1][:-1]}1' fails the UPS check digit (check digit is "
                                "1, expected 0)"}]  # fmt: skip
    assert imported["notes"] == {"no customer email: staff alerts only, no customer notice": 1}


def test_list_filters_and_limits(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert add(config, UPS[0]) == 0 and add(config, UPS[1], "other") == 0
    assert add(config, "9400111398259791907485") == 0  # USPS, by its format
    capsys.readouterr()

    def listed(*args: str) -> list[str]:
        assert run("list", "--json", "--config", str(config), *args) == 0
        done = capsys.readouterr()
        more = "(the first 1 shown: --limit N for more)\n" if args[-1:] == ("1",) else ""
        assert done.err == more
        return [s["tracking_number"] for s in json.loads(done.out)["shipments"]]

    assert listed("--store", "other") == [UPS[1]]
    assert listed("--carrier", "UPS") == list(UPS)
    assert listed("--carrier", "ups", "--store", "shop") == [UPS[0]]
    assert listed("--status", "unknown", "--limit", "1") == [UPS[0]]
    assert listed("--status", "delivered") == []
    assert run("list", "--status", "lost", "--config", str(config)) == 2
    assert (
        "error: status: 'lost' is not one of label_created, in_transit" in capsys.readouterr().err
    )
    assert run("list", "--carrier", "Royal Mail", "--config", str(config)) == 2
    assert "error: carrier: Royal Mail is not supported" in capsys.readouterr().err


def test_an_unknown_rule_is_refused_with_the_known_ones(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(config, UPS[0]) == 0
    for command in (["alerts", "--rule", "stall"], ["resolve", "1", "--rule", "stall"]):
        assert run(*command, "--config", str(config)) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: rule: 'stall' is not one of ")
        assert all(rule.name in err for rule in RULES)
    assert run("alerts", "--rule", "stalled", "--config", str(config)) == 0
    assert run("alerts", "--rule", "carrier_unreachable", "--config", str(config)) == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"trackwatch {version('trackwatch')}\n"
    build = f'trackwatch_build_info{{version="{version("trackwatch")}"}} 1.0'
    assert build in Metrics().exposition().decode()


def test_flags_are_named_after_fields_and_the_old_names_still_work(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = ("--destination-country", "GB", "--destination-postal-code", "SW1A 1AA",
           "--destination-city", "London", "--customer-phone", "+442079460000")  # fmt: skip
    old = ("--country", "GB", "--postal-code", "SW1A 1AA", "--city", "London",
           "--phone", "+442079460000")  # fmt: skip
    assert add(config, UPS[0], "shop", *new, "--json") == 0
    assert add(config, UPS[1], "shop", *old, "--json") == 0
    capsys.readouterr()
    assert run("list", "--json", "--config", str(config)) == 0
    for shipment in output(capsys)["shipments"]:
        assert (shipment["destination_country"], shipment["destination_postal_code"],
                shipment["destination_city"]) == ("GB", "SW1A 1AA", "London")  # fmt: skip
    with pytest.raises(SystemExit):
        run("add", "--help")
    assert "--country" not in capsys.readouterr().out  # hidden


def test_a_wrong_check_digit_without_a_carrier_says_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for number, reason in (("1Z5R89390357567128", "fails the UPS check digit"),
                           ("232860129045", "fails the FedEx Express (12) check digit"),
                           ("RR123456784GB", "fails the S10 check digit")):  # fmt: skip
        assert add(config, number) == 2
        assert capsys.readouterr().err.startswith(f"error: tracking_number: '{number}' {reason}")


def test_csv_needs_only_the_required_columns(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(f"shipped_at,tracking_number,order_id,store\n2026-11-23,{UPS[0]},1,shop\n")
    assert run("import", str(orders), "--config", str(config)) == 0
    assert "1 added, 0 already watched, 0 bad row(s)" in capsys.readouterr().out
    # Issue 22: a column trackwatch does not read is ignored (one warning), not fatal; a
    # missing required one is named.
    orders.write_text("store,order_id,shipped_at,colour\n")
    assert run("import", str(orders), "--config", str(config)) == 2
    err = capsys.readouterr().err
    assert "header: missing column(s) tracking_number for the trackwatch format" in err
