"""One adapter per carrier, in an explicit registry (no package scanning)."""

from __future__ import annotations

from collections.abc import Callable

from carriers.base import Carrier, Credentials, Query, Transport
from carriers.dhl.client import DhlClient
from carriers.fedex.client import FedexClient
from carriers.fedex.client import classify as fedex_classify
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


def _fedex(transport: Transport, clock: Clock, creds: Credentials) -> Carrier:
    return FedexClient(transport, clock, creds.base_url, creds.client_id, creds.client_secret)


def _dhl(transport: Transport, clock: Clock, creds: Credentials) -> Carrier:
    return DhlClient(transport, clock, creds.base_url, creds.api_key)


CARRIERS: dict[str, CarrierFactory] = {"usps": _usps, "ups": _ups, "fedex": _fedex, "dhl": _dhl}
CLASSIFIERS = {"ups": ups_classify, "fedex": fedex_classify}

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
