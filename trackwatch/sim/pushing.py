"""`simulate --push`: the same world with every carrier pushing. The stand-in carriers take
the daemon's subscriptions and POST each scan to its receivers at the scan's instant in
virtual time (trackwatch.sandbox.push), between the daemon's passes, so the same seed gives
the same run. Scored as without push, plus each carrier's subscription calls and pushes, and
the carrier calls per shipment counting both polls and subscription calls."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from trackwatch.app import Daemon
from trackwatch.sandbox.push import Portal, SandboxPush
from trackwatch.sim.stepping import Script

CLIENT = ("sim-ups-webhook", "sim-ups-webhook-secret-0123456789")
FEDEX_TOKEN = "sim-fedex-security-token"
# One [carriers.<name>.push] for every carrier: each reads the keys it needs.
SETTINGS: dict[str, Any] = {"push": {
    "enabled": True, "webhook_client_id": CLIENT[0], "webhook_client_secret": CLIENT[1],
    "admin_emails": ["ops@example.com"], "security_token": FEDEX_TOKEN, "service": "parcel-de",
}}  # fmt: skip


def connect(push: SandboxPush, daemon: Daemon) -> None:
    """What the merchant enters in UPS's and FedEx's portals: the daemon's receivers."""
    base = daemon.push_base
    push.portal = Portal(ups_url=f"{base}/push/ups", ups_token_url=f"{base}/push/ups/token",
                         ups_client_id=CLIENT[0], ups_client_secret=CLIENT[1],
                         fedex_url=f"{base}/push/fedex", fedex_token=FEDEX_TOKEN)  # fmt: skip
    push.start()


class PushingScript:
    """A world's script, with the carriers' pushes delivered when their scans happen."""

    def __init__(self, inner: Script, push: SandboxPush) -> None:
        self._inner = inner
        self._push = push

    def next_at(self) -> datetime | None:
        found = [d for d in (self._inner.next_at(), self._push.next_at()) if d is not None]
        return min(found, default=None)

    async def act(self, now: datetime) -> bool:
        judge = await self._inner.act(now)
        return await self._push.deliver(now) > 0 or judge

    def after(self, now: datetime) -> None:
        self._inner.after(now)


def figures(push: SandboxPush, polls: Sequence[int], carriers: Sequence[str]) -> dict[str, Any]:
    """Subscription calls and pushes per carrier, and carrier calls per shipment: its polls
    plus its carrier's subscription calls shared out over that carrier's shipments."""
    count = Counter(carriers)
    share = {c: push.calls[c] / n for c, n in count.items()}
    calls = [p + share[c] for p, c in zip(polls, carriers, strict=True)]
    ordered = sorted(calls)
    p95 = (
        ordered[min(len(ordered) - 1, max(0, int(len(ordered) * 0.95 + 0.999) - 1))]
        if calls
        else 0.0
    )
    return {
        "subscription_calls": dict(sorted(push.calls.items())),
        "pushes_taken": dict(sorted(push.pushed.items())),
        "pushes_refused": sum(push.refused.values()),
        "carrier_calls_per_shipment": {"median": round(statistics.median(calls), 2) if calls else 0,
                                       "p95": round(p95, 2)},
    }  # fmt: skip
