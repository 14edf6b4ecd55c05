"""Console sessions in signed cookies, CSRF tokens, and the sign-in rate limit.

A session cookie is `<payload>.<mac>`: the payload (base64url JSON: login, the account's
password generation, the CSRF token, when it was last used) is HMAC-SHA256-signed with the
console's key; nothing is kept on the server. A session ends after `IDLE` without a request,
when its account is removed, or when its password changes (the generation moves on). Before
sign-in the cookie carries only a CSRF token, so that the sign-in form is protected too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

COOKIE = "tw_console"
IDLE = timedelta(hours=12)
# At most this many failed sign-ins in `WINDOW`, per account and per address.
PER_ACCOUNT = 5
PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Session:
    csrf: str
    seen: datetime
    login: str | None = None  # None: not signed in (a sign-in form's session)
    generation: int = 0

    def touched(self, now: datetime) -> Session:
        return replace(self, seen=now)


def fresh(now: datetime, login: str | None = None, generation: int = 0) -> Session:
    """A new session: a new CSRF token each time (a sign-in changes it)."""
    return Session(secrets.token_urlsafe(24), now, login, generation)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("console key: must be at least 16 bytes")
        self._key = key

    def _mac(self, payload: str) -> str:
        return _b64(hmac.digest(self._key, f"console:{payload}".encode(), hashlib.sha256))

    def seal(self, session: Session) -> str:
        data = {"c": session.csrf, "s": int(session.seen.timestamp()), "l": session.login,
                "g": session.generation}  # fmt: skip
        payload = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def open(self, cookie: str | None, now: datetime) -> Session | None:
        """The session a genuine cookie holds, None if forged, malformed or idle too long."""
        payload, _, mac = (cookie or "").partition(".")
        if not mac or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
            seen = datetime.fromtimestamp(int(data["s"]), now.tzinfo)
            session = Session(str(data["c"]), seen, data["l"], int(data["g"]))
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
        return session if now - seen < IDLE else None


def csrf_ok(session: Session | None, given: object) -> bool:
    return (session is not None and isinstance(given, str)
            and hmac.compare_digest(given.encode(), session.csrf.encode()))  # fmt: skip


class SignInLimit:
    """Failed sign-ins counted per account and per address, in memory (a restart forgets
    them: the limit slows guessing, argon2's cost does the rest)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] >= WINDOW:
            found.popleft()
        return found

    def allowed(self, login: str, address: str, now: datetime) -> bool:
        return (len(self._recent(f"login:{login.lower()}", now)) < PER_ACCOUNT
                and len(self._recent(f"addr:{address}", now)) < PER_ADDRESS)  # fmt: skip

    def failed(self, login: str, address: str, now: datetime) -> None:
        self._recent(f"login:{login.lower()}", now).append(now)
        self._recent(f"addr:{address}", now).append(now)
        if len(self._failures) > 100_000:  # a flood of made-up logins: forget the stale
            self._failures = {k: v for k, v in self._failures.items() if v}
