"""Tracking-number formats and check digits, checked before any API call.

A number that fails costs no carrier call: it is refused at ingest with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UPS_1Z = re.compile(r"^1Z[0-9A-Z]{16}$")


class InvalidTrackingNumber(ValueError):
    pass


@dataclass(frozen=True)
class Detected:
    carrier: str
    number: str


def _ups_value(char: str) -> int:
    # UPS maps letters to digits as (ASCII - 3) mod 10: A=2, B=3, ... J=1.
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def ups_check_ok(number: str) -> bool:
    """The 1Z check digit over the 15 characters after `1Z`."""
    body, check = number[2:17], number[17]
    total = sum(_ups_value(c) * (2 if i % 2 else 1) for i, c in enumerate(body))
    return (10 - total % 10) % 10 == int(check) if check.isdigit() else False


def normalize(number: str) -> str:
    return re.sub(r"[\s-]", "", number).upper()


def validate(carrier: str, number: str) -> str:
    """The normalized number, or InvalidTrackingNumber saying why it is not one."""
    cleaned = normalize(number)
    if not cleaned:
        raise InvalidTrackingNumber("tracking number is empty")
    if carrier == "ups":
        if not _UPS_1Z.match(cleaned):
            raise InvalidTrackingNumber(
                f"{cleaned!r} is not a UPS 1Z number (1Z followed by 16 letters or digits)"
            )
        if not ups_check_ok(cleaned):
            raise InvalidTrackingNumber(f"{cleaned!r} fails the UPS check digit")
        return cleaned
    raise InvalidTrackingNumber(f"carrier {carrier!r} is not supported")


def detect(number: str) -> Detected | None:
    """The carrier whose format and check digit the number satisfies, if exactly one does."""
    for carrier in ("ups",):
        try:
            return Detected(carrier, validate(carrier, number))
        except InvalidTrackingNumber:
            continue
    return None
