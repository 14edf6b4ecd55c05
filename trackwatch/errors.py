"""Typed failures of a carrier call. Per-number outcomes (no info yet, invalid) are results,
not exceptions; these are for calls that failed as a whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class CarrierError(Exception):
    """A carrier call failed; the shipments in it keep their state and are polled again.

    `whole_carrier`: the carrier itself is in trouble (unreachable, credentials refused), so
    every call to it would fail alike; otherwise only this call's answer was unusable."""

    whole_carrier: ClassVar[bool] = False
    what: ClassVar[str] = "failed"  # for people: what happened, in a few words

    def __init__(self, carrier: str, message: str) -> None:
        super().__init__(f"{carrier}: {message}")
        self.carrier = carrier
        self.message = message


class RateLimited(CarrierError):
    what = "refuses calls over its rate limit"

    def __init__(
        self, carrier: str, message: str, retry_after: float | None = None, daily: bool = False
    ) -> None:
        super().__init__(carrier, message)
        self.retry_after = retry_after
        self.daily = daily


class AuthFailed(CarrierError):
    """Credentials were rejected (not merely an expired token, which is refreshed)."""

    whole_carrier = True
    what = "rejects our credentials"


class Unavailable(CarrierError):
    """5xx, timeout, connection refused: transient, retried with backoff."""

    whole_carrier = True
    what = "cannot be reached"


class MalformedResponse(CarrierError):
    """The carrier answered, but not in a shape its spec allows. The message says so, so
    that nobody reads it as a carrier that cannot be reached."""

    what = "answers in a form trackwatch cannot read"

    def __init__(self, carrier: str, message: str) -> None:
        super().__init__(carrier, f"malformed answer: {message}")


class BrokenAnswer(MalformedResponse):
    """An answer that is not the carrier's API at all (not JSON: a maintenance page, a body
    cut short; a token answer without a token): about no number in particular, so every
    call would fail alike and the carrier backs off as a whole."""

    whole_carrier = True


class RequestRejected(CarrierError):
    """The carrier refused the request itself (HTTP 400/404 on the call, not per number):
    a fault in how we asked, or a change in the API. Retrying the same request will not help,
    so it is logged loudly; the shipments keep their state."""

    what = "refuses our requests"

    def __init__(self, carrier: str, message: str) -> None:
        super().__init__(carrier, f"request rejected: {message}")


class InputError(Exception):
    """Bad input (command line, CSV row, API body, webhook): `field: reason`.

    One input can have several problems: `problems` lists every one (each an InputError with
    its own field and reason), and `field`/`reason` are the first's, for callers that show one.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.problems: tuple[InputError, ...] = (self,)

    @classmethod
    def several(cls, problems: Sequence[InputError]) -> InputError:
        """One error carrying every problem of one input, in order (at least one)."""
        flat = tuple(p for problem in problems for p in problem.problems)
        if len(flat) == 1:
            return flat[0]
        error = cls(flat[0].field, flat[0].reason)
        error.problems = flat
        error.args = ("; ".join(str(p) for p in flat),)
        return error
