"""Logging that never carries secrets or customers' personal data.

Our own messages name notices and shipments by id, but libraries log what they hold (Apprise
logs "Sent Email to <address>"), so every record is redacted on its way out: email
addresses, and credentials or query strings in URLs.
"""

from __future__ import annotations

import logging
import re
import sys

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_SECRETS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^\s/@]*@|(\b[a-z][a-z0-9+.-]*://[^\s?]*)\?\S*")


def redact(text: str) -> str:
    text = _URL_SECRETS.sub(lambda m: (m[1] + "***@") if m[1] else (m[2] + "?***"), text)
    return _EMAIL.sub("<email>", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
