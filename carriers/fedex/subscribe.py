"""FedEx Advanced Integrated Visibility: subscriptions are a FedEx portal webhook project
by shipping account (destination URL and security token entered there), which pushes every
parcel of the account: nothing to call per shipment. (The AIV Tracking Number Subscription
API's paths and body are not published: CARRIER-PUSH.md §3.) A shipment is taken as covered
from the start; if FedEx never pushes for it, its push goes quiet and it is polled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from carriers.push import Held, Hook, Subscribed


class FedexAccountPush:
    name: ClassVar[str] = "fedex"
    batch_size: ClassVar[int] = 1000

    async def subscribe(self, numbers: Sequence[str], hook: Hook) -> list[Subscribed]:
        return [Subscribed(Held(n), "active") for n in numbers]

    async def check(self, held: Held) -> Subscribed:
        return Subscribed(held, "active")

    async def unsubscribe(self, held: Sequence[Held]) -> None:
        """Nothing to call: the account's project keeps pushing until removed in the portal."""

    async def activate(self, held: Held, secret: str) -> Subscribed:
        return Subscribed(held, "active")
