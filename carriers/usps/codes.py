"""USPS event codes → normalized status.

Source: shared/CARRIERS.md §1.5 and §6 (Pub 199 App. G codes as compiled there, partial and
not an official list). Codes decide first; the shipment's statusCategory only classifies the
newest event when its code is not in the table; text refines customs and damage, for which
USPS has no stable code.
"""

from __future__ import annotations

from carriers.mapping import Mapping3
from carriers.mapping import codes as _codes
from trackwatch.model import ExceptionKind, Status

_S = Status
_E = ExceptionKind


EVENT_CODES: dict[str, Mapping3] = {
    **_codes("GX MA", _S.LABEL_CREATED),
    **_codes("03 TM PA 10 SF T1 A1 TL EF PC L1 OA 80 81 82 42 06 07", _S.IN_TRANSIT),
    **_codes("08 15 71 DX", _S.IN_TRANSIT, delayed=True),  # missent, rescheduled, not updated
    **_codes("OF", _S.OUT_FOR_DELIVERY),
    **_codes("14 16", _S.AVAILABLE_FOR_PICKUP),
    **_codes("02 52 53 54 55 56 30 51", _S.DELIVERY_ATTEMPTED),
    **_codes("01 17 43", _S.DELIVERED),
    **_codes("05 21 22 23 24 25 26", _S.EXCEPTION, _E.ADDRESS_ISSUE),
    **_codes("09 04 27 28 29 31 44", _S.EXCEPTION, _E.RETURNED_TO_SENDER),
    **_codes("11", _S.EXCEPTION, _E.LOST),
}

# statusCategory (USPS.com's categories; the full list is unconfirmed) → status, matched on
# the start of the text so that "Delivery Attempt: Action Needed" is found.
CATEGORIES: tuple[tuple[str, Mapping3], ...] = (
    ("pre-shipment", (_S.LABEL_CREATED, None, False)),
    ("accepted", (_S.IN_TRANSIT, None, False)),
    ("in transit", (_S.IN_TRANSIT, None, False)),
    ("out for delivery", (_S.OUT_FOR_DELIVERY, None, False)),
    ("available for pickup", (_S.AVAILABLE_FOR_PICKUP, None, False)),
    ("delivery attempt", (_S.DELIVERY_ATTEMPTED, None, False)),
    ("delivered", (_S.DELIVERED, None, False)),
    ("alert", (_S.EXCEPTION, _E.OTHER, False)),
)

# "Not found" in v3r2 also means "USPS has no scan yet" for fresh third-party labels.
NOT_FOUND = "404"
SCOPE_MESSAGE = "client application identifier is invalid"
