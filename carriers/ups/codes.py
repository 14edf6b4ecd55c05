"""UPS status codes → normalized status, exact.

Sources: the developer.ups.com tracking appendix (3-digit status codes, activity types) and
the UPS-I#7 mapping of 2-letter codes, as compiled in shared/CARRIERS.md §2.3 and §6. The
API pads 3-digit codes with leading zeros ("011"); the appendix prints them without.
"""

from __future__ import annotations

from carriers.mapping import Mapping3
from carriers.mapping import codes as _codes
from trackwatch.model import ExceptionKind, Status

_S = Status
_E = ExceptionKind


STATUS_CODES: dict[str, Mapping3] = {
    **_codes("003 157 079 080 044 045 166", _S.LABEL_CREATED),
    **_codes("007", _S.EXCEPTION, _E.OTHER),  # shipment information voided
    **_codes("038 160 167 168 169", _S.IN_TRANSIT),  # picked up / dropped off
    **_codes("005 010 025 039 047 087 158 159 164 165 057 071 073 074 137", _S.IN_TRANSIT),
    **_codes("027 028 096 097", _S.IN_TRANSIT),  # delivery address changed (on request)
    **_codes("012 092 014 084 134", _S.IN_TRANSIT),  # clearance in progress / cleared
    **_codes("153 154", _S.IN_TRANSIT),  # updated delivery time or date
    **_codes("032 046 048 049 051 052 053 055 086 090", _S.IN_TRANSIT, delayed=True),
    **_codes("006 021 037 072 075 078 089 091 146 162", _S.OUT_FOR_DELIVERY),
    **_codes("017 040 144 161", _S.AVAILABLE_FOR_PICKUP),
    **_codes("022 023 024 060 061 062 066 145", _S.DELIVERY_ATTEMPTED),
    **_codes("011 026 143", _S.DELIVERED),
    **_codes("058 123 124 125 126", _S.EXCEPTION, _E.CUSTOMS_HOLD),
    **_codes("050 069", _S.EXCEPTION, _E.ADDRESS_ISSUE),
    **_codes("033 034 035 036 064 067 118 119", _S.EXCEPTION, _E.RETURNED_TO_SENDER),
    **_codes("059 081", _S.EXCEPTION, _E.DAMAGED),
    **_codes("068 129 147 149", _S.EXCEPTION, _E.LOST),
    **_codes("013 029 076", _S.EXCEPTION, _E.OTHER),  # 029 refined by its text
    **_codes("000 148 163", _S.UNKNOWN),
}

# 2-letter activity codes, used when the 3-digit code is absent or not in the table.
ACTIVITY_CODES: dict[str, Mapping3] = {
    **_codes("MP", _S.LABEL_CREATED),
    **_codes("OR AR AF DP IT SR", _S.IN_TRANSIT),
    **_codes("OT", _S.OUT_FOR_DELIVERY),
    **_codes("FS F4 KB", _S.DELIVERED),
    **_codes("EG", _S.IN_TRANSIT),  # → 028 delivery address changed
    **_codes("HA", _S.IN_TRANSIT, delayed=True),  # → 048 delay
    **_codes("H8", _S.EXCEPTION, _E.RETURNED_TO_SENDER),  # → 035 returning to sender
    **_codes("EU", _S.EXCEPTION, _E.CUSTOMS_HOLD),  # → 058 clearance information required
    **_codes("H1 H2 H3 H4 H5", _S.EXCEPTION, _E.ADDRESS_ISSUE),
}

# Activity type, the coarsest signal. P (pickup) is from the legacy XML API.
ACTIVITY_TYPES: dict[str, Mapping3] = {
    "M": (_S.LABEL_CREATED, None, False),
    "MV": (_S.EXCEPTION, _E.OTHER, False),
    "I": (_S.IN_TRANSIT, None, False),
    "P": (_S.IN_TRANSIT, None, False),
    "D": (_S.DELIVERED, None, False),
    "X": (_S.EXCEPTION, None, False),
}

# What each activity type can mean. A code whose status falls outside its activity's type
# contradicts it (the spec's own example pairs type X with label-created code 003), and the
# next, coarser signal decides instead.
TYPE_FAMILIES: dict[str, frozenset[Status]] = {
    "M": frozenset({_S.LABEL_CREATED}),
    "MV": frozenset({_S.EXCEPTION}),
    "D": frozenset({_S.DELIVERED, _S.AVAILABLE_FOR_PICKUP}),
    "I": frozenset({_S.IN_TRANSIT, _S.OUT_FOR_DELIVERY, _S.AVAILABLE_FOR_PICKUP,
                    _S.DELIVERY_ATTEMPTED}),
    "X": frozenset({_S.EXCEPTION, _S.DELIVERY_ATTEMPTED, _S.IN_TRANSIT,
                    _S.AVAILABLE_FOR_PICKUP}),
    "P": frozenset({_S.IN_TRANSIT}),
}  # fmt: skip

# Codes whose exception kind the description decides (generic "exception" codes).
REFINE_BY_TEXT = frozenset({"013", "029", "076"})

NOT_FOUND_WARNING = "TW0001"
TOKEN_EXPIRED_CODES = frozenset({"250002", "251004", "UJ0001"})
INVALID_NUMBER_CODES = frozenset({"TV1002"})
RATE_LIMIT_CODE = "10429"

# 401 codes a fresh token cures: expired (251004), unknown or absent token (250002, UJ0001).
TOKEN_CODES = frozenset({"251004", "250002", "UJ0001"})
