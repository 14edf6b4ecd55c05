"""Tracking-number formats and check digits, checked before any API call.

The formats are jkeen/tracking_number_data (carriers/data/tracking_numbers, MIT), read as
data: each format's regex (converted from Ruby's `(?<name>…)` groups) and its checksum
parameters. A number that fails costs no carrier call: it is refused at ingest with the
reason. USPS routing prefixes (`420` + ZIP5 or ZIP9) are stripped, because the API and the
check digit both work on the IMpb that follows them.

Why not the `tracking-numbers` package: version 0.1.8 ignores the data's `reverse` flag
(USPS IMpb N), ships without type hints, and is generated from an older copy of the data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from carriers.names import LABELS

# The jkeen file each of our carriers reads; S10 (UPU) numbers are tracked by USPS once they
# reach the US, and USPS is the carrier merchants name for them.
_FILES: Mapping[str, tuple[str, ...]] = {
    "ups": ("ups",),
    "usps": ("usps", "s10"),
    "fedex": ("fedex",),
    "dhl": ("dhl",),
}
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_]\w*)>")

Checksum = Callable[[str], int]


class InvalidTrackingNumber(ValueError):
    pass


@dataclass(frozen=True)
class Detected:
    carrier: str
    number: str


def _digit(char: str) -> int:
    # UPS maps letters to digits as (ASCII - 3) mod 10: A=2, B=3, ... J=1.
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def _mod10(spec: Mapping[str, Any]) -> Checksum:
    odds, evens = spec.get("odds_multiplier"), spec.get("evens_multiplier")
    reverse = bool(spec.get("reverse"))

    def expected(serial: str) -> int:
        chars = serial[::-1] if reverse else serial
        total = 0
        for index, char in enumerate(chars):
            weight = (odds if index % 2 else evens) or 1
            total += _digit(char) * weight
        return (10 - total % 10) % 10

    return expected


def _weighted(spec: Mapping[str, Any]) -> Checksum:
    weights = [int(w) for w in spec["weightings"]]
    first, second = int(spec["modulo1"]), int(spec["modulo2"])
    return lambda serial: (
        sum(_digit(c) * w for c, w in zip(serial, weights, strict=False)) % first % second
    )


def _mod7(_: Mapping[str, Any]) -> Checksum:
    return lambda serial: int(serial) % 7


def _s10(spec: Mapping[str, Any]) -> Checksum:
    weights = [int(w) for w in spec["weightings"]]

    def expected(serial: str) -> int:
        remainder = sum(int(c) * w for c, w in zip(serial, weights, strict=False)) % 11
        return {0: 5, 1: 0}.get(remainder, 11 - remainder)

    return expected


_ALGORITHMS: Mapping[str, Callable[[Mapping[str, Any]], Checksum]] = {
    "mod10": _mod10,
    "sum_product_with_weightings_and_modulo": _weighted,
    "mod7": _mod7,
    "s10": _s10,
}


@dataclass(frozen=True)
class Lookup:
    group: str
    values: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def allows(self, value: str | None) -> bool:
        text = (value or "").replace(" ", "")
        return text in self.values or any(p.fullmatch(text) for p in self.patterns)


def _lookups(entry: Mapping[str, Any]) -> tuple[Lookup, ...]:
    required = set(((entry.get("validation") or {}).get("additional") or {}).get("exists", []))
    extra = entry.get("additional")
    tables: list[Any] = extra if isinstance(extra, list) else []
    return tuple(
        Lookup(
            str(table["regex_group_name"]),
            frozenset(str(row["matches"]) for row in table["lookup"] if "matches" in row),
            tuple(
                re.compile(row["matches_regex"])
                for row in table["lookup"]
                if "matches_regex" in row
            ),
        )
        for table in tables
        if table["name"] in required
    )


@dataclass(frozen=True)
class Format:
    carrier: str
    name: str
    pattern: re.Pattern[str]
    checksum: Checksum | None
    prepend_if: tuple[re.Pattern[str], str] | None
    # Groups whose value must be one the data lists (the S10 country code names a post).
    lookups: tuple[Lookup, ...] = ()

    def match(self, number: str) -> re.Match[str] | None:
        found = self.pattern.fullmatch(number)
        if found is None or not all(lookup.allows(found[lookup.group]) for lookup in self.lookups):
            return None
        return found

    def serial(self, match: re.Match[str]) -> str:
        serial = match["SerialNumber"]
        if self.prepend_if is not None and self.prepend_if[0].match(serial):
            serial = self.prepend_if[1] + serial
        return serial

    def check_failure(self, match: re.Match[str]) -> str | None:
        """Why the check digit is wrong, or None when it is right (or there is none)."""
        if self.checksum is None:
            return None
        expected = self.checksum(self.serial(match))
        given = match["CheckDigit"]
        return None if str(expected) == given else f"check digit is {given}, expected {expected}"

    def api_number(self, match: re.Match[str], number: str) -> str:
        """The number the carrier's API wants: without a USPS `420`+ZIP routing prefix."""
        if "RoutingApplicationId" in self.pattern.groupindex and match["RoutingApplicationId"]:
            return number[match.start("SerialNumber") :]
        return number


def _format(carrier: str, entry: Mapping[str, Any]) -> Format:
    raw = entry["regex"]
    source = "".join(raw) if isinstance(raw, list) else str(raw)
    pattern = re.compile(_NAMED_GROUP.sub(r"(?P<\1>", source))
    validation = entry.get("validation") or {}
    spec = validation.get("checksum")
    checksum = _ALGORITHMS[spec["name"]](spec) if spec else None
    prepend = (validation.get("serial_number_format") or {}).get("prepend_if")
    prepend_if = (
        (re.compile(prepend["matches_regex"]), str(prepend["content"])) if prepend else None
    )
    return Format(carrier, str(entry["name"]), pattern, checksum, prepend_if, _lookups(entry))


@cache
def formats() -> tuple[Format, ...]:
    data = resources.files("carriers") / "data" / "tracking_numbers"
    found: list[Format] = []
    for carrier, files in _FILES.items():
        for name in files:
            document = json.loads((data / f"{name}.json").read_text(encoding="utf-8"))
            found.extend(_format(carrier, entry) for entry in document["tracking_numbers"])
    return tuple(found)


def normalize(number: str) -> str:
    return re.sub(r"[\s-]", "", number).upper()


def _valid_as(carrier: str, cleaned: str) -> tuple[str | None, list[str]]:
    """(the API number, []) when a format of `carrier` accepts it; else (None, reasons)."""
    reasons: list[str] = []
    for fmt in formats():
        if fmt.carrier != carrier or (match := fmt.match(cleaned)) is None:
            continue
        failure = fmt.check_failure(match)
        if failure is None:
            return fmt.api_number(match, cleaned), []
        reasons.append(f"fails the {fmt.name} check digit ({failure})")
    return None, reasons


def validate(carrier: str, number: str) -> str:
    """The number to send to the carrier, or InvalidTrackingNumber saying why it is not one."""
    if carrier not in _FILES:
        raise InvalidTrackingNumber(f"carrier {carrier!r} is not supported")
    cleaned = normalize(number)
    if not cleaned:
        raise InvalidTrackingNumber("tracking number is empty")
    accepted, reasons = _valid_as(carrier, cleaned)
    if accepted is not None:
        return accepted
    label = LABELS[carrier]
    if reasons:
        raise InvalidTrackingNumber(f"{cleaned!r} {'; '.join(reasons)}")
    others = [LABELS[d.carrier] for d in candidates(cleaned)]
    hint = f"; it looks like a {' or '.join(others)} number" if others else ""
    raise InvalidTrackingNumber(
        f"{cleaned!r} does not match any {label} tracking-number format{hint}"
    )


def candidates(number: str) -> list[Detected]:
    """Every carrier whose format and check digit the number satisfies."""
    cleaned = normalize(number)
    found: list[Detected] = []
    for carrier in _FILES:
        accepted, _ = _valid_as(carrier, cleaned)
        if accepted is not None:
            found.append(Detected(carrier, accepted))
    return found


def detect(number: str) -> Detected | None:
    """The carrier the number belongs to, when exactly one carrier's formats accept it."""
    found = candidates(number)
    if len(found) > 1:
        # A `420`+ZIP routing prefix in front of a valid IMpb is USPS's barcode, even when
        # the whole 34 digits also satisfy FedEx's 34-digit Express format.
        found = [d for d in found if d.carrier == "usps" and d.number != normalize(number)] or found
    return found[0] if len(found) == 1 else None


def format_name(carrier: str, number: str) -> str | None:
    """The name of the jkeen format a valid number of `carrier` has ("DHL Express", ...)."""
    cleaned = normalize(number)
    for fmt in formats():
        if (
            fmt.carrier == carrier
            and (match := fmt.match(cleaned))
            and fmt.check_failure(match) is None
        ):
            return fmt.name
    return None


# Services of our other carriers whose parcels USPS delivers, on a label with a USPS (IMpb)
# number: the carrier carries the parcel to a USPS facility and USPS tracks the last leg
# (CARRIERS.md: UPS `alternateTrackingNumber` USPS_PIC for SurePost/Ground Saver, FedEx
# USPS_DELIVERED for SmartPost).
USPS_DELIVERED = {
    "ups": "UPS SurePost or Mail Innovations",
    "fedex": "FedEx SmartPost or Ground Economy",
    "dhl": "DHL eCommerce",
}


def usps_impb(number: str) -> str | None:
    """The API number when `number` is a valid USPS IMpb or legacy barcode (`92…`, 20 to 22
    digits, or with a `420`+ZIP routing prefix); None otherwise, UPU S10 numbers included."""
    cleaned = normalize(number)
    for fmt in formats():
        if fmt.carrier != "usps" or fmt.name == "S10" or (match := fmt.match(cleaned)) is None:
            continue
        if fmt.check_failure(match) is None:
            return fmt.api_number(match, cleaned)
    return None


def s10_country(number: str) -> str | None:
    """The ISO country of the post that issued a valid UPU S10 number (`RR123456785GB` ->
    GB); None when the number is not one."""
    cleaned = normalize(number)
    return cleaned[-2:] if format_name("usps", cleaned) == "S10" else None


def check_failures(number: str) -> list[str]:
    """Why `number` fails the check digit of each format whose shape it has (a mistyped
    digit, rather than no carrier's number at all)."""
    cleaned = normalize(number)
    found: list[str] = []
    for fmt in formats():
        if (match := fmt.match(cleaned)) and (failure := fmt.check_failure(match)):
            found.append(f"fails the {fmt.name} check digit ({failure})")
    return found
