"""DHL Unified Tracking: statusCode (five values) refined by the words DHL sends.

Source: shared/CARRIERS.md §4.3 and §6. DHL's statusCode is coarse and sometimes wrong
("LABEL CREATED" and bagging scans come as `unknown`), so the words decide where they say
more; the rules below are checked in order and the first match wins.
"""

from __future__ import annotations

from collections.abc import Callable

from carriers.mapping import Mapping3
from carriers.text import handed_over, states_delivery
from trackwatch.model import ExceptionKind, Status

_S, _E = Status, ExceptionKind
Matcher = Callable[[str], bool]  # applied to the event's words, lower case


def words(*listed: str) -> Matcher:
    """Any of these words, anywhere in the text."""
    return lambda text: any(word in text for word in listed)


STATUS_CODES: dict[str, Mapping3] = {
    "pre-transit": (_S.LABEL_CREATED, None, False),
    "transit": (_S.IN_TRANSIT, None, False),
    "delivered": (_S.DELIVERED, None, False),
    "failure": (_S.EXCEPTION, _E.OTHER, False),
}

# (statusCodes the rule applies to, or None for any; what the words must say; mapping).
# "Delivered" counts only where it states a delivery: "will be delivered tomorrow" and
# "Delivered to local post office for final delivery" do not (the latter, whatever DHL's code,
# is a handover to the last-mile carrier).
TEXT_RULES: tuple[tuple[frozenset[str] | None, Matcher, Mapping3], ...] = (
    (None, words("returned to sender", "return to sender", "returned to shipper", "return to shipper"),
     (_S.EXCEPTION, _E.RETURNED_TO_SENDER, False)),
    (None, words("held by customs", "awaiting customs", "customs hold", "held in customs"),
     (_S.EXCEPTION, _E.CUSTOMS_HOLD, False)),
    (frozenset({"failure"}), words("customs", "clearance"), (_S.EXCEPTION, _E.CUSTOMS_HOLD, False)),
    (frozenset({"failure"}), words("address"), (_S.EXCEPTION, _E.ADDRESS_ISSUE, False)),
    (frozenset({"failure"}), words("damage"), (_S.EXCEPTION, _E.DAMAGED, False)),
    (frozenset({"failure"}), words("lost", "could not be located", "missing"), (_S.EXCEPTION, _E.LOST, False)),
    (None, words("delivery attempt", "not at home", "notification card", "could not be delivered"),
     (_S.DELIVERY_ATTEMPTED, None, False)),
    (None, words("ready for pick-up", "ready for pickup", "available for pickup",
                 "available for pick-up", "packstation", "parcel shop", "service point"),
     (_S.AVAILABLE_FOR_PICKUP, None, False)),
    (None, words("out for delivery", "with delivery courier"), (_S.OUT_FOR_DELIVERY, None, False)),
    (None, handed_over, (_S.IN_TRANSIT, None, False)),
    (frozenset({"unknown", "pre-transit", "transit"}), states_delivery, (_S.DELIVERED, None, False)),
    (frozenset({"unknown"}), words("label created", "shipment information received",
                                   "awaiting shipment"), (_S.LABEL_CREATED, None, False)),
    (frozenset({"unknown"}), words("sack", "bag", "container", "processed", "arrived", "departed"),
     (_S.IN_TRANSIT, None, False)),
    (frozenset({"transit", "unknown"}), words("delay"), (_S.IN_TRANSIT, None, True)),
)  # fmt: skip
