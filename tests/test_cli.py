from __future__ import annotations

from pathlib import Path

import pytest

from trackwatch.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[daemon]\ndatabase = "{tmp_path / "cli.db"}"\n[stores.shop]\nname = "Shop"\n')
    return path


def add(config: Path, **overrides: str) -> int:
    values = {"store": "shop", "carrier": "ups", "tracking-number": "1Z5R89390357567127",
              "order-id": "1001", "customer-email": "c@example.com",
              "shipped-at": "2026-11-23T09:00-05:00", **overrides}  # fmt: skip
    args = ["add", "--config", str(config)]
    for key, value in values.items():
        args += [f"--{key}", value]
    return main(args)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"tracking-number": "1Z5R89390357567128"}, "tracking_number: '1Z5R89390357567128' fails the UPS check digit"),
        ({"tracking-number": "12345"}, "tracking_number: '12345' does not match any UPS tracking-number format"),
        ({"carrier": "pigeon"}, "carrier: 'pigeon' is not one of dhl, fedex, ups, usps"),
        ({"store": "other"}, "store: 'other' is not configured"),
        ({"customer-email": "nobody"}, "customer_email: is not an email address"),
        ({"shipped-at": "2026-11-23T09:00"}, "shipped_at: give a UTC offset"),
        ({"country": "USA"}, "destination_country: Value error, must be a two-letter"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(
    config: Path, capsys: pytest.CaptureFixture[str], override: dict[str, str], message: str
) -> None:
    assert add(config, **override) == 2
    assert message in capsys.readouterr().err
    assert main(["list", "--config", str(config)]) == 0
    assert "1Z5R" not in capsys.readouterr().out  # nothing half-stored


def test_add_list_show(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert add(config, **{"postal-code": "10001"}) == 0
    assert "added shipment 1" in capsys.readouterr().out
    assert add(config) == 2
    assert "already watched as shipment 1" in capsys.readouterr().err
    assert main(["list", "--config", str(config)]) == 0
    assert "1Z5R89390357567127" in capsys.readouterr().out
    assert main(["show", "--config", str(config), "1"]) == 0
    shown = capsys.readouterr().out
    assert "order 1001" in shown and "alerts: none" in shown
    assert main(["show", "--config", str(config), "9"]) == 2
