"""Push configuration: off for every carrier unless enabled; enabled without what the carrier
needs is refused at load, naming the keys (and never a value)."""

from __future__ import annotations

import pytest

from trackwatch.config import CARRIER_DEFAULTS, ConfigError, build_settings


def test_push_is_off_for_every_carrier_by_default() -> None:
    settings = build_settings({})
    assert not any(settings.carriers.get(name).push.enabled for name in CARRIER_DEFAULTS)


@pytest.mark.parametrize(("carrier", "missing"), [
    ("ups", "webhook_client_id, webhook_client_secret"), ("usps", "admin_emails"),
    ("fedex", "security_token")])  # fmt: skip
def test_push_enabled_without_its_keys_is_refused(carrier: str, missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_settings({"carriers": {carrier: {"push": {"enabled": True}}}})
    assert f"{carrier}.push: enabled without {missing}" in str(caught.value)


def test_a_usps_admin_list_longer_than_three_is_refused() -> None:
    emails = [f"a{n}@example.com" for n in range(4)]
    with pytest.raises(ConfigError) as caught:
        build_settings({"carriers": {"usps": {"push": {"enabled": True, "admin_emails": emails}}}})
    assert "carriers.usps.push.admin_emails" in str(caught.value)
