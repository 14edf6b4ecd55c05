"""Prometheus metrics, in a registry of the daemon's own (tests run several daemons).

Counters count what this process did (polls, carrier calls, sends); gauges that describe
the state of the work (open alerts, dead or pending notices, quota left) are read from the
store and the quotas at each scrape, so they are right after a restart too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from trackwatch import __version__
from trackwatch.quota import Quota
from trackwatch.store.contract import Ops

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.polls = Counter("trackwatch_polls", "Shipments polled, by carrier and outcome "
                             "(found, no_info_yet, invalid, unanswered, failed, rate_limited)",
                             ["carrier", "outcome"], registry=r)  # fmt: skip
        self.latency = Histogram("trackwatch_carrier_request_seconds",
                                 "Carrier HTTP calls, time to the full answer", ["carrier"],
                                 buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.rate_limited = Counter("trackwatch_carrier_rate_limited",
                                    "Carrier calls refused for rate or quota (HTTP 429)",
                                    ["carrier"], registry=r)  # fmt: skip
        self.quota_remaining = Gauge("trackwatch_carrier_quota_remaining",
                                     "Calls left in the carrier's quota window", ["carrier"],
                                     registry=r)  # fmt: skip
        self.open_alerts = Gauge("trackwatch_open_alerts", "Open alerts, by rule", ["rule"],
                                 registry=r)  # fmt: skip
        self.notices_sent = Counter("trackwatch_notices_sent", "Notices delivered, by channel "
                                    "kind", ["channel"], registry=r)  # fmt: skip
        self.notices_failed = Counter("trackwatch_notices_failed", "Notice delivery attempts "
                                      "that failed, by channel kind", ["channel"], registry=r)  # fmt: skip
        self.notices = Gauge("trackwatch_notices", "Notices in the outbox, by state",
                             ["state"], registry=r)  # fmt: skip
        self.oldest_pending = Gauge("trackwatch_oldest_pending_notice_seconds",
                                    "Age of the oldest notice not yet delivered (0: none)",
                                    registry=r)  # fmt: skip
        self.shipments = Gauge("trackwatch_shipments_polled", "Shipments still polled",
                               registry=r)  # fmt: skip
        self.loop_lag = Gauge("trackwatch_event_loop_lag_seconds",
                              "How late the event loop's last heartbeat woke", registry=r)  # fmt: skip
        build = Gauge("trackwatch_build_info", "The running version (always 1)", ["version"],
                      registry=r)  # fmt: skip
        build.labels(__version__).set(1)

    async def refresh(self, store: Ops, quotas: Mapping[str, Quota], now: datetime) -> None:
        figures = await store.figures(now)
        self.open_alerts.clear()
        for rule, count in figures.open_alerts.items():
            self.open_alerts.labels(rule).set(count)
        for state, count in figures.notices.items():
            self.notices.labels(state).set(count)
        self.oldest_pending.set(figures.oldest_pending_seconds)
        self.shipments.set(figures.polled)
        for carrier, quota in quotas.items():
            self.quota_remaining.labels(carrier).set((await quota.spent(now)).remaining)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
