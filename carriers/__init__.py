"""One adapter per carrier, in an explicit registry (no package scanning)."""

from __future__ import annotations

from collections.abc import Callable

from carriers.base import Carrier, Credentials, Query, Transport
from carriers.numbers import Detected, InvalidTrackingNumber, detect, validate
from carriers.ups.client import UpsClient
from carriers.ups.client import classify as ups_classify
from carriers.usps.client import UspsClient
from trackwatch.clock import Clock

CarrierFactory = Callable[[Transport, Clock, Credentials], Carrier]


def _ups(transport: Transport, clock: Clock, creds: Credentials) -> Carrier:
    return UpsClient(transport, clock, creds.base_url, creds.client_id, creds.client_secret)


def _usps(transport: Transport, clock: Clock, creds: Credentials) -> Carrier:
    return UspsClient(transport, clock, creds.base_url, creds.client_id, creds.client_secret)


CARRIERS: dict[str, CarrierFactory] = {"usps": _usps, "ups": _ups}
CLASSIFIERS = {"ups": ups_classify}

__all__ = [
    "CARRIERS",
    "CLASSIFIERS",
    "Carrier",
    "CarrierFactory",
    "Credentials",
    "Detected",
    "InvalidTrackingNumber",
    "Query",
    "detect",
    "validate",
]
