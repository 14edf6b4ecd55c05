"""Staff accounts for the console: logins, passwords hashed with argon2id (argon2-cffi's
defaults, RFC 9106's second recommended profile), and what each account may see."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from trackwatch.errors import InputError

LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; a bound keeps a request's cost bounded
_hasher = PasswordHasher()


@cache
def _dummy() -> str:
    """Checked when the login is unknown, so that an unknown login costs as long as a known
    one (the time a refusal takes does not tell which logins exist)."""
    return _hasher.hash("not a password of anyone's")


def checked_login(value: str) -> str:
    if not LOGIN.fullmatch(value):
        raise InputError("login", "must be 1 to 64 letters, digits or ._@+- (starting with a "
                         "letter or digit)")  # fmt: skip
    return value


def checked_password(value: str) -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise InputError("password", f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return value


def hash_password(password: str) -> str:
    return _hasher.hash(checked_password(password))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` was made of (None: no such account, checked
    against a dummy all the same)."""
    if len(password) > PASSWORD_MAX:
        return False
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
