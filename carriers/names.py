"""The carrier a sender names, in the words senders use: `usps`, "United States Postal
Service", "FedEx Ground", "DHL eCommerce", Shopify's `tracking_company`.

A name outranks the number's shape: a Royal Mail S10 number fits USPS's formats, but USPS
never had the parcel, so a carrier we do not support is refused by its name rather than taken
for one we do.
"""

from __future__ import annotations

import re

SUPPORTED = "USPS, UPS, FedEx and DHL"
LABELS = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL"}


def label(carrier: str) -> str:
    """How people write our carrier's name ("FedEx", not "fedex" or "FEDEX")."""
    return LABELS.get(carrier, carrier)


# First words that name one of our carriers, whatever service follows ("UPS Ground",
# "FedEx International Priority", "DHL eCommerce", "USPS Ground Advantage").
_BRANDS = {"usps": "usps", "ups": "ups", "fedex": "fedex", "dhl": "dhl"}
# Whole names that do not start with a brand word.
_NAMES = {
    "united states postal service": "usps",
    "us postal service": "usps",
    "united states post office": "usps",
    "us post office": "usps",
    "us mail": "usps",
    "united parcel service": "ups",
    "federal express": "fedex",
    "fed ex": "fedex",
}
# Names that say no carrier (Shopify's "Other"): the number's format decides.
_NONE = frozenset({"", "other"})


class UnsupportedCarrier(ValueError):
    """A carrier trackwatch does not watch, named by the sender."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not supported: trackwatch watches {SUPPORTED}")
        self.name = name


def _words(name: str) -> str:
    # "U.S. Postal Service" and "us-postal_service" both read "us postal service".
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower().replace(".", "")).split())


def carrier_named(name: str) -> str | None:
    """Our carrier (`usps`, `ups`, `fedex`, `dhl`) for a name a sender gave; None when the
    name says no carrier; UnsupportedCarrier for any other carrier."""
    words = _words(name)
    if words in _NONE:
        return None
    first = words.split(" ", 1)[0]
    found = _BRANDS.get(first) or _NAMES.get(words)
    if found is None:
        raise UnsupportedCarrier(" ".join(name.split())[:60])
    return found
