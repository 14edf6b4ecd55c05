"""Which Apprise URLs a store's notices go to, by audience and severity.

Notices name a channel ("staff_chat.0"), never its URL: URLs carry secrets, so they stay in
the configuration and are looked up at send time. Nothing here logs a URL.
"""

from __future__ import annotations

from collections.abc import Mapping

from trackwatch.config import StoreSettings, check_read
from trackwatch.model import Audience, Severity

AUDIENCE_CHANNELS: dict[Audience, tuple[str, ...]] = {
    Audience.STAFF: ("staff_chat", "staff_email"),
    Audience.CUSTOMER: ("customer_email", "customer_sms"),
}
RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.URGENT: 2}


def kind_of(channel: str) -> str:
    """'staff_chat.0' -> 'staff_chat'."""
    return channel.partition(".")[0]


class ChannelDirectory:
    def __init__(self, stores: Mapping[str, StoreSettings]) -> None:
        self._stores = stores

    def channels(
        self, store: str, audience: Audience, severity: Severity = Severity.URGENT
    ) -> list[str]:
        """The channels that hear of an alert of `severity`: staff chat and staff email
        each have a store's minimum severity (a digest carries the rest)."""
        settings = self._stores.get(store)
        if settings is None:
            return []
        floors = {
            "staff_chat": settings.notices.staff_chat_min_severity,
            "staff_email": settings.notices.staff_email_min_severity,
        }
        names: list[str] = []
        for kind in AUDIENCE_CHANNELS[audience]:
            floor = floors.get(kind, Severity.INFO)
            if RANK[severity] < RANK[floor]:
                continue
            urls = getattr(settings.channels, kind)
            check_read(urls)  # a channel file left unread: its channels cannot be counted
            names.extend(f"{kind}.{index}" for index in range(len(urls)))
        return names

    def store(self, store: str) -> StoreSettings | None:
        return self._stores.get(store)

    def url(self, store: str, channel: str) -> str | None:
        settings = self._stores.get(store)
        kind, _, index = channel.partition(".")
        if settings is None or not index.isdigit():
            return None
        urls = getattr(settings.channels, kind, None)
        if not isinstance(urls, list) or int(index) >= len(urls):
            return None
        return str(urls[int(index)].get_secret_value())
