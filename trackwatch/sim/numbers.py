"""Tracking numbers that pass each carrier's format and check digit, for generated worlds."""

from __future__ import annotations

import random

from carriers.numbers import InvalidTrackingNumber, validate

_DIGITS = "0123456789"
# A valid prefix per carrier and how many random digits follow it (the check digit is added).
_SHAPES = {"ups": ("1Z5R893903", 7), "usps": ("9400111", 14), "fedex": ("", 11), "dhl": ("", 9)}


def make_number(carrier: str, rnd: random.Random) -> str:
    prefix, length = _SHAPES[carrier]
    while True:
        base = prefix + "".join(rnd.choice(_DIGITS) for _ in range(length))
        for digit in _DIGITS:
            try:
                return validate(carrier, base + digit)
            except InvalidTrackingNumber:
                continue
