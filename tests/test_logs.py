from __future__ import annotations

import logging

import pytest

from trackwatch.logs import RedactingFilter, redact


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


def test_the_filter_redacts_formatted_arguments() -> None:
    record = logging.LogRecord("apprise", logging.INFO, __file__, 1, "Sent Email to %s",
                               ("canary@example.org",), None)  # fmt: skip
    RedactingFilter().filter(record)
    assert record.getMessage() == "Sent Email to <email>"
