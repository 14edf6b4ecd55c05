"""`trackwatch bench-email`: customer-email throughput of the real outbox (Apprise, one fresh
object per notice) to a local SMTP server, from notices already queued in SQLite."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from trackwatch.clock import FrozenClock
from trackwatch.config import build_settings
from trackwatch.model import Audience, Finding, Severity, Shipment
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.outbox import Outbox
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


async def run_email_benchmark(notices: int) -> dict[str, float | int | str]:
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
                started = time.perf_counter()
                await outbox.run_once()
                seconds = time.perf_counter() - started
            finally:
                await store.close()
    finally:
        smtp.stop()
    return {
        "notices": notices,
        "sent": outbox.sent,
        "received_by_smtp": len(smtp.messages),
        "seconds": round(seconds, 3),
        "notices_per_second": round(outbox.sent / seconds, 1) if seconds else 0.0,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
    }
