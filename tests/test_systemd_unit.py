"""deploy/trackwatch.service as systemd itself judges it: `systemd-analyze verify` clean and
`systemd-analyze security --offline=true` at 2.0 or lower. `.ci/run` installs systemd-analyze
where it is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "deploy" / "trackwatch.service"
INSTALLED_AT = "/opt/trackwatch/bin/trackwatch"


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze is missing: apt-get install systemd (.ci/run does)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The unit as installed, with ExecStart pointing at this checkout's trackwatch (verify
    checks that the program exists and is executable)."""
    here = Path(sys.executable).parent / "trackwatch"
    assert here.exists()
    copy = tmp_path / "trackwatch.service"
    copy.write_text(UNIT.read_text().replace(INSTALLED_AT, str(here)))
    return copy


def test_the_unit_verifies_clean(unit: Path) -> None:
    result = analyze("verify", str(unit))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_unit_scores_two_or_lower(unit: Path) -> None:
    result = analyze("security", "--offline=true", "--no-pager", str(unit))
    found = re.search(r"Overall exposure level for trackwatch\.service: (\d+\.\d+)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    assert float(found[1]) <= 2.0, result.stdout


def test_the_unit_is_a_notify_service_with_credentials() -> None:
    text = UNIT.read_text()
    settings = dict(line.split("=", 1) for line in text.splitlines()
                    if "=" in line and not line.startswith("#"))  # fmt: skip
    assert settings["Type"] == "notify" and settings["Restart"] == "on-failure"
    assert settings["DynamicUser"] == "yes" and settings["StateDirectory"] == "trackwatch"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert settings["LoadCredential"].startswith("trackwatch:/etc/trackwatch/credentials")
    assert settings["ExecStart"].startswith(INSTALLED_AT + " run --config ")
    # The daemon's own drain limit (stop_timeout_seconds, 60 by default) fits inside.
    assert int(settings["TimeoutStopSec"].rstrip("s")) > 60
    assert int(settings["WatchdogSec"].rstrip("s")) >= 10
