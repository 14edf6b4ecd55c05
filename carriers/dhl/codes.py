"""DHL Unified Tracking: statusCode (five values) refined by the words DHL sends.

Source: shared/CARRIERS.md §4.3 and §6. DHL's statusCode is coarse and sometimes wrong
("LABEL CREATED" and bagging scans come as `unknown`), so the words decide where they say
more; the rules below are checked in order and the first match wins.
"""

from __future__ import annotations

from carriers.mapping import Mapping3
from trackwatch.model import ExceptionKind, Status

_S, _E = Status, ExceptionKind

STATUS_CODES: dict[str, Mapping3] = {
    "pre-transit": (_S.LABEL_CREATED, None, False),
    "transit": (_S.IN_TRANSIT, None, False),
    "delivered": (_S.DELIVERED, None, False),
    "failure": (_S.EXCEPTION, _E.OTHER, False),
}

# (statusCodes the rule applies to, or None for any; words; mapping)
TEXT_RULES: tuple[tuple[frozenset[str] | None, tuple[str, ...], Mapping3], ...] = (
    (None, ("returned to sender", "return to sender", "returned to shipper", "return to shipper"),
     (_S.EXCEPTION, _E.RETURNED_TO_SENDER, False)),
    (None, ("held by customs", "awaiting customs", "customs hold", "held in customs"),
     (_S.EXCEPTION, _E.CUSTOMS_HOLD, False)),
    (frozenset({"failure"}), ("customs", "clearance"), (_S.EXCEPTION, _E.CUSTOMS_HOLD, False)),
    (frozenset({"failure"}), ("address",), (_S.EXCEPTION, _E.ADDRESS_ISSUE, False)),
    (frozenset({"failure"}), ("damage",), (_S.EXCEPTION, _E.DAMAGED, False)),
    (frozenset({"failure"}), ("lost", "could not be located", "missing"), (_S.EXCEPTION, _E.LOST, False)),
    (None, ("delivery attempt", "not at home", "notification card", "could not be delivered"),
     (_S.DELIVERY_ATTEMPTED, None, False)),
    (None, ("ready for pick-up", "ready for pickup", "available for pickup",
            "available for pick-up", "packstation", "parcel shop", "service point"),
     (_S.AVAILABLE_FOR_PICKUP, None, False)),
    (None, ("out for delivery", "with delivery courier"), (_S.OUT_FOR_DELIVERY, None, False)),
    (frozenset({"unknown", "pre-transit", "transit"}), ("delivered",), (_S.DELIVERED, None, False)),
    (frozenset({"unknown"}), ("label created", "shipment information received",
                              "awaiting shipment"), (_S.LABEL_CREATED, None, False)),
    (frozenset({"unknown"}), ("sack", "bag", "container", "processed", "arrived", "departed"),
     (_S.IN_TRANSIT, None, False)),
    (frozenset({"transit", "unknown"}), ("delay",), (_S.IN_TRANSIT, None, True)),
)  # fmt: skip
