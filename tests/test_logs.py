from __future__ import annotations

import logging
import sys

import pytest

from trackwatch.config import build_settings
from trackwatch.logs import RedactingFormatter, redact, secrets_of


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Sent Email to canary.customer+x@example.org", "canary.customer"),
        ("mailtos://orders:CanarySecret1@smtp.example.com:587?to=a@b.co", "CanarySecret1"),
        ("json://hooks.example/x?token=CanaryToken2&+Idempotency-Key=k", "CanaryToken2"),
    ],
)
def test_secrets_and_addresses_are_redacted(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_the_formatter_redacts_formatted_arguments() -> None:
    record = logging.LogRecord("apprise", logging.INFO, __file__, 1, "Sent Email to %s",
                               ("canary@example.org",), None)  # fmt: skip
    text = RedactingFormatter([], journald=False).format(record)
    assert text == "INFO apprise: Sent Email to <email>"


def test_configured_secrets_are_redacted_in_tracebacks_with_journald_priorities() -> None:
    settings = build_settings({
        "carriers": {"ups": {"client_secret": "CanaryUpsSecret77"}},
        "stores": {"shop": {"name": "Shop", "api_token": "CanaryApiToken-0123456789",
                            "channels": {"staff_chat": ["discord://1234/CanaryWebhookToken99"]}}},
    })  # fmt: skip
    formatter = RedactingFormatter(secrets_of(settings), journald=True)
    try:
        raise RuntimeError("token CanaryApiToken-0123456789 refused for +15551234567")
    except RuntimeError:
        record = logging.LogRecord("trackwatch", logging.ERROR, __file__, 1,
                                   "call with %s to %s failed",
                                   ("CanaryUpsSecret77", "discord://1234/CanaryWebhookToken99"),
                                   sys.exc_info())  # fmt: skip
    text = formatter.format(record)
    for leak in ("CanaryUpsSecret77", "CanaryApiToken", "CanaryWebhookToken99", "5551234567"):
        assert leak not in text
    lines = text.splitlines()
    assert len(lines) > 3 and all(line.startswith("<3>") for line in lines)
    assert lines[0] == "<3>trackwatch: call with *** to *** failed"
    # A part of a secret URL is a secret on its own (a library may log the token alone).
    warning = logging.LogRecord("apprise", logging.WARNING, __file__, 1,
                                "Discord token CanaryWebhookToken99 rejected", None, None)  # fmt: skip
    assert formatter.format(warning) == "<4>apprise: Discord token *** rejected"


def test_plain_lines_outside_journald() -> None:
    formatter = RedactingFormatter([], journald=False)
    record = logging.LogRecord("trackwatch", logging.INFO, __file__, 1, "running", None, None)
    assert formatter.format(record) == "INFO trackwatch: running"
