from __future__ import annotations

from pathlib import Path

import pytest

from trackwatch.cli import main
from trackwatch.config import CarrierSettings, ConfigError, load_settings

DEPLOY = Path(__file__).parent.parent / "deploy"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trackwatch.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None)
    assert settings.carriers.ups.base_url == "https://onlinetools.ups.com"
    assert settings.carriers.dhl.rate_limit == 1


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[stores.shop]\nname = "Shop"\n[stores.shop.policy]\nstall_days = 3\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert err.value.problems == ["stores.shop.policy.stall_days: Extra inputs are not permitted"]


def test_bad_value_names_key_and_reason_not_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[stores.shop]\nname = "Shop"\n[stores.shop.policy]\nstall.domestic_business_days = 0\n',
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    (problem,) = err.value.problems
    assert problem.startswith("stores.shop.policy.stall.domestic_business_days: ")
    assert "greater than or equal to 1" in problem


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[daemon\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in err.value.problems[0]
    assert "not valid TOML" in err.value.problems[0]


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path, '[carriers.ups]\nbase_url = "https://file.example"\nclient_id = "file"\n'
    )
    monkeypatch.setenv("TRACKWATCH_CARRIERS__UPS__CLIENT_ID", "env")
    settings = load_settings(path)
    assert settings.carriers.ups.client_id == "env"
    assert settings.carriers.ups.base_url == "https://file.example"


def test_secrets_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "ups_secret"
    secret.write_text("s3cret\n")
    urls = tmp_path / "chat"
    urls.write_text("json://127.0.0.1:9/a\njson://127.0.0.1:9/b\n")
    path = write(
        tmp_path,
        f'[carriers.ups]\nbase_url = "https://x"\nclient_secret_file = "{secret}"\n'
        f'[stores.shop]\nname = "Shop"\n[stores.shop.channels]\nstaff_chat_file = "{urls}"\n',
    )
    settings = load_settings(path)
    assert settings.carriers.ups.client_secret is not None
    assert settings.carriers.ups.client_secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert [u.get_secret_value() for u in settings.stores["shop"].channels.staff_chat] == [
        "json://127.0.0.1:9/a",
        "json://127.0.0.1:9/b",
    ]


def test_missing_secret_file_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[carriers.ups]\nbase_url = "https://x"\nclient_secret_file = "/nope"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "client_secret_file: cannot read /nope" in err.value.problems[0]
    assert err.value.problems[0].startswith("carriers.ups")


def test_check_config_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, '[stores.shop]\nname = "Shop"\n')
    assert main(["check-config", str(good)]) == 0
    assert "store shop (Shop)" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[daemon]\nnotice_max_attempts = 'many'\n")
    assert main(["check-config", str(bad)]) == 2
    assert "daemon.notice_max_attempts:" in capsys.readouterr().err


def test_check_config_prints_a_postgresql_url_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, '[daemon]\ndatabase = "postgresql://tw:s3cret@db.internal/tw"\n'
                             '[stores.shop]\nname = "Shop"\n')  # fmt: skip
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "database: postgresql://tw:***@db.internal/tw" in out and "s3cret" not in out


def test_the_example_configuration_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As systemd's LoadCredential=trackwatch:/etc/trackwatch/credentials hands them over.
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    for name in ("ups_client_secret", "jetoy_staff_chat", "jetoy_staff_email",
                 "jetoy_customer_email", "link_secret", "jetoy_api_token",
                 "jetoy_shopify_secret"):  # fmt: skip
        (credentials / f"trackwatch_{name}").write_text("json://127.0.0.1:9/chat-0123456789\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    example = (Path(__file__).parent.parent / "deploy" / "trackwatch.toml").read_text()
    text = example.replace('"policies/', f'"{DEPLOY}/policies/')
    settings = load_settings(write(tmp_path, text))
    policy = settings.stores["jetoy"].policy
    assert policy.stall.domestic_business_days == 3
    assert policy.promise.processing_business_days == 5  # from the policy file


def test_secret_files_in_the_systemd_credentials_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "trackwatch_shop-api-token").write_text("a-long-enough-api-token-0123\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    path = write(tmp_path, '[stores.shop]\nname = "Shop"\n'
                 'api_token_file = "$CREDENTIALS_DIRECTORY/trackwatch_shop-api-token"\n')  # fmt: skip
    token = load_settings(path).stores["shop"].api_token
    assert token is not None and token.get_secret_value() == "a-long-enough-api-token-0123"


def test_two_stores_may_not_share_an_api_token(tmp_path: Path) -> None:
    token = "the-same-token-for-both-0123"
    path = write(tmp_path, f'[stores.a]\nname = "A"\napi_token = "{token}"\n'
                 f'[stores.b]\nname = "B"\napi_token = "{token}"\n')  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "stores.b.api_token: the same token as stores.a" in str(caught.value)
    assert token not in str(caught.value)


def test_daemons_sharing_a_database_divide_the_short_window_limits() -> None:
    """Three daemons on one database: DHL's 1 call a second is one call every 3 seconds
    each, and calls in flight are shared; the quota itself is counted in the database."""
    dhl = CarrierSettings(base_url="http://127.0.0.1", rate_limit=1, rate_period_seconds=1.0,
                          max_in_flight=4, quota_calls=250)  # fmt: skip
    mine = dhl.shared_by(3)
    assert (mine.rate_limit, mine.rate_period_seconds, mine.max_in_flight) == (1, 3.0, 2)
    assert mine.quota_calls == 250 and dhl.shared_by(1) is dhl
