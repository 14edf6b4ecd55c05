"""Which time zone a place is in, from what a shipment or a carrier scan tells us.

US places resolve by state, or by the first three digits of the ZIP code (state-level
precision: a few states span two zones and take their majority zone). Other countries take
the first zone that tzdb's zone.tab lists for them, which is the principal one.
"""

from __future__ import annotations

import importlib.resources
from functools import lru_cache
from zoneinfo import ZoneInfo

EASTERN, CENTRAL, MOUNTAIN, PACIFIC = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)

STATE_ZONES: dict[str, str] = {
    **dict.fromkeys(
        "CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV".split(), EASTERN
    ),
    **dict.fromkeys("AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI".split(), CENTRAL),
    **dict.fromkeys("CO ID MT NM UT WY".split(), MOUNTAIN),
    **dict.fromkeys("CA NV OR WA".split(), PACIFIC),
    "AZ": "America/Phoenix",
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
    "VI": "America/St_Thomas",
    "GU": "Pacific/Guam",
}

# (first ZIP3, last ZIP3, state): the USPS ZIP prefix allocation.
_ZIP3_STATES: tuple[tuple[int, int, str], ...] = (
    (5, 5, "NY"), (6, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"),
    (39, 49, "ME"), (50, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"), (100, 149, "NY"),
    (150, 196, "PA"), (197, 199, "DE"), (200, 205, "DC"), (206, 219, "MD"), (220, 246, "VA"),
    (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"), (320, 349, "FL"),
    (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"), (400, 427, "KY"),
    (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"),
    (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"),
    (600, 629, "IL"), (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"),
    (716, 729, "AR"), (730, 749, "OK"), (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"),
    (832, 838, "ID"), (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"), (889, 898, "NV"),
    (900, 961, "CA"), (967, 968, "HI"), (969, 969, "GU"), (970, 979, "OR"), (980, 994, "WA"),
    (995, 999, "AK"),
)  # fmt: skip


def us_state_for_zip(postal_code: str) -> str | None:
    digits = postal_code.strip()[:3]
    if len(digits) != 3 or not digits.isdigit():
        return None
    prefix = int(digits)
    for first, last, state in _ZIP3_STATES:
        if first <= prefix <= last:
            return state
    return None


# Codes carriers send that are not ISO 3166 (DHL's own example says "UK" for Heathrow).
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR", "USA": "US"}


def iso_country(code: str) -> str:
    """A carrier's country code as ISO 3166 alpha-2."""
    upper = code.strip().upper()
    return _COUNTRY_ALIASES.get(upper, upper)


@lru_cache(maxsize=1)
def _country_zones() -> dict[str, str]:
    text = (
        importlib.resources.files("tzdata")
        .joinpath("zoneinfo/zone.tab")
        .read_text(encoding="utf-8")
    )
    zones: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        country, _coords, zone = line.split("\t")[:3]
        zones.setdefault(country, zone)
    return zones


@lru_cache(maxsize=4096)
def zone_name_for(
    country: str | None, postal_code: str | None = None, state: str | None = None
) -> str:
    """The IANA zone of a place; UTC when the country is unknown."""
    code = (country or "").strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    if code in ("", "US"):
        if state and state.strip().upper() in STATE_ZONES:
            return STATE_ZONES[state.strip().upper()]
        zip_state = us_state_for_zip(postal_code or "")
        if zip_state:
            return STATE_ZONES[zip_state]
        if code == "":
            return "UTC"
    return _country_zones().get(code, "UTC")


@lru_cache(maxsize=8192)
def zone_for(
    country: str | None, postal_code: str | None = None, state: str | None = None
) -> ZoneInfo:
    """Cached: parsers ask for every event's place, and the answer never changes (ZoneInfo
    keeps one instance per zone anyway)."""
    return ZoneInfo(zone_name_for(country, postal_code, state))
