"""The stand-in carriers' push side: the subscriptions their APIs took (push_routes.py), and
the pushes they POST to the daemon's receivers when a subscribed parcel's scan happens.

Nothing runs on its own: `deliver(now)` posts every push due by `now` in order (scan time,
then the order they were scheduled) and returns once the daemon answered each, and
`next_at()` says when the next one falls due. The simulator and the tests call these between
the daemon's passes, so push in virtual time is deterministic (the same seed, the same run).

What the merchant set up in the carriers' portals (UPS's webhook URL and the OAuth client it
fetches tokens with; FedEx's webhook project: URL and security token) is the `Portal`.
A USPS listener that does not answer 200 gets its subscription SUSPENDED, as USPS says.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp

from trackwatch.clock import Clock
from trackwatch.sandbox import push_bodies as bodies
from trackwatch.sandbox.world import Milestone, Parcel, World

DHL_SELF = "https://api-eu.dhl.com/tracking/push/v1/subscription/{}"


@dataclass
class Portal:
    ups_url: str = ""
    ups_token_url: str = ""
    ups_client_id: str = ""
    ups_client_secret: str = ""
    fedex_url: str = ""
    fedex_token: str = ""


@dataclass
class Sub:
    """One subscription a stand-in carrier holds. DHL's cover several numbers."""

    carrier: str
    sid: str
    numbers: list[str]
    url: str = ""
    secret: str = ""  # USPS: the HMAC key; DHL: the hook secret of the handshake
    header: tuple[str, str] = ("", "")  # DHL: the static header and token chosen
    status: str = "ENABLED"  # USPS: ENABLED | SUSPENDED | DISABLED; DHL: validating | ready
    etag: str = ""
    expires: datetime | None = None
    since: datetime | None = None


@dataclass(order=True)
class _Due:
    at: datetime
    seq: int
    carrier: str = field(compare=False)
    key: str = field(compare=False)  # a number, or a DHL subscription id for its handshake
    kind: str = field(compare=False, default="scan")


class Subs(dict[str, Sub]):
    """The subscriptions by id, with `latest(carrier, number)`: the last one (in the dict's
    order) covering the number, from an index rebuilt after each change. Asking every
    subscription at each push grew with the square of the world (a UPS or USPS
    subscription covers one number)."""

    def __init__(self) -> None:
        super().__init__()
        self._index: dict[tuple[str, str], Sub] | None = None

    def __setitem__(self, sid: str, sub: Sub) -> None:
        self._index = None
        super().__setitem__(sid, sub)

    def __delitem__(self, sid: str) -> None:
        self._index = None
        super().__delitem__(sid)

    def latest(self, carrier: str, number: str) -> Sub | None:
        if self._index is None:
            self._index = {(s.carrier, n): s for s in self.values() for n in s.numbers}
        return self._index.get((carrier, number))


class SandboxPush:
    def __init__(self, world: World, clock: Clock, portal: Portal | None = None) -> None:
        self.world = world
        self.clock = clock
        self.portal = portal or Portal()
        self.subs = Subs()  # changed only by item (push_routes.py)
        self.calls: Counter[str] = Counter()  # subscription API calls, per carrier
        self.pushed: Counter[str] = Counter()  # pushes the daemon took (200)
        self.refused: Counter[tuple[str, int]] = Counter()
        self.serial = itertools.count(1)
        self._heap: list[_Due] = []
        self._planned: set[tuple[str, str]] = set()
        self._ups_token: tuple[str, datetime] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        """FedEx's account project pushes every FedEx parcel of the account."""
        if self.portal.fedex_url:
            for carrier, number in list(self.world.parcels):
                if carrier == "fedex":
                    self.plan("fedex", number, datetime.min.replace(tzinfo=self.clock.now().tzinfo))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def sub_of(self, carrier: str, number: str) -> Sub | None:
        return self.subs.latest(carrier, number)

    def plan(self, carrier: str, number: str, after: datetime) -> None:
        """Push each scan of the number after `after` when it happens (once each)."""
        if (carrier, number) in self._planned:
            return
        self._planned.add((carrier, number))
        for parcel in self.world.all_parcels(carrier, number):
            for m in parcel.timeline:
                if m.at > after:
                    heapq.heappush(self._heap, _Due(m.at, next(self.serial), carrier, number))

    def control(self, sub: Sub, kind: str) -> None:
        heapq.heappush(self._heap, _Due(self.clock.now(), next(self.serial), sub.carrier,
                                        sub.sid, kind))  # fmt: skip

    def next_at(self) -> datetime | None:
        return self._heap[0].at if self._heap else None

    async def deliver(self, now: datetime) -> int:
        """POST every push due by `now`; returns how many the daemon took."""
        due: list[_Due] = []
        while self._heap and self._heap[0].at <= now:
            due.append(heapq.heappop(self._heap))
        taken = 0
        for item in _grouped(due):
            taken += await self._send(item, now)
        return taken

    async def _send(self, group: list[_Due], now: datetime) -> int:
        first = group[0]
        if first.kind != "scan":
            return await self._dhl_control(first)
        carrier = first.carrier
        if carrier == "dhl":
            return await self._dhl_scans(group)
        sent = 0
        for item in group:
            sent += await getattr(self, f"_{carrier}")(item, now)
        return sent

    def _parcel(
        self, carrier: str, number: str, at: datetime
    ) -> tuple[Parcel, list[Milestone]] | None:
        parcel = self.world.parcel(carrier, number)
        if parcel is None:
            return None
        return parcel, parcel.visible(at)

    async def _ups(self, item: _Due, now: datetime) -> int:
        sub = self.sub_of("ups", item.key)
        found = self._parcel("ups", item.key, item.at)
        if sub is None or (sub.expires and sub.expires < item.at) or found is None:
            return 0
        parcel, visible = found
        token = await self._ups_bearer(now)
        headers = {"Authorization": f"Bearer {token}", "x-api-key": self.portal.ups_client_id,
                   "User-Agent": "UPSPubSubTrackingService"}  # fmt: skip
        raw = json.dumps(bodies.ups_body(parcel, visible[-1])).encode()
        return await self._post("ups", self.portal.ups_url, raw, headers)

    async def _ups_bearer(self, now: datetime) -> str:
        """UPS fetches its webhook token from the merchant's OAuth endpoint."""
        if self._ups_token is not None and self._ups_token[1] > now:
            return self._ups_token[0]
        p = self.portal
        basic = base64.b64encode(f"{p.ups_client_id}:{p.ups_client_secret}".encode()).decode()
        async with self.session.post(p.ups_token_url, data={"grant_type": "client_credentials"},
                                     headers={"Authorization": f"Basic {basic}"}) as response:  # fmt: skip
            body = await response.json()
        self._ups_token = (str(body["access_token"]),
                           now + timedelta(seconds=int(body["expires_in"]) - 60))  # fmt: skip
        return self._ups_token[0]

    async def _usps(self, item: _Due, now: datetime) -> int:
        sub = self.sub_of("usps", item.key)
        found = self._parcel("usps", item.key, item.at)
        if sub is None or sub.status != "ENABLED" or found is None:
            return 0
        raw, headers = bodies.usps_envelope(*found, sub.sid, sub.secret, now)
        taken = await self._post("usps", sub.url, raw, headers)
        if not taken:
            sub.status = "SUSPENDED"  # "If the listenerURL cannot be reached or is invalid"
        return taken

    async def _fedex(self, item: _Due, now: datetime) -> int:
        found = self._parcel("fedex", item.key, item.at)
        if found is None or not found[1]:
            return 0
        raw, headers = bodies.fedex_signed(bodies.fedex_body(*found, now), self.portal.fedex_token)
        return await self._post("fedex", self.portal.fedex_url, raw, headers)

    async def _dhl_scans(self, group: list[_Due]) -> int:
        """One message per subscription for the scans of one instant (several shipments)."""
        by_sub: dict[str, list[tuple[Parcel, list[Milestone]]]] = {}
        for item in group:
            sub = self.sub_of("dhl", item.key)
            found = self._parcel("dhl", item.key, item.at)
            if sub is not None and sub.status == "ready" and found is not None and found[1]:
                by_sub.setdefault(sub.sid, []).append(found)
        taken = 0
        for sid, parcels in by_sub.items():
            sub = self.subs[sid]
            message = bodies.dhl_message(DHL_SELF.format(sid), parcels)
            taken += await self._post("dhl", sub.url, json.dumps(message).encode(),
                                      dict([sub.header]))  # fmt: skip
        return taken

    async def _dhl_control(self, item: _Due) -> int:
        sub = self.subs.get(item.key)
        if sub is None:
            return 0
        message = {"scope": f"subscription.{item.kind}", "self": DHL_SELF.format(sub.sid)}
        if item.kind == "validate":
            message["secret"] = sub.secret
        return await self._post("dhl", sub.url, json.dumps(message).encode(), dict([sub.header]))

    async def _post(self, carrier: str, url: str, raw: bytes, headers: dict[str, str]) -> int:
        headers = {"Content-Type": "application/json", **headers}
        try:
            async with self.session.post(url, data=raw, headers=headers) as response:
                status = response.status
                await response.read()
        except aiohttp.ClientError:
            status = 0
        if status == 200:
            self.pushed[carrier] += 1
            return 1
        self.refused[(carrier, status)] += 1
        return 0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


def _grouped(due: list[_Due]) -> list[list[_Due]]:
    """DHL batches the scans of one instant into one message; the others go one by one."""
    groups: list[list[_Due]] = []
    for item in due:
        last = groups[-1][-1] if groups else None
        if (last is not None and item.carrier == "dhl" == last.carrier and item.kind == "scan"
                == last.kind and item.at == last.at):  # fmt: skip
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups
