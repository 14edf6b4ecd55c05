"""Is a carrier's scan at the parcel's destination? Postal codes first, cities only without.

Carriers and merchants write one place many ways: "10001-2345" and "10001", "1043 AG" and
"1043ag", "St. Louis" and "SAINT LOUIS", "Saint-Étienne" and "St Etienne", "Oderweg 2,
AMSTERDAM" and "Amsterdam". Two spellings of one place must never read as two places: a
false "delivered somewhere else" sends staff after a parcel that arrived.
"""

from __future__ import annotations

import re
import unicodedata

from trackwatch.model import Place

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# Abbreviations that stand for a word at the start of many place names.
_WORDS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}


def postal_key(code: str, country: str) -> str:
    """A postal code without case, spaces or dashes; a US ZIP+4 as its ZIP5."""
    key = _NOT_ALNUM.sub("", code.casefold())
    return key[:5] if country.upper() == "US" else key


def city_names(text: str) -> frozenset[str]:
    """The names a city field can mean, without case, accents, punctuation or abbreviations:
    each comma-separated part, less streets (with a number: "Oderweg 2, AMSTERDAM") and
    state or country codes ("Whittier, CA, US"). "Brooklyn, New York" gives both names."""
    parts = {_plain(p) for p in text.split(",")} - {""}
    names = {p for p in parts if len(p) > 2 and not any(c.isdigit() for c in p)}
    return frozenset(names or parts)


def same_city(left: str, right: str) -> bool:
    return bool(city_names(left) & city_names(right))


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NOT_ALNUM.sub(" ", letters).split()
    return " ".join(_WORDS.get(w, w) for w in words)


def elsewhere(scan: Place, city: str, postal_code: str, country: str) -> str | None:
    """Why `scan` is not at the destination (city, postal code, country), or None when it
    is or cannot be told. Postal codes on both sides decide alone; only without them does
    the city."""
    if scan.postal_code and postal_code:
        if postal_key(scan.postal_code, country) == postal_key(postal_code, country):
            return None
        return f"scanned at postal code {scan.postal_code}, not {postal_code}"
    if scan.city and city and not same_city(scan.city, city):
        return f"scanned in {scan.city}, not {city}"
    return None
