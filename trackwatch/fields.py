"""Checks of one field's value, shared by every way in (trackwatch.ingest) and the HTTP
routes: plain text, whole numbers, instants within a plausible window, email, phone. Each
raises a pydantic error whose message is the reason a person reads."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from pydantic_core import PydanticCustomError

from trackwatch.errors import InputError

# The plausible window of each date, in days around now (README's field table). A year back
# covers importing a season's orders (carriers keep tracking 90 to 120 days); a label may be
# dated a few days ahead (bought on Friday for Monday, a holiday between); an order is not
# placed in the future (a day allows for zones and clocks); a promise may run months ahead
# (made to order, pre-orders) but not years.
WINDOWS: dict[str, tuple[int, int]] = {
    "shipped_at": (365, 7),
    "ordered_at": (365, 1),
    "promised_by": (365, 365),
}
SQLITE_MAX_ID = 2**63 - 1
# C0 and C1 controls (NUL, CR, LF, tab, ESC, NEL, ...), the Unicode line and paragraph
# separators, and lone surrogates (JSON can escape them; UTF-8 cannot store them).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def fail(reason: str, kind: str = "input") -> PydanticCustomError:
    return PydanticCustomError(kind, "{reason}", {"reason": reason})


def _what(char: str) -> str:
    if char in "\u2028\u2029":
        return "a line break"
    return "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"


def plain_text_problem(text: str) -> str | None:
    """Why `text` cannot be a field's value (a control character, a line break), or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return f"contains {_what(found.group())} (U+{ord(found.group()):04X})"


def plain_text(value: Any) -> Any:
    """`value`, unless it is text with a control character or line break in it."""
    if isinstance(value, str) and (problem := plain_text_problem(value)):
        raise fail(problem)
    return value


def whole_number(text: str, low: int = 1, high: int = SQLITE_MAX_ID) -> int | None:
    """The number an id or a limit in a URL names: ASCII digits only (`str.isdigit` also
    says yes to '²' and '٣', which int() then refuses or reads), within [low, high]."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if low <= number <= high else None


def shown(text: str) -> str:
    # Reasons quote what was given, within reason: a body may hold a very long "date".
    return text if len(text) <= 40 else text[:40] + "..."


def parse_instant(text: str, field: str) -> datetime:
    """An ISO date (midnight UTC) or a date-time with its offset, in UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{shown(text)!r} is not an ISO date or date-time") from None
    if value.tzinfo is None:
        raise InputError(field, "give a UTC offset, e.g. 2026-11-23T09:00-05:00")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+14:00 is in year 0 in UTC: far outside any window all the same.
        raise InputError(field, outside(text, value.year < 5000, field)) from None


def outside(text: str, early: bool, field: str) -> str:
    """Why `text`, a date of `field`, falls outside its plausible window."""
    back, ahead = WINDOWS[field]
    if early:
        return f"{shown(text)} is more than {back} days ago"
    return f"{shown(text)} is more than {ahead} day{'s' if ahead != 1 else ''} ahead"


@cache
def countries() -> frozenset[str]:
    return frozenset(str(country.alpha_2) for country in pycountry.countries)


# A local part of plain ASCII atoms (RFC 5322's dot-atom), which email_validator returns as
# given, and its normalised form of each domain seen: an import of 100,000 rows spent a third
# of its time checking the same few domains again. Mailbox names that RFC 2142 makes
# case-insensitive are lowercased by email_validator, so they always take its path.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_DOMAINS: dict[str, str] = {}
_DOMAINS_KEPT = 4096  # bounded: memory stays flat whatever an import holds


def email_address(value: str) -> str:
    """One valid address (normalised), or none."""
    if not value:
        return ""
    if value.count("@") > 1:
        raise fail("is not a valid email address: give exactly one, not a list")
    local, _, domain = value.partition("@")
    known = _DOMAINS.get(domain)
    if known is not None and _plain_local(local) and len(local) + 1 + len(known) <= 254:
        return f"{local}@{known}"
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise fail(f"is not a valid email address: {exc}") from None
    if len(_DOMAINS) < _DOMAINS_KEPT:
        _DOMAINS[domain] = str(checked.domain)
    return str(checked.normalized)


def _plain_local(local: str) -> bool:
    return len(local) <= 64 and bool(_PLAIN_LOCAL.fullmatch(local)) and \
        local.lower() not in _MAILBOX_NAMES  # fmt: skip


def e164_phone(value: str) -> str:
    """A valid phone number in E.164 (normalised), or none."""
    if not value:
        return ""
    reason = "is not a valid phone number: give the number in E.164, e.g. +12015550123"
    if not value.startswith("+"):
        raise fail(reason)
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise fail(reason) from None
    if not phonenumbers.is_valid_number(parsed):
        raise fail(reason)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
