"""Logging that never carries secrets or customers' personal data, in a form journald reads.

Our own messages name notices and shipments by id, but libraries log what they hold (Apprise
logs "Sent Email to <address>"), so every line is redacted on its way out, traceback
included: email addresses and phone numbers in whatever encoding a library prints them
(Apprise logs the URLs it loads, with the recipient URL-encoded), credentials and query
strings in URLs, and every secret value of the configuration (carrier keys, API tokens,
Apprise URLs and their parts).

Under systemd (JOURNAL_STREAM set) each line starts with its syslog priority, `<3>` for an
error, `<4>` a warning, `<6>` info, which journald stores as the entry's priority
(`journalctl -p warning`); the timestamp is journald's own.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, SecretStr

# An address or number is redacted in every form a library may print it: as typed,
# URL-encoded (once or twice: `%40`, `%2540`, in a path or a `+`-for-space query string),
# JSON-escaped (`\u0040`), as an HTML entity (`&#64;`, `&commat;`) or quoted-printable (`=40`).
_AT = r"(?:@|%(?:25)*40|\\u0040|\\x40|&#0*64;|&#x0*40;|&commat;|=40)"
_PLUS = r"(?:\+|%(?:25)*2[bB]|\\u002[bB]|\\x2[bB]|&#0*43;|&#x0*2[bB];|&plus;|=2[bB])"
_LOCAL = rf"(?:[\w.-]|{_PLUS}|%(?:25)*(?:2[dDeE]|5[fF]))+"
# The look-behind starts a match only where a run of address characters starts (one attempt
# per run, not one per character: a long token cannot make redaction quadratic).
_EMAIL = re.compile(rf"(?<![\w.+-]){_LOCAL}{_AT}[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    # International: a plus (in any of its encodings) and 7 to 15 digits, spaced or not.
    rf"(?<![\w+]){_PLUS}\d(?:[ .()-]{{0,2}}\d){{6,14}}(?!\d)"
    # National: (555) 000-1111, 555-000-1111, 555.000.1111; 020 7946 0958. Separators are
    # required, so tracking numbers, ids, dates and times stay readable.
    r"|(?<![\w.+-])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w.-]?\d)"
    r"|(?<![\w.+-])0\d{1,4}[ -]\d{3,4}[ -]\d{3,4}(?![\w-]?\d)"
)
_URL_SECRETS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^\s/@]*@|(\b[a-z][a-z0-9+.-]*://[^\s?]*)\?\S*")
_URL_PARTS = re.compile(r"[:/@?&=,]+")
MIN_PART = 12  # parts of a secret URL this long (tokens, keys) are secrets on their own

PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
              logging.DEBUG: 7}  # fmt: skip


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    text = _URL_SECRETS.sub(lambda m: (m[1] + "***@") if m[1] else (m[2] + "?***"), text)
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


def _secret_values(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_values(item)


def secrets_of(settings: BaseModel | None) -> list[str]:
    """Every secret value in the settings, and the long parts of secret URLs, longest first
    (so that a secret is replaced whole before any part of it)."""
    found: set[str] = set()
    for value in _secret_values(settings):
        if not value:
            continue
        found.add(value)
        if "://" in value:
            found.update(
                p for p in _URL_PARTS.split(value.split("://", 1)[1]) if len(p) >= MIN_PART
            )
    return sorted(found, key=len, reverse=True)


class RedactingFormatter(logging.Formatter):
    """The whole line, traceback included, redacted; with a priority prefix for journald."""

    def __init__(self, secrets: Iterable[str], journald: bool) -> None:
        fmt = "%(name)s: %(message)s" if journald else "%(levelname)s %(name)s: %(message)s"
        super().__init__(fmt)
        self.secrets = list(secrets)
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record), self.secrets)
        if not self.journald:
            return text
        prefix = f"<{PRIORITIES.get(record.levelno, 6)}>"
        return prefix + text.replace("\n", "\n" + prefix)  # each line of a traceback too


def under_journald() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM"))


def configure(level: str, settings: BaseModel | None = None, journald: bool | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    journal = under_journald() if journald is None else journald
    handler.setFormatter(RedactingFormatter(secrets_of(settings), journal))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # aiosqlite's debug lines carry every statement's parameters: customers' data and the
    # database's own secrets, at a volume no operator reads. They stay off.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLevelName(level)))
