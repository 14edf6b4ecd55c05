"""Every email carries a Message-ID made from its notice's idempotency key.

The outbox delivers at least once: a crash between the SMTP server's "250 OK" and the
database's "sent" sends the notice again after the restart. Both copies then carry the same
Message-ID, so mail servers and clients that deduplicate by it (Gmail among them) show one,
as webhook receivers do with the Idempotency-Key header.

Apprise's email plugin writes its own random Message-ID after any custom header (a second
one would make two), so its call to `make_msgid` is replaced, once, by one that uses the key
of the notice being sent. The key travels in a context variable: the outbox sets it in the
notice's own task, and Apprise runs the plugin in a thread with a copy of that context.
Outside a notice (no key), the standard random id is made as before.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import apprise.plugins.email.base as apprise_email

_KEY: ContextVar[str | None] = ContextVar("trackwatch_notice_key", default=None)


def message_id(key: str, domain: str | None) -> str:
    return f"<{key}@{domain or 'trackwatch.invalid'}>"


def _make_msgid(idstring: str | None = None, domain: str | None = None) -> str:
    key = _KEY.get()
    if key is None:
        return email.utils.make_msgid(idstring, domain)
    return message_id(key, domain)


@contextmanager
def keyed(key: str) -> Iterator[None]:
    """Emails sent inside this block (in this task) carry `key` as their Message-ID."""
    token = _KEY.set(key)
    try:
        yield
    finally:
        _KEY.reset(token)


if not hasattr(apprise_email, "make_msgid"):  # pragma: no cover - Apprise changed
    raise ImportError("apprise's email plugin no longer calls make_msgid: stable Message-IDs "
                      "need a new hook (trackwatch/notify/message_id.py)")  # fmt: skip
apprise_email.make_msgid = _make_msgid
