"""Which Apprise URLs a store's notices go to, by audience.

Notices name a channel ("staff_chat.0"), never its URL: URLs carry secrets, so they stay in
the configuration and are looked up at send time. Nothing here logs a URL.
"""

from __future__ import annotations

from collections.abc import Mapping

from trackwatch.config import StoreSettings
from trackwatch.model import Audience

AUDIENCE_CHANNELS: dict[Audience, tuple[str, ...]] = {
    Audience.STAFF: ("staff_chat", "staff_email"),
    Audience.CUSTOMER: ("customer_email",),
}


class ChannelDirectory:
    def __init__(self, stores: Mapping[str, StoreSettings]) -> None:
        self._stores = stores

    def channels(self, store: str, audience: Audience) -> list[str]:
        settings = self._stores.get(store)
        if settings is None:
            return []
        names: list[str] = []
        for kind in AUDIENCE_CHANNELS[audience]:
            urls = getattr(settings.channels, kind)
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
