"""Carrier free text: cleaned before matching, and the keyword tables shared by carriers.

Codes decide first; these keywords only refine an exception or a delivery place when a
carrier gives no code for it.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from trackwatch.model import DeliveryLocation, ExceptionKind

_TAGS = re.compile(r"<[^>]+>")


def clean(text: object) -> str:
    """Unescape HTML entities, drop tags, fold whitespace, trim."""
    if type(text) is not str:
        if text is None:
            return ""
        text = str(text)
    return _cleaned(text) if len(text) <= _CACHED_LENGTH else _clean_text(text)


def _clean_text(raw: str) -> str:
    if "<" in raw or "&" in raw:  # the rare field with markup (parsers call this on every one)
        raw = html.unescape(_TAGS.sub("", raw))
    # What `\s+` matches, str.split() splits on (both are str.isspace()): the same result
    # as the regex, without it, and without any copy when there is nothing to fold.
    parts = raw.split()
    return parts[0] if len(parts) == 1 else " ".join(parts)


# Parsers clean every field, and most are the same few codes, phrases, places and dates in
# every answer: a cached one costs a third. Bounded in number and in length (a long text is
# rare, and one answer full of them must not pin megabytes).
_CACHED_LENGTH = 200
_cleaned = lru_cache(maxsize=16384)(_clean_text)


_EXCEPTION_WORDS: tuple[tuple[ExceptionKind, tuple[str, ...]], ...] = (
    (ExceptionKind.RETURNED_TO_SENDER, ("return to sender", "returned to sender",
                                        "returning to sender", "return to shipper",
                                        "returned to shipper", "refused")),
    (ExceptionKind.ADDRESS_ISSUE, ("address", "no such number", "addressee unknown",
                                   "undeliverable as addressed")),
    (ExceptionKind.CUSTOMS_HOLD, ("customs", "clearance", "broker", "government agency")),
    (ExceptionKind.DAMAGED, ("damage",)),
    (ExceptionKind.LOST, ("lost", "missing", "unable to locate", "could not be located")),
)  # fmt: skip


def exception_kind(text: str) -> ExceptionKind:
    """The exception a description names; `other` when it names none we know."""
    lowered = text.lower()
    for kind, words in _EXCEPTION_WORDS:
        if any(word in lowered for word in words):
            return kind
    return ExceptionKind.OTHER


_PLACE_WORDS: tuple[tuple[DeliveryLocation, tuple[str, ...]], ...] = (
    (DeliveryLocation.PARCEL_LOCKER, ("locker", "packstation")),
    (DeliveryLocation.MAILROOM, ("mailroom", "mail room", "shipping/receiving",
                                 "shipping receiving")),
    (DeliveryLocation.RECEPTION, ("reception", "front desk", "receptionist", "guard",
                                  "security")),
    (DeliveryLocation.NEIGHBOUR, ("neighbor", "neighbour")),
    (DeliveryLocation.PICKUP_POINT, ("access point", "pickup point", "parcel shop",
                                     "post office", "fedex location")),
    (DeliveryLocation.MAILBOX, ("mailbox", "mail box")),
    (DeliveryLocation.FRONT_DOOR, ("front door", "porch", "door", "residence")),
    (DeliveryLocation.WITH_INDIVIDUAL, ("individual", "in person", "handed")),
)  # fmt: skip


def delivery_location(text: str) -> DeliveryLocation | None:
    """Where a delivery was left, from a carrier's words; None when nothing was said."""
    lowered = clean(text).lower()
    if not lowered:
        return None
    for place, words in _PLACE_WORDS:
        if any(word in lowered for word in words):
            return place
    return DeliveryLocation.OTHER


_DELIVERED = re.compile(r"\bdelivered\b")
# "will be / to be / could not be delivered", "not delivered": announced or denied, not done.
_UNDONE = re.compile(r"\b(?:be|not)\s+delivered\b")
# Handed to whoever makes the last mile ("Delivered to local post office for final delivery",
# DHL eCommerce's handover to USPS): the parcel is still on its way to the customer.
_HANDOVER = re.compile(
    r"\bdelivered to (?:the |a |your )?(?:local |destination )?(?:post office|postal|usps"
    r"|delivery partner|partner|carrier|courier|agent|depot|hub|facility)"
    r"|\bfor (?:final|onward|last[- ]mile) delivery\b"
)


def handed_over(text: str) -> bool:
    """Words that say the parcel went to the next carrier or post office for delivery."""
    return bool(_HANDOVER.search(clean(text).lower()))


def states_delivery(text: str) -> bool:
    """Words that state a delivery happened ("DELIVERED", "has been delivered",
    "Delivered, Front Door/Porch"), as opposed to announcing one ("will be delivered
    tomorrow"), denying one ("could not be delivered") or a handover for final delivery."""
    lowered = clean(text).lower()
    return (
        bool(_DELIVERED.search(lowered))
        and not _UNDONE.search(lowered)
        and not handed_over(lowered)
    )
