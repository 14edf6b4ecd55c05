"""The README's operator commands on the documented systemd deployment (issue 19, item 1):
`deploy/trackwatch.toml` as shipped, the unit's `Environment=` lines, and no
$CREDENTIALS_DIRECTORY (an operator's shell has none; LoadCredential gives it to the service
alone). The commands that use no secret work; the one that needs the channels says which."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trackwatch.config import ConfigError, load_settings
from trackwatch.model import Audience
from trackwatch.notify.channels import ChannelDirectory

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "trackwatch.toml"
UNIT = ROOT / "deploy" / "trackwatch.service"


def unit_environment(database: Path) -> dict[str, str]:
    """The unit's Environment= settings, its database moved to `database`, over a shell's
    environment without the credentials directory."""
    env = {k: v for k, v in os.environ.items()
           if k != "CREDENTIALS_DIRECTORY" and not k.startswith("TRACKWATCH_")}  # fmt: skip
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value
    assert env["TRACKWATCH_DAEMON__DATABASE"] == "/var/lib/trackwatch/trackwatch.db"
    env["TRACKWATCH_DAEMON__DATABASE"] = str(database)
    return env


def trackwatch(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "trackwatch.cli", *args, "--config", str(CONFIG)]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return unit_environment(tmp_path / "trackwatch.db")


def test_readme_commands_work_without_the_credentials(env: dict[str, str], tmp_path: Path) -> None:
    added = trackwatch(env, tmp_path, "add", "--store", "jetoy", "--carrier", "ups",
                       "--tracking-number", "1Z5R89390357567127", "--order-id", "1001",
                       "--customer-email", "a@example.com", "--destination-country", "US",
                       "--destination-postal-code", "10001", "--shipped-at", "2026-11-23")  # fmt: skip
    csv = tmp_path / "orders.csv"
    csv.write_text("store,order_id,tracking_number,shipped_at\njetoy,1002,1Z879E930346834440,"
                   "2026-11-23\n")  # fmt: skip
    runs = [added, trackwatch(env, tmp_path, "import", str(csv)),
            trackwatch(env, tmp_path, "list"), trackwatch(env, tmp_path, "show", "1"),
            trackwatch(env, tmp_path, "alerts"), trackwatch(env, tmp_path, "notices", "--dead"),
            trackwatch(env, tmp_path, "resolve", "1", "--rule", "late"),
            trackwatch(env, tmp_path, "restart", "1")]  # fmt: skip
    for done in runs:
        assert "cannot read" not in done.stdout + done.stderr, done.args
        assert "Traceback" not in done.stderr, done.stderr
    assert [done.returncode for done in runs] == [0, 0, 0, 0, 0, 0, 2, 2]
    assert "added shipment 1: ups 1Z5R89390357567127" in added.stdout
    assert "1Z879E930346834440" in runs[2].stdout
    assert "order 1001 (jetoy)" in runs[3].stdout
    assert "shipment 1 has no open late alert" in runs[6].stderr  # the database was read


def test_stop_works_and_a_secret_fails_where_it_is_used(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stop` drafts staff notices of the alerts it resolves, on channels counted from their
    files: with no alert open it needs none. Counting them, or reading any secret left
    unread, raises the error the strict load would have, naming the file."""
    trackwatch(env, tmp_path, "add", "--store", "jetoy", "--tracking-number",
               "1Z5R89390357567127", "--order-id", "1001", "--shipped-at", "2026-11-23")  # fmt: skip
    done = trackwatch(env, tmp_path, "stop", "1", "--reason", "order cancelled")
    assert done.returncode == 0, done.stderr
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    settings = load_settings(CONFIG, secrets="defer")
    with pytest.raises(ConfigError) as counted:
        ChannelDirectory(settings.stores).channels("jetoy", Audience.STAFF)
    assert counted.value.problems == [
        "stores.jetoy.channels.staff_chat_file: cannot read "
        "$CREDENTIALS_DIRECTORY/trackwatch_jetoy_staff_chat: CREDENTIALS_DIRECTORY is not set"
    ]
    secret = settings.carriers.ups.client_secret
    assert secret is not None
    with pytest.raises(ConfigError, match=r"^carriers\.ups\.client_secret_file: cannot read"):
        secret.get_secret_value()


def test_the_daemon_and_check_config_still_read_every_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = trackwatch(env, tmp_path, "check-config")
    assert done.returncode == 2
    assert "config error: daemon: Value error, link_secret_file: cannot read" in done.stderr
    assert "CREDENTIALS_DIRECTORY is not set" in done.stderr
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    names = ("link_secret", "ups_client_secret", "jetoy_api_token", "jetoy_shopify_secret",
             "jetoy_staff_chat", "jetoy_staff_email", "jetoy_customer_email")  # fmt: skip
    for name in names:
        (credentials / f"trackwatch_{name}").write_text("mailto://a@example.com" if "jetoy_"
                                                        "s" in name or "customer" in name
                                                        else "x" * 40)  # fmt: skip
    done = trackwatch({**env, "CREDENTIALS_DIRECTORY": str(credentials)}, tmp_path, "check-config")
    assert done.returncode == 0, done.stderr
