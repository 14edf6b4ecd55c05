"""Dependencies (issue 19, item 7): ranges below the next major version in pyproject.toml,
exact pins for deployments in deploy/constraints.txt, and aiosmtpd an extra, not a runtime
dependency."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CALENDAR_VERSIONED = {"tzdata", "pycountry"}  # data releases by date: no major to stay under


def key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    lines = (ROOT / "deploy" / "constraints.txt").read_text().splitlines()
    pairs = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {key(name): version for name, version in pairs}


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    for text in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["demo"]]:
        requirement = Requirement(text)
        assert key(requirement.name) in pinned, requirement.name
        assert requirement.specifier.contains(pinned[key(requirement.name)]), text


def test_ranges_stay_below_the_next_major_version() -> None:
    for text in PROJECT["dependencies"]:
        requirement = Requirement(text)
        uppers = [spec for spec in requirement.specifier if spec.operator == "<"]
        if key(requirement.name) in CALENDAR_VERSIONED:
            assert not uppers, text
        else:
            assert len(uppers) == 1 and re.fullmatch(r"\d+", uppers[0].version), text


def test_the_smtp_server_is_the_demos_not_the_daemons() -> None:
    runtime = {key(Requirement(text).name) for text in PROJECT["dependencies"]}
    assert "aiosmtpd" not in runtime
    assert [Requirement(t).name for t in PROJECT["optional-dependencies"]["demo"]] == [
        "aiosmtpd",
        "graphql-core",
    ]  # the sandbox's SMTP server and its Shopify stand-in
    assert "constraints.txt" not in "".join(PROJECT["dependencies"])
    assert re.search(r"^aiosmtpd==", (ROOT / "deploy" / "constraints.txt").read_text(), re.M)
