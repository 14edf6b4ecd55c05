"""`trackwatch bench-email`: customer-email throughput of the real outbox (Apprise, one fresh
object per notice) to a local SMTP server, from notices already queued in SQLite.

Each run measures two ways side by side, alternating, on the same machine at the same
moment: the outbox as it sends (one TLS context shared by every email, notify.smtp_tls) and
`per_send_context` (a context built per email, as Apprise alone does: what it cost before).
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import Audience, Finding, Severity, Shipment
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.outbox import Outbox
from trackwatch.notify.smtp_tls import per_send_contexts
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.store import open_store
from trackwatch.store.records import AlertOpen, Evaluation, NoticeDraft

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)
BODY = "Hello,\n\nYour parcel is running late.\n\nTrack it: https://www.ups.com/track?tracknum=1Z"


def _opening(shipment_id: int, n: int) -> AlertOpen:
    finding = Finding(rule="late", episode=f"bench-{n}", severity=Severity.WARNING,
                      audiences=(Audience.CUSTOMER,), summary="late", action="-",
                      explanation={})  # fmt: skip
    draft = NoticeDraft("opened", Audience.CUSTOMER, "customer_email.0", "shop",
                        f"Your order {n} is running late", BODY, f"customer{n}@example.org")  # fmt: skip
    return AlertOpen(shipment_id, finding, (draft,))


async def _timed_run(notices: int, way: AbstractContextManager[None]) -> tuple[int, int, float]:
    """Send `notices` customer emails through a fresh outbox and database to a fresh SMTP
    server; returns (sent, received by the server, seconds)."""
    smtp = SmtpServer()
    smtp.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = build_settings({
                "daemon": {"database": str(Path(tmp) / "bench.db")},
                "stores": {"shop": {"name": "Bench Shop", "contact_email": "help@shop.example",
                                    "channels": {"customer_email": [smtp.url()]}}},
            })  # fmt: skip
            store = await open_store(settings.daemon.database)
            try:
                sid = await store.add_shipment(Shipment(
                    store="shop", carrier="ups", tracking_number="1Z5R89390357567127",
                    order_id="1", customer_email="c@example.org", shipped_at=NOW), NOW)  # fmt: skip
                await store.apply_evaluation(
                    Evaluation(opens=[_opening(sid, n) for n in range(notices)]), NOW
                )
                await Outbox.warm_up()
                outbox = Outbox(store, FrozenClock(NOW), settings.daemon,
                                ChannelDirectory(settings.stores))  # fmt: skip
                with way:
                    started = time.perf_counter()
                    await outbox.run_once()
                    seconds = time.perf_counter() - started
            finally:
                await store.close()
    finally:
        smtp.stop()
    return outbox.sent, len(smtp.messages), seconds


async def run_email_benchmark(notices: int, rounds: int = 2) -> dict[str, float | int | str]:
    """`rounds` of each way, alternating (per-email contexts first), `notices` per round;
    rates are over all rounds of a way. `received_by_smtp` is the fewest any round got."""
    sent = {True: 0, False: 0}
    seconds = {True: 0.0, False: 0.0}
    received = notices
    for _ in range(rounds):
        for per_send in (True, False):
            way = per_send_contexts() if per_send else nullcontext()
            n, got, took = await _timed_run(notices, way)
            sent[per_send] += n
            seconds[per_send] += took
            received = min(received, got)
    rate = {k: sent[k] / seconds[k] if seconds[k] else 0.0 for k in sent}
    return {
        "notices": notices,
        "sent": sent[False] // rounds,
        "received_by_smtp": received,
        "seconds": round(seconds[False] / rounds, 3),
        "notices_per_second": round(rate[False], 1),
        "per_send_context_notices_per_second": round(rate[True], 1),
        "speedup": round(rate[False] / rate[True], 2) if rate[True] else 0.0,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
    }
