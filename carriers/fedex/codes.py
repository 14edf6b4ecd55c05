"""FedEx scan event types → normalized status.

Source: the FedEx "Tracking Status Codes" appendix as compiled in shared/CARRIERS.md §3.3
and §6. The eventType decides, never derivedStatusCode alone: FedEx derives "IT" for out
for delivery (OD) and ready for pickup (HP).
"""

from __future__ import annotations

from carriers.mapping import Mapping3
from carriers.mapping import codes as _codes
from trackwatch.model import DeliveryLocation, ExceptionKind, Status

_S = Status
_E = ExceptionKind

EVENT_TYPES: dict[str, Mapping3] = {
    **_codes("OC OX", _S.LABEL_CREATED),
    **_codes(
        "PU PX IT IX AR AF DP LO OF FD SF TR AO AE AA AC AX EA EO PF PL DS CH CC CP SP",
        _S.IN_TRANSIT,
    ),
    **_codes("RR RM RC RP LP RG RD DR", _S.IN_TRANSIT),  # delivery-option and return-label notes
    **_codes("DY DD PD", _S.IN_TRANSIT, delayed=True),
    **_codes("OD ED", _S.OUT_FOR_DELIVERY),
    **_codes("HP HL", _S.AVAILABLE_FOR_PICKUP),
    **_codes("DL", _S.DELIVERED),
    **_codes("CD", _S.EXCEPTION, _E.CUSTOMS_HOLD),
    **_codes("RS", _S.EXCEPTION, _E.RETURNED_TO_SENDER),
    **_codes("DE SE CA", _S.EXCEPTION, _E.OTHER),  # refined by the exception text
}

# DE exception codes that say what happened: the recipient was out / closed (an attempt),
# or FedEx redirected the parcel to a location for pickup.
ATTEMPT_EXCEPTIONS = frozenset({"08", "15"})
REDIRECT_EXCEPTIONS = frozenset({"A47"})

LOCATION_TYPES: dict[str, DeliveryLocation] = {
    "RESIDENCE": DeliveryLocation.FRONT_DOOR,
    "MAILROOM": DeliveryLocation.MAILROOM,
    "SHIPPING_RECEIVING": DeliveryLocation.MAILROOM,
    "RECEPTIONIST_OR_FRONT_DESK": DeliveryLocation.RECEPTION,
    "GUARD_OR_SECURITY_STATION": DeliveryLocation.RECEPTION,
    "FEDEX_LOCATION": DeliveryLocation.PICKUP_POINT,
    "NEIGHBOR": DeliveryLocation.NEIGHBOUR,
    "APARTMENT_OFFICE": DeliveryLocation.MAILROOM,
    "LEASING_OFFICE": DeliveryLocation.MAILROOM,
}

NOT_FOUND = "NOTFOUND"
EXPIRED_TOKEN = "NOT.AUTHORIZED.ERROR"
DAILY_QUOTA_WORDS = "daily transaction quota"
