"""Prometheus metrics, in a registry of the daemon's own (tests run several daemons).

Counters count what this process did (polls, carrier calls, sends); gauges that describe
the state of the work (open alerts, dead or pending notices, quota left, carriers up) are
read from the store, the quotas and the carrier state at each scrape, so they are right
after a restart too. A `carrier` label is a carrier account's key: "ups" for the daemon's
own account, "ups@shop" for the one store shop brings.

A labelled gauge read from the store keeps every series it has shown, at 0 when its count
is gone (the last alert of a rule resolved): a series that vanished would leave an alert
rule with nothing to compare and a graph with a gap where the zero is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from trackwatch import __version__
from trackwatch.quota import Quota
from trackwatch.store.contract import Ops
from trackwatch.store.records import Figures

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


@dataclass(frozen=True)
class Accounts:
    """What the daemon knows of its carrier accounts at a scrape (carrier_state)."""

    keys: Collection[str]  # every configured account
    failing: Collection[str] = ()
    parked: Mapping[str, datetime] = field(default_factory=dict)  # account -> until
    last_success: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """Label values to show at 0 before anything is counted for them."""

    stores: Collection[str] = ()
    rules: Collection[str] = ()


def _gauge(name: str, text: str, labels: list[str], r: CollectorRegistry) -> Gauge:
    return Gauge(name, text, labels, registry=r)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)  # process_cpu_seconds_total, memory, open fds, start
        PlatformCollector(registry=r)  # python_info
        GCCollector(registry=r)  # python_gc_*
        Info("trackwatch_build", "The running trackwatch", registry=r).info(
            {"version": __version__}
        )
        self.polls = Counter("trackwatch_polls", "Shipments polled, by carrier and outcome "
                             "(found, no_info_yet, invalid, unanswered, failed, rate_limited)",
                             ["carrier", "outcome"], registry=r)  # fmt: skip
        self.latency = Histogram("trackwatch_carrier_request_seconds",
                                 "Carrier HTTP calls, time to the full answer", ["carrier"],
                                 buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.rate_limited = Counter("trackwatch_carrier_rate_limited",
                                    "Carrier calls refused for rate or quota (HTTP 429)",
                                    ["carrier"], registry=r)  # fmt: skip
        self.pushes = Counter("trackwatch_pushes", "Carrier pushes received, by carrier and "
                              "what became of them (stored, duplicate, unverified, malformed, "
                              "not_enabled)", ["carrier", "outcome"], registry=r)  # fmt: skip
        self._carrier_gauges(r)
        self._work_gauges(r)
        self.notices_sent = Counter("trackwatch_notices_sent", "Notices delivered, by channel "
                                    "kind", ["channel"], registry=r)  # fmt: skip
        self.notices_failed = Counter("trackwatch_notices_failed", "Notice delivery attempts "
                                      "that failed, by channel kind", ["channel"], registry=r)  # fmt: skip
        self.loop_lag = Gauge("trackwatch_event_loop_lag_seconds",
                              "How late the event loop's last heartbeat woke", registry=r)  # fmt: skip
        self._seen: dict[str, set[tuple[str, ...]]] = {"alerts": set(), "notices": set()}

    def show_pushes(self, carriers: Collection[str]) -> None:
        """Each push-enabled carrier's push series at 0 before its first push, so that an
        alert on their increase has a start to compare with."""
        for carrier in carriers:
            for outcome in ("stored", "duplicate", "unverified", "malformed"):
                self.pushes.labels(carrier, outcome)

    def _carrier_gauges(self, r: CollectorRegistry) -> None:
        self.quota_remaining = _gauge("trackwatch_carrier_quota_remaining",
                                      "Calls left in the carrier account's quota window",
                                      ["carrier"], r)  # fmt: skip
        self.quota_limit = _gauge("trackwatch_carrier_quota_limit",
                                  "Calls the carrier account's quota window allows", ["carrier"],
                                  r)  # fmt: skip
        self.carrier_up = _gauge("trackwatch_carrier_up", "1 while the carrier account "
                                 "answers, 0 while it is failing (backing off, probed)",
                                 ["carrier"], r)  # fmt: skip
        self.parked_until = _gauge("trackwatch_carrier_parked_until_timestamp_seconds",
                                   "Until when the account is parked after a 429 or a spent "
                                   "quota (0: not parked)", ["carrier"], r)  # fmt: skip
        self.last_success = _gauge("trackwatch_carrier_last_success_timestamp_seconds",
                                   "When the account last answered this daemon (absent "
                                   "until it has, since the start)", ["carrier"], r)  # fmt: skip

    def _work_gauges(self, r: CollectorRegistry) -> None:
        self.open_alerts = _gauge("trackwatch_open_alerts", "Open alerts, by rule and store",
                                  ["rule", "store"], r)  # fmt: skip
        self.notices = _gauge("trackwatch_notices", "Notices in the outbox, by state and store",
                              ["state", "store"], r)  # fmt: skip
        self.oldest_pending = Gauge("trackwatch_oldest_pending_notice_seconds",
                                    "Age of the oldest notice not yet delivered (0: none)",
                                    registry=r)  # fmt: skip
        self.watched = Gauge("trackwatch_watched_shipments",
                             "Shipments still watched (polled until they are done)",
                             registry=r)  # fmt: skip

    async def refresh(
        self, store: Ops, quotas: Mapping[str, Quota], now: datetime,
        accounts: Accounts | None = None, known: Known | None = None,
    ) -> None:  # fmt: skip
        figures = await store.figures(now)
        self._work(figures, known or Known())
        for carrier, quota in quotas.items():
            self.quota_limit.labels(carrier).set(quota.limit)
            self.quota_remaining.labels(carrier).set((await quota.spent(now)).remaining)
        if accounts is not None:
            self._accounts(accounts, now)

    def _work(self, figures: Figures, known: Known) -> None:
        alerts = dict.fromkeys(((rule, s) for rule in known.rules for s in known.stores), 0)
        alerts.update(figures.open_alerts_by_store)
        stores = set(known.stores) | {s for _, s in figures.notices_by_store}
        notices = dict.fromkeys(((state, s) for state in figures.notices for s in stores), 0)
        notices.update(figures.notices_by_store)
        self._set(self.open_alerts, "alerts", alerts)
        self._set(self.notices, "notices", notices)
        self.oldest_pending.set(figures.oldest_pending_seconds)
        self.watched.set(figures.polled)

    def _set(self, gauge: Gauge, name: str, counts: Mapping[tuple[str, str], int]) -> None:
        """Set each series of `gauge`, and to 0 each it showed before that has no count now."""
        seen = self._seen[name]
        for labels in seen - set(counts):
            gauge.labels(*labels).set(0)
        for labels, count in counts.items():
            gauge.labels(*labels).set(count)
        seen.update(counts)

    def _accounts(self, accounts: Accounts, now: datetime) -> None:
        for key in accounts.keys:
            self.carrier_up.labels(key).set(0 if key in accounts.failing else 1)
            until = accounts.parked.get(key)
            self.parked_until.labels(key).set(until.timestamp() if until and until > now else 0)
        for key, at in accounts.last_success.items():
            self.last_success.labels(key).set(at.timestamp())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
