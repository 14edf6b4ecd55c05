"""Every shared carrier payload against its checked-in expected result (see tests/golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.golden import FIXTURES, actual, expected_path, manifest

CARRIERS = ("usps", "ups", "fedex", "dhl")
SHARED = Path(__file__).parent.parent.parent / "shared" / "carriers"
CASES = [
    (c, name) for c in CARRIERS if (FIXTURES / c / "manifest.json").exists() for name in manifest(c)
]


def is_payload(path: Path) -> bool:
    """Example answers, not the specs (which the sandbox tests validate against)."""
    return path.suffix in (".json", ".xml") and "openapi" not in path.name


@pytest.mark.parametrize("carrier", CARRIERS)
def test_every_shared_payload_is_a_fixture_with_a_manifest_entry(carrier: str) -> None:
    """Each payload the shared set publishes is copied byte for byte and read by a golden."""
    local = FIXTURES / carrier
    payloads = {p.name for p in local.iterdir() if is_payload(p)} - {"manifest.json"}
    assert set(manifest(carrier)) == payloads
    if SHARED.exists():
        shared = {p.name for p in (SHARED / carrier).iterdir() if is_payload(p)}
        assert shared <= payloads
        for name in shared:
            assert (SHARED / carrier / name).read_bytes() == (local / name).read_bytes()


@pytest.mark.parametrize(("carrier", "name"), CASES)
def test_golden(carrier: str, name: str) -> None:
    expected = json.loads(expected_path(carrier, name).read_text())
    assert actual(carrier, name) == expected
