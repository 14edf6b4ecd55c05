"""The carriers' push adapters, in an explicit registry: each carrier's reader of its push
bodies (pure) and the factory of its subscription client."""

from __future__ import annotations

from collections.abc import Callable

from carriers.base import Credentials, Transport
from carriers.dhl import push as dhl_push
from carriers.dhl.subscribe import DhlPush
from carriers.fedex import push as fedex_push
from carriers.fedex.subscribe import FedexAccountPush
from carriers.push import PushAgent, PushReader
from carriers.ups import push as ups_push
from carriers.ups.subscribe import UpsAlerts
from carriers.usps import push as usps_push
from carriers.usps.subscribe import UspsSubscriptions
from trackwatch.clock import Clock

READERS: dict[str, PushReader] = {"ups": ups_push.read, "usps": usps_push.read,
                                  "dhl": dhl_push.read, "fedex": fedex_push.read}  # fmt: skip

# (transport, clock, credentials, option) -> agent; the option is UPS's subscription type
# (standard or enhanced) or DHL's service.
AgentFactory = Callable[[Transport, Clock, Credentials, str], PushAgent]


def _ups(t: Transport, clock: Clock, c: Credentials, kind: str) -> PushAgent:
    return UpsAlerts(t, clock, c.base_url, c.client_id, c.client_secret, kind)


def _usps(t: Transport, clock: Clock, c: Credentials, _: str) -> PushAgent:
    return UspsSubscriptions(t, clock, c.base_url, c.client_id, c.client_secret)


def _dhl(t: Transport, clock: Clock, c: Credentials, service: str) -> PushAgent:
    return DhlPush(t, clock, c.base_url, c.api_key, service)


def _fedex(t: Transport, clock: Clock, c: Credentials, _: str) -> PushAgent:
    return FedexAccountPush()


AGENTS: dict[str, AgentFactory] = {"ups": _ups, "usps": _usps, "dhl": _dhl, "fedex": _fedex}
