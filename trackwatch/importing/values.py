"""Values as exports write them, turned into what trackwatch's validator reads: dates in the
export's own format (read in the store's zone when they carry none), carrier names as the
label tools write them, country names, US ZIP codes a spreadsheet shortened.

Each function raises InputError(field, reason) for a value it cannot read; it never guesses.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from functools import cache

import pycountry

from trackwatch.errors import InputError
from trackwatch.fields import shown

# Postage resellers: the label is another carrier's (USPS's, unless the service names one).
# Stamps.com and Endicia sell USPS postage; Pirate Ship sells USPS and UPS labels.
_RESELLERS = frozenset({"stamps com", "stampscom", "endicia", "pirate ship", "pirateship"})
_BRANDS = ("usps", "ups", "fedex", "dhl")
# Carrier codes of ShipStation's API and exports that do not start with the carrier's name.
_CODES = {"stamps com": "usps", "endicia": "usps", "express 1": "usps"}
_WORD = re.compile(r"[^a-z0-9]+")


def words(text: str) -> str:
    """'Stamps.com' -> 'stampscom', 'ups_walleted' -> 'ups walleted', 'UPS® Ground' -> 'ups
    ground': the form names are compared in."""
    return " ".join(_WORD.sub(" ", text.lower().replace(".", "")).split())


def carrier_text(carrier: str, service: str = "") -> str:
    """The carrier to hand to the validator for a label a tool describes as `carrier` (its
    carrier column) and `service`: a reseller's label is the carrier its service names, else
    USPS; a ShipStation code is its carrier. Any other name is passed on as written, so the
    validator refuses a carrier trackwatch does not watch by its name."""
    named = words(carrier)
    if named in _RESELLERS:
        found = [w for w in words(service).split() if w in _BRANDS]
        return found[0] if found else "usps"
    return _CODES.get(named, carrier)


# Names a country goes by that pycountry does not list.
_COUNTRY_ALIASES = {"usa": "US", "us": "US", "united states of america": "US", "uk": "GB",
                    "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
                    "northern ireland": "GB"}  # fmt: skip


@cache
def _countries() -> dict[str, str]:
    names = dict(_COUNTRY_ALIASES)
    for country in pycountry.countries:
        code = str(country.alpha_2)
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names.setdefault(words(str(value)), code)
    return names


def country_code(text: str) -> str:
    """The ISO 3166 alpha-2 code of a country written as a code ('US', 'USA') or a name
    ('United States', 'Deutschland' is not one: English names only)."""
    code = _countries().get(words(text))
    if code is None:
        raise InputError("destination_country", f"{shown(text)!r} is not a country name or "
                         "ISO 3166 code we know (such as US, USA or United States)")  # fmt: skip
    return code


_SHORT_ZIP = re.compile(r"(\d{1,4})(-\d{4})?$")


def us_zip(text: str) -> tuple[str, str | None]:
    """A US ZIP code, and a warning when its leading zeros had to be restored: a spreadsheet
    reads 02139 as the number 2139 and writes it back so."""
    found = _SHORT_ZIP.match(text)
    if found is None:
        return text, None
    restored = found.group(1).zfill(5) + (found.group(2) or "")
    return restored, f"ZIP code {text} read as {restored} (leading zero restored)"


def instant(text: str, field: str, formats: tuple[str, ...], zone: tzinfo) -> str:
    """`text`, a date or date-time in one of `formats` or ISO 8601, as ISO 8601 with its
    offset: one written without a zone is in `zone` (the store's)."""
    for fmt in formats:
        try:
            when = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _zoned(when, zone)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        wanted = " or ".join(repr(f) for f in (*formats, "ISO 8601"))
        raise InputError(field, f"{shown(text)!r} is not a date in the format {wanted}; "
                         "give --date-format for another") from None  # fmt: skip
    return _zoned(when, zone)


def _zoned(when: datetime, zone: tzinfo) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.isoformat()
