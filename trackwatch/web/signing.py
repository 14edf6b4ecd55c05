"""Signed, expiring links for customers: `<base>/report-missing/<shipment>-<expiry>-<mac>`.

The MAC is HMAC-SHA256 over the purpose, the shipment and the expiry (Unix seconds), cut to
128 bits and base64url-encoded, compared in constant time. Nothing else is in the link: the
page looks the shipment up, so a link carries no personal data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

from trackwatch.fields import whole_number

REPORT_PATH = "/report-missing/"
TRACK_PATH = "/track/"  # the store's tracking page: /track/<store>, its links /track/<store>/link/
# What a link is for, signed into its MAC: a token made for one purpose fails every other,
# so a tracking-page link cannot be used to report a parcel missing, nor the other way round.
REPORT_PURPOSE = "report-missing"
TRACK_PURPOSE = "track-order"
MAX_STAMP = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp())  # an expiry a datetime holds


def track_link_path(store: str, token: str) -> str:
    """The path of a signed link to `store`'s tracking page."""
    return f"{TRACK_PATH}{quote(store, safe='')}/link/{token}"


class LinkError(Exception):
    """A link that cannot be honoured; the message is what the customer's page says."""


class InvalidLink(LinkError):
    pass


class ExpiredLink(LinkError):
    def __init__(self, shipment_id: int) -> None:
        super().__init__("This link has expired.")
        self.shipment_id = shipment_id


class ReportLinks:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 16:
            raise ValueError("link_secret: must be at least 16 bytes")
        self._secret = secret
        self.base_url = base_url.rstrip("/")

    def _mac(self, shipment_id: int, expires: int, purpose: str = REPORT_PURPOSE) -> str:
        message = f"{purpose}:{shipment_id}:{expires}".encode()
        digest = hmac.digest(self._secret, message, hashlib.sha256)[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token(self, shipment_id: int, expires: datetime, purpose: str = REPORT_PURPOSE) -> str:
        stamp = int(expires.timestamp())
        return f"{shipment_id}-{stamp}-{self._mac(shipment_id, stamp, purpose)}"

    def url(self, shipment_id: int, expires: datetime) -> str:
        return f"{self.base_url}{REPORT_PATH}{self.token(shipment_id, expires)}"

    def verify(self, token: str, now: datetime, purpose: str = REPORT_PURPOSE) -> int:
        """The shipment a genuine, unexpired token names. The numbers must be ASCII digits
        in range (a shipment id SQLite holds, an expiry a datetime holds)."""
        parts = token.split("-", 2)
        shipment_id = whole_number(parts[0]) if len(parts) == 3 else None
        stamp = whole_number(parts[1], 0, MAX_STAMP) if len(parts) == 3 else None
        if shipment_id is None or stamp is None:
            raise InvalidLink("This link is not valid.")
        mac = parts[2]
        if not hmac.compare_digest(mac.encode(errors="replace"),
                                   self._mac(shipment_id, stamp, purpose).encode()):  # fmt: skip
            raise InvalidLink("This link is not valid.")
        if now >= datetime.fromtimestamp(stamp, UTC):
            raise ExpiredLink(shipment_id)
        return shipment_id
