"""`trackwatch demo` runs in virtual time: the same text, byte for byte, on an idle or a busy
machine, with every alert kind, each explained, and the customer's report after the email
that carries its link."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from trackwatch.sandbox.demo import MISSING_REPORT, PARCELS, run_demo

KINDS = ("not_picked_up", "stalled", "late", "lost", "exceptions", "delivered",
         "risky_delivery", "delivered_not_received", "returns")  # fmt: skip
_STAMP = re.compile(r"^\[(\w{3} \d{2} \w{3} \d{2}:\d{2})\] ")


def _play() -> tuple[int, list[str]]:
    lines: list[str] = []
    status = asyncio.run(run_demo(lines.append))
    return status, lines


def _busy(stop: threading.Event) -> None:
    """Holds the interpreter about half the time, in bursts of a millisecond or so: the
    demo's loop runs about half as fast and is interrupted at arbitrary points, as on a
    loaded machine (and the test stays short)."""
    while not stop.is_set():
        sum(range(50_000))
        time.sleep(0.001)


@pytest.fixture(scope="module")
def runs() -> Iterator[tuple[tuple[int, list[str]], tuple[int, list[str]]]]:
    """The demo twice: once as it comes, once with a busy thread slowing every step."""
    first = _play()
    stop = threading.Event()
    burner = threading.Thread(target=_busy, args=(stop,))
    burner.start()
    try:
        second = _play()
    finally:
        stop.set()
        burner.join()
    yield first, second


def test_the_demo_prints_the_same_text_on_an_idle_and_a_busy_machine(
    runs: tuple[tuple[int, list[str]], tuple[int, list[str]]],
) -> None:
    (status, lines), (again, lines_again) = runs
    assert status == again == 0, "\n".join(lines)
    assert "\n".join(lines_again) == "\n".join(lines)


def test_the_demo_shows_every_alert_kind_with_its_explanation(
    runs: tuple[tuple[int, list[str]], tuple[int, list[str]]],
) -> None:
    (status, lines), _ = runs
    text = "\n".join(lines)
    assert status == 0, text  # each parcel raised exactly its expected alerts
    assert "has had no carrier update for 3 business days" in text
    assert "Resolved: stalled for order 1003" in text
    assert "- holidays skipped: 2026-11-26 Thanksgiving Day" in text
    examples = text.split("one alert of each kind")[1]
    for kind in KINDS:
        assert f"\n  {kind} (" in examples, kind
    assert "- threshold: 2 business days (pickup.business_days)" in examples
    assert "- staff escalation:" in examples and "- refund deadline:" in examples
    summary, calls = lines[-2], lines[-1]
    assert summary.startswith(f"summary: {len(PARCELS)} shipments") and summary.endswith("-> OK")
    for carrier in ("usps", "ups", "fedex", "dhl"):
        assert f"{carrier}:track=" in calls


def test_the_customer_reports_the_parcel_missing_after_the_email_with_the_link(
    runs: tuple[tuple[int, list[str]], tuple[int, list[str]]],
) -> None:
    (_, lines), _ = runs
    order = MISSING_REPORT[0]
    delivered = [i for i, line in enumerate(lines)
                 if line.endswith(f"customer email <- Your order {order} has been delivered")]  # fmt: skip
    reported = [i for i, line in enumerate(lines) if "reports it not received: recorded" in line]
    claim = [i for i, line in enumerate(lines)
             if line.endswith(f"customer email <- Your order {order}: let's find your parcel")]  # fmt: skip
    assert len(delivered) == len(reported) == len(claim) == 1, "\n".join(lines)
    assert delivered[0] < reported[0] < claim[0]


def test_customers_are_emailed_in_their_daytime(
    runs: tuple[tuple[int, list[str]], tuple[int, list[str]]],
) -> None:
    # Every demo customer is in New York, the timezone the demo prints; their day is 8 to 20.
    (_, lines), _ = runs
    emails = [line for line in lines if "] customer email <- " in line]
    assert len(emails) == 14
    assert sum(line.endswith("is moving again") for line in emails) == 1  # 1003, as promised
    for line in emails:
        stamp = _STAMP.match(line)
        assert stamp is not None, line
        assert 8 <= datetime.strptime(stamp.group(1), "%a %d %b %H:%M").hour < 20, line
