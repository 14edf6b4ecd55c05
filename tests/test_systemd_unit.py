"""deploy/trackwatch.service as systemd itself judges it: `systemd-analyze verify` clean and
`systemd-analyze security --offline=true` at 1.1 or lower (an address allow list, which would
score lower, is impossible: carriers have no fixed addresses); and the limits systemd does not
score: cloud-metadata and link-local addresses denied with carriers and loopback reachable,
memory and tasks capped. `.ci/run` installs systemd-analyze where it is missing."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
from collections import defaultdict
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


def test_the_unit_scores_one_point_one_or_lower(unit: Path) -> None:
    result = analyze("security", "--offline=true", "--no-pager", str(unit))
    found = re.search(r"Overall exposure level for trackwatch\.service: (\d+\.\d+)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    assert float(found[1]) <= 1.1, result.stdout  # 1.1 today: no hardening is lost


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


def directives() -> dict[str, list[str]]:
    """Each directive's values, in order (a directive may be given more than once)."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found[key.strip()].append(value.strip())
    return found


def denied(address: str) -> bool:
    """Whether the unit's IPAddressDeny= covers `address` (none of its entries is `any`)."""
    entries = " ".join(directives()["IPAddressDeny"]).split()
    assert "any" not in entries and entries, entries
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in entries)


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.170.2", "fe80::a9fe:a9fe", "100.100.100.200", "fd00:ec2::254",
     "192.0.0.192"],
)  # fmt: skip
def test_cloud_metadata_and_link_local_addresses_are_denied(address: str) -> None:
    assert denied(address)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "34.107.221.82", "2600:1406:3a00:21::173e:2e65"]
)
def test_loopback_and_carriers_stay_reachable(address: str) -> None:
    assert not denied(address)  # the HTTP app and a local relay; carriers' public addresses
    assert "IPAddressAllow" not in directives()


def test_memory_and_tasks_are_capped() -> None:
    found = {key: values[-1] for key, values in directives().items()}
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    high, limit = (int(found[k][:-1]) * units[found[k][-1]] for k in ("MemoryHigh", "MemoryMax"))
    # Above a busy day's peak (about 150 MB for 2000 parcels), below a small host's memory.
    assert 256 * 2**20 <= high < limit <= 2 * 2**30
    # The loop, SQLite's thread per connection and three pools of at most 32 threads.
    assert 128 <= int(found["TasksMax"]) <= 1024


def test_the_several_daemons_template_verifies_and_keeps_the_hardening(tmp_path: Path) -> None:
    """deploy/trackwatch@.service: one instance per HTTP port, everything else as the single
    unit (a test that the two differ only where they must)."""
    template = UNIT.with_name("trackwatch@.service")
    here = Path(sys.executable).parent / "trackwatch"
    instance = tmp_path / "trackwatch@8751.service"
    instance.write_text(template.read_text().replace(INSTALLED_AT, str(here)))
    result = analyze("verify", str(instance))
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    score = analyze("security", "--offline=true", "--no-pager", str(instance))
    found = re.search(r"Overall exposure level for trackwatch@8751\.service: (\d+\.\d+)",
                      score.stdout)  # fmt: skip
    assert found is not None and float(found[1]) <= 1.1, score.stdout + score.stderr

    def settings(text: str) -> set[str]:
        return {line for line in text.splitlines() if "=" in line and not line.startswith("#")}

    single, several = settings(UNIT.read_text()), settings(template.read_text())
    assert several - single == {"Description=trackwatch parcel-tracking monitor (daemon on "
                                "port %i)", "Environment=TRACKWATCH_DAEMON__HTTP_PORT=%i"}  # fmt: skip
    assert single - several == {"Description=trackwatch parcel-tracking monitor",
                                "Environment=TRACKWATCH_DAEMON__DATABASE=/var/lib/trackwatch/"
                                "trackwatch.db"}  # fmt: skip
