"""Which time zone a place is in, from what a shipment or a carrier scan tells us.

US places resolve by state, or by the first three digits of the ZIP code (state-level
precision: a few states span two zones and take their majority zone); Canadian and
Australian ones by province or state, or by their postal code's first letter or digits.
Other countries take their principal zone: the first that tzdb's zone.tab lists for them,
except where that first one is an outlying place (zone.tab orders a country's zones east to
west, or by area: Canada's first is Newfoundland's, Russia's Kaliningrad's, Brazil's an
island's), where PRINCIPAL names the zone most of the country keeps.
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


PRINCIPAL = {"CA": "America/Toronto", "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
             "RU": "Europe/Moscow", "UA": "Europe/Kyiv", "UZ": "Asia/Tashkent"}  # fmt: skip

CA_PROVINCE_ZONES = {
    "NL": "America/St_Johns", "NS": "America/Halifax", "PE": "America/Halifax",
    "NB": "America/Moncton", "QC": "America/Toronto", "ON": "America/Toronto",
    "MB": "America/Winnipeg", "SK": "America/Regina", "AB": "America/Edmonton",
    "BC": "America/Vancouver", "YT": "America/Whitehorse", "NT": "America/Edmonton",
    "NU": "America/Iqaluit",
}  # fmt: skip
# A Canadian postal code's first letter is its province (Canada Post's allocation).
_CA_LETTERS = {**dict.fromkeys("GHJ", "QC"), **dict.fromkeys("KLMNP", "ON"), "A": "NL",
               "B": "NS", "C": "PE", "E": "NB", "R": "MB", "S": "SK", "T": "AB", "V": "BC",
               "X": "NT", "Y": "YT"}  # fmt: skip
AU_STATE_ZONES = {
    "NSW": "Australia/Sydney", "ACT": "Australia/Sydney", "VIC": "Australia/Melbourne",
    "QLD": "Australia/Brisbane", "SA": "Australia/Adelaide", "WA": "Australia/Perth",
    "TAS": "Australia/Hobart", "NT": "Australia/Darwin",
}  # fmt: skip
# An Australian postcode's first digit is its state (Australia Post); 08xx and 09xx are the
# Northern Territory's, 02xx the ACT's.
_AU_DIGITS = {"1": "NSW", "2": "NSW", "3": "VIC", "8": "VIC", "4": "QLD", "9": "QLD",
              "5": "SA", "6": "WA", "7": "TAS"}  # fmt: skip


def _province_zone(country: str, postal_code: str | None, state: str | None) -> str | None:
    """A Canadian or Australian place's zone from its province or state, else its postal
    code; None when neither says."""
    region = (state or "").strip().upper()
    code = (postal_code or "").strip().upper()
    if country == "CA":
        region = region if region in CA_PROVINCE_ZONES else _CA_LETTERS.get(code[:1], "")
        return CA_PROVINCE_ZONES.get(region)
    if region not in AU_STATE_ZONES and len(code) == 4 and code.isdigit():
        region = "NT" if code[:2] in ("08", "09") else "ACT" if code[:2] == "02" else ""
        region = region or _AU_DIGITS.get(code[0], "")
    return AU_STATE_ZONES.get(region)


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


def us_zone_name(code: str, postal_code: str | None, state: str | None) -> str:
    """A US place's zone (`code` "US", or "" for no country) by its state, else its ZIP;
    with neither, the US's principal zone, or UTC when no country was given."""
    if state and state.strip().upper() in STATE_ZONES:
        return STATE_ZONES[state.strip().upper()]
    zip_state = us_state_for_zip(postal_code or "")
    if zip_state:
        return STATE_ZONES[zip_state]
    return "UTC" if code == "" else _country_zones().get(code, "UTC")


@lru_cache(maxsize=4096)
def zone_name_for(
    country: str | None, postal_code: str | None = None, state: str | None = None
) -> str:
    """The IANA zone of a place; UTC when the country is unknown."""
    code = iso_country(country or "")
    if code in ("", "US"):
        return us_zone_name(code, postal_code, state)
    if code in ("CA", "AU"):
        found = _province_zone(code, postal_code, state)
        if found:
            return found
    return PRINCIPAL.get(code) or _country_zones().get(code, "UTC")


@lru_cache(maxsize=8192)
def zone_for(
    country: str | None, postal_code: str | None = None, state: str | None = None
) -> ZoneInfo:
    """Cached: parsers ask for every event's place, and the answer never changes (ZoneInfo
    keeps one instance per zone anyway)."""
    return ZoneInfo(zone_name_for(country, postal_code, state))
