"""What every carrier's push (webhook) adapter is: a pure reader of the carrier's push bodies
(`<carrier>/push.py`) and a subscription client (`<carrier>/subscribe.py`, I/O only).

A reader turns one verified push body into tracking results (the same TrackingResult the
poller stores: events with their statuses) and, for carriers with a handshake, control
messages; a body it cannot read raises MalformedPush naming the field and the reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Protocol

from trackwatch.errors import MalformedResponse
from trackwatch.model import TrackingResult

# Deeper than any carrier's push (FedEx's, the deepest, nests about eight levels): deeper
# ones are refused before anything walks them.
MAX_DEPTH = 32


class MalformedPush(ValueError):
    """A push body that is not what the carrier documents: `field` and `reason` say where."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Control:
    """A message about a subscription rather than a parcel (DHL's validate, ready, delete)."""

    kind: str
    subscription_id: str
    secret: str = ""


@dataclass(frozen=True)
class PushMessage:
    """`subscription_id`: the subscription the message names, for carriers whose pushes are
    verified by a secret of each subscription (USPS, DHL): its results may be only of the
    numbers subscribed under it."""

    results: list[TrackingResult] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    subscription_id: str = ""


class PushReader(Protocol):
    def __call__(self, body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
        """`zones`: each watched number's destination zone, for dates a carrier gives
        without one (UPS's scheduledDeliveryDate)."""
        ...


# Carriers that keep pushing a parcel after its delivery (a UPS package subscription lives its
# 14 days; FedEx's account project pushes every parcel): a correction of the delivery scan
# comes by push, so no poll is needed to confirm it. USPS and DHL subscriptions are deleted
# at delivery.
PUSHES_AFTER_DELIVERY = frozenset({"ups", "fedex"})


@dataclass(frozen=True)
class Hook:
    """Where and how the carrier reaches us: the receiver's URL and the addresses the
    carrier writes to about subscriptions (USPS)."""

    url: str
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Held:
    """A subscription as the carrier holds it (what the store keeps of it)."""

    number: str
    subscription_id: str | None = None
    secret: str | None = None
    etag: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Subscribed:
    """The carrier's answer for one number: `state` is active, validating (a handshake
    follows: DHL), suspended (USPS stopped pushing) or failed (with `error`)."""

    held: Held
    state: str
    error: str | None = None


class PushAgent(Protocol):
    """A carrier's subscription API. `batch_size`: numbers one subscribe call takes."""

    name: ClassVar[str]
    batch_size: ClassVar[int]

    async def subscribe(self, numbers: Sequence[str], hook: Hook) -> list[Subscribed]: ...

    async def check(self, held: Held) -> Subscribed:
        """The subscription's state now, enabled again if the carrier suspended it."""
        ...

    async def unsubscribe(self, held: Sequence[Held]) -> None: ...

    async def activate(self, held: Held, secret: str) -> Subscribed:
        """Complete a handshake (DHL's validate)."""
        ...


def b64_hmac(key: str, message: bytes) -> str:
    """Base64 of HMAC-SHA256: how USPS (X-HMAC) and FedEx (fdx-signature) sign pushes."""
    return base64.b64encode(hmac.digest(key.encode(), message, hashlib.sha256)).decode()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two texts (of any lengths)."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def load(body: bytes | str, where: str = "body") -> Any:
    """A push body's JSON. MalformedPush when it is not JSON, nests deeper than MAX_DEPTH
    (json.loads itself overflows the stack near a thousand levels), or holds a lone UTF-16
    surrogate (`\\ud800`): valid JSON, but no text a database can store, so a push carrying
    one would fail every write of the worker's batch."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise MalformedPush(where, f"is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise MalformedPush(where, f"is not JSON ({exc})") from None
    _check_tree(data, where)
    return data


def _check_tree(data: Any, where: str) -> None:
    """Walked without recursion: every container's depth, every text's encoding."""
    stack = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode()
                except UnicodeEncodeError:
                    raise MalformedPush(
                        where, "holds a lone surrogate (not Unicode text)"
                    ) from None
        elif isinstance(value, dict | list):
            if level > MAX_DEPTH:
                raise MalformedPush(where, f"is nested more than {MAX_DEPTH} levels deep")
            items = [*value, *value.values()] if isinstance(value, dict) else value
            stack.extend((item, level + 1) for item in items)


@contextmanager
def reading(where: str) -> Iterator[None]:
    """The poll's parsers' refusals as MalformedPush naming `where`: theirs (MalformedResponse),
    and a date that has a date's form but is none (month 13; the last day there is, plus
    one), which datetime refuses with a ValueError or OverflowError."""
    try:
        yield
    except MalformedPush:
        raise
    except MalformedResponse as exc:
        raise MalformedPush(where, exc.message) from None
    except (ValueError, OverflowError) as exc:
        raise MalformedPush(where, str(exc)) from None


def obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedPush(where, "must be a JSON object")
    return value


def text(value: Any, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise MalformedPush(where, "must be a non-empty text" if required else "must be a text")
    return value
