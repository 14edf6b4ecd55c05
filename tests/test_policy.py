"""Store policies: the five example files, policy_file loading, and errors that name keys."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from trackwatch.cli import main
from trackwatch.config import ConfigError, load_settings
from trackwatch.policy import StorePolicy

POLICIES = Path(__file__).parent.parent / "deploy" / "policies"
SEEDS = {
    "jersey-store.toml": "000",
    "phone-case-store.toml": "001",
    "art-print-store.toml": "002",
    "cross-border-phone-case-store.toml": "003",
    "custom-toy-store.toml": "004",
}


def config(tmp_path: Path, store: str) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(f'[stores.shop]\nname = "Shop"\n{store}\n')
    return path


def test_there_is_one_example_policy_per_seed_page() -> None:
    assert sorted(p.name for p in POLICIES.glob("*.toml")) == sorted(SEEDS)
    for name, seed in SEEDS.items():
        assert f"shared/seeds/{seed}" in (POLICIES / name).read_text()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_example_policy_is_valid(tmp_path: Path, name: str) -> None:
    settings = load_settings(config(tmp_path, f'policy_file = "{POLICIES / name}"'))
    effective = settings.stores["shop"].policy.model_dump(mode="json")
    written = tomllib.loads((POLICIES / name).read_text())
    for section, values in written.items():  # every value the file sets is in effect
        if isinstance(values, dict):
            assert values.items() <= effective[section].items(), (name, section)
        else:
            assert effective[section] == values


def test_the_pages_numbers_reach_the_policies(tmp_path: Path) -> None:
    def policy(name: str) -> StorePolicy:
        path = config(tmp_path, f'policy_file = "{POLICIES / name}"')
        return load_settings(path).stores["shop"].policy

    toys, prints = policy("custom-toy-store.toml"), policy("art-print-store.toml")
    cases = policy("phone-case-store.toml")
    assert toys.stall.domestic_business_days == 3 and prints.stall.domestic_business_days == 5
    assert (toys.late.grace_business_days, toys.late.escalate_after_hours) == (1, 48)
    assert prints.promise.window_for("US", False).max_days == 24  # type: ignore[union-attr]
    assert prints.promise.window_for("DE", False).max_days == 16  # type: ignore[union-attr]
    assert prints.promise.peak_seasons[0].extra_days == 5
    assert (prints.returns.refund_days, prints.returns.refund_unit) == (28, "calendar")
    assert prints.returns.window_days == 14
    assert (cases.delivered.claim_window_days, cases.delivered.claim_window_unit) == (3, "business")
    assert policy("jersey-store.toml").exceptions.address_hold_days == 7
    assert policy("cross-border-phone-case-store.toml").stall.customs_business_days == 12


def test_a_relative_policy_file_is_read_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text("[stall]\ndomestic_business_days = 4\n")
    path = config(tmp_path, 'policy_file = "mine.toml"\n[stores.shop.policy.stall]\n'
                  "international_business_days = 6")  # fmt: skip
    stall = load_settings(path).stores["shop"].policy.stall
    assert (stall.domestic_business_days, stall.international_business_days) == (4, 6)


@pytest.mark.parametrize(
    ("store", "key", "reason"),
    [
        ('policy_file = "missing.toml"', "stores.shop", "policy_file: cannot read"),
        ("[stores.shop.policy.stall]\ncustoms_business_days = 2", "stores.shop.policy.stall",
         "customs_business_days must be at least international_business_days"),
        ("[stores.shop.policy.lost]\ndomestic_business_days = 3", "stores.shop.policy",
         "lost.domestic_business_days (3) must be greater than stall.domestic_business_days"),
        ("[[stores.shop.policy.promise.transit]]\nregions = ['mars']\nmin_days = 1\n"
         "max_days = 2", "stores.shop.policy.promise.transit.0.regions", "'mars' is not"),
        ("[[stores.shop.policy.promise.transit]]\nregions = ['US']\nmin_days = 9\n"
         "max_days = 2", "stores.shop.policy.promise.transit.0", "min_days must not exceed"),
        ("[[stores.shop.policy.promise.peak_seasons]]\nstart = '13-01'\nend = '12-31'",
         "stores.shop.policy.promise.peak_seasons.0.start", "'13-01' is not a month and day"),
        ("[stores.shop.policy.delivered]\nrisky_locations = ['roof']",
         "stores.shop.policy.delivered.risky_locations.0", "Input should be"),
        ("[stores.shop.policy]\norigin_country = 'USA'", "stores.shop.policy.origin_country",
         "two-letter"),
    ],
)  # fmt: skip
def test_a_bad_policy_names_the_key_and_the_reason(
    tmp_path: Path, store: str, key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(config(tmp_path, store))
    (problem,) = err.value.problems
    assert problem.startswith(f"{key}: ") and reason in problem, problem


def test_check_config_prints_each_stores_effective_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trackwatch.toml"
    path.write_text(
        f'[stores.toys]\nname = "Toys"\npolicy_file = "{POLICIES / "custom-toy-store.toml"}"\n'
        '[stores.prints]\nname = "Prints"\n[stores.prints.policy.stall]\n'
        "domestic_business_days = 5\n"
    )
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    toys, prints = out.split("store prints")
    assert "effective policy from" in toys and "stall.domestic_business_days = 3" in toys
    assert "late.escalate_after_hours = 48" in toys  # from the file
    assert "returns.refund_days = 28  # operator's setting" in toys  # a default, printed too
    assert "stall.domestic_business_days = 5" in prints
    assert 'promise.transit.0.regions = ["domestic"]' in prints
