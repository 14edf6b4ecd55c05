"""One TLS context for every email, instead of one built per email.

Apprise's SMTP connection (`AppriseSMTPController.__enter__`) calls
`ssl.create_default_context()` for every email it sends, plain `mailto://` included: that
reads and parses the system's CA bundle each time, about 28 ms of CPU, which was 60% of the
sending thread in `bench-email`.

Here the `ssl` that Apprise's SMTP module sees is a stand-in whose `create_default_context()`
hands back one context, built once by that same standard call, to a connection that keeps
certificate verification on: exactly as strict as before (CERT_REQUIRED, hostname checked,
the system's CAs, the default protocol floor). A connection told not to verify
(`?verify=no`) turns verification off on the context it gets, so it still gets a fresh one
of its own: the shared context is never changed after it is built. It is rebuilt after
`REBUILD_SECONDS`, so an updated CA bundle is taken up without a restart. An SSLContext is
safe to use from several threads at once (Apprise sends each notice in a worker thread).

`per_send_contexts()` brings the old cost back inside a block: `bench-email` measures the
two side by side.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import apprise.plugins.email.smtp as apprise_smtp

REBUILD_SECONDS = 3600.0

# Set while an SMTP connection that verifies certificates is being opened (in its thread).
_VERIFYING: ContextVar[bool] = ContextVar("trackwatch_smtp_verifying", default=False)
_PER_SEND: ContextVar[bool] = ContextVar("trackwatch_smtp_per_send", default=False)


class SharedContext:
    """The verified client context, built on first use and again when it is old."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._built = 0.0

    def get(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None or time.monotonic() - self._built > REBUILD_SECONDS:
                self._context = ssl.create_default_context()
                self._built = time.monotonic()
            return self._context


SHARED = SharedContext()


class _SslForApprise:
    """The `ssl` module as Apprise's SMTP module sees it: the same, but for where its
    default context comes from."""

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)

    @staticmethod
    def create_default_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        if args or kwargs or not _VERIFYING.get() or _PER_SEND.get():
            return ssl.create_default_context(*args, **kwargs)
        return SHARED.get()


@contextmanager
def per_send_contexts() -> Iterator[None]:
    """Emails sent inside this block (in this task) build their own context, as Apprise
    alone does: the "before" of `bench-email`."""
    token = _PER_SEND.set(True)
    try:
        yield
    finally:
        _PER_SEND.reset(token)


if not hasattr(apprise_smtp, "AppriseSMTPController") or not hasattr(apprise_smtp, "ssl"):
    # Apprise changed: say so at start-up rather than quietly lose the shared context.
    raise ImportError("apprise's SMTP module changed: the shared TLS context needs a new hook "
                      "(trackwatch/notify/smtp_tls.py)")  # fmt: skip
_original_enter = apprise_smtp.AppriseSMTPController.__enter__


def _entering(controller: Any) -> Any:
    token = _VERIFYING.set(bool(controller.verify_certificate))
    try:
        return _original_enter(controller)
    finally:
        _VERIFYING.reset(token)


# Apprise's own module and class, patched once at import (as notify.message_id does).
apprise_smtp.AppriseSMTPController.__enter__ = _entering  # type: ignore[method-assign]
apprise_smtp.ssl = _SslForApprise()  # type: ignore[attr-defined,assignment]
