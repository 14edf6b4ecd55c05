"""Carrier accounts: each enabled carrier's own (configured under [carriers.<name>]) and the
accounts stores bring with them ([stores.<id>.carriers.<name>]). Tokens, quotas, the call
ledger, 429 parking and outage alerts are each account's, so a platform's capacity grows with
its merchants' accounts, and one store's revoked credentials hold no one else's parcels.

An account is named by its key: "ups" for the daemon's own, "ups@shop" for store shop's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carriers.base import HttpResponse, Transport
from trackwatch.model import Shipment


def account_key(carrier: str, store: str | None) -> str:
    return carrier if store is None else f"{carrier}@{store}"


def carrier_of(key: str) -> str:
    return key.partition("@")[0]


def store_of(key: str) -> str | None:
    return key.partition("@")[2] or None


def key_for(shipment: Shipment, accounts: Mapping[str, object]) -> str:
    """The account a shipment is polled with: its store's own, else the carrier's."""
    own = account_key(shipment.carrier, shipment.store)
    return own if own in accounts else shipment.carrier


class AccountTransport:
    """The gateway, for one account: each request goes through that account's lane (its
    throttle, calls in flight and quota), whatever carrier name the adapter gives."""

    def __init__(self, gateway: Transport, key: str) -> None:
        self._gateway = gateway
        self.key = key

    async def request(
        self, carrier: str, method: str, url: str, *, headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None, json_body: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> HttpResponse:  # fmt: skip
        del carrier  # the adapter's carrier is this account's
        return await self._gateway.request(self.key, method, url, headers=headers,
                                           params=params, json_body=json_body, form=form)  # fmt: skip
