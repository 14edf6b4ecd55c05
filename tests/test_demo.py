"""`trackwatch demo` tells the whole story in virtual time: two stores under their own policy
files, every registered rule and every carrier exception kind, a customs hold abroad, a
silent loss and an expiry, each explained; the same text, byte for byte, on an idle or a busy
machine; and the customer's report after the email that carries its link."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from rules import RULES
from rules.exceptions import ATTEMPTED, KINDS, PICKUP
from trackwatch.config import read_policy_file
from trackwatch.model import ExceptionKind
from trackwatch.policy import StorePolicy
from trackwatch.sandbox.demo import MISSING_REPORT, demo_settings, run_demo
from trackwatch.sandbox.demo_world import NY, PARCELS, POLICIES, STORES, DemoParcel
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.zones import zone_for

Runs = tuple[tuple[int, list[str]], tuple[int, list[str]]]
_DAY = re.compile(r"^-- (\w{3} \d{2} \w{3} \d{4}) --$")
_STAMP = re.compile(r"^\[(\d{2}:\d{2})\] (.*)$")
_EXAMPLE = re.compile(r"^  ([a-z_]+)(?:/([a-z_ ]+))? \(")


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
def runs() -> Iterator[Runs]:
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


def _examples(lines: list[str]) -> dict[tuple[str, str], list[str]]:
    """The closing section: (rule, variant) -> the example's lines, summary first."""
    text = "\n".join(lines)
    assert "one alert of each kind" in text, text
    section = lines[lines.index("one alert of each kind, as `trackwatch show` explains it:") + 1 :]
    found: dict[tuple[str, str], list[str]] = {}
    current: list[str] = []
    for line in section:
        if (match := _EXAMPLE.match(line)) is not None:
            current = found.setdefault((match[1], match[2] or ""), [])
        if line.startswith("  "):
            current.append(line)
    return found


def _dated(lines: list[str]) -> list[tuple[datetime, str]]:
    """Each stamped line with its instant (New York time, from the day's header)."""
    day, found = "", []
    for line in lines:
        if (header := _DAY.match(line)) is not None:
            day = header[1]
        elif (stamped := _STAMP.match(line)) is not None:
            at = datetime.strptime(f"{day} {stamped[1]}", "%a %d %b %Y %H:%M")
            found.append((at.replace(tzinfo=NY), stamped[2]))
    return found


def _parcel(order: str) -> DemoParcel:
    return next(p for p in PARCELS if p.order_id == order)


def _order(example: list[str]) -> str:
    match = re.search(r"\(order (\w+)\)", example[0])
    assert match is not None, example
    return match[1]


def test_the_demo_prints_the_same_text_on_an_idle_and_a_busy_machine(runs: Runs) -> None:
    (status, lines), (again, lines_again) = runs
    assert status == again == 0, "\n".join(lines)  # each parcel raised its expected alerts
    assert "\n".join(lines_again) == "\n".join(lines)
    summary, calls, pushed = lines[-3:]
    assert summary.startswith(f"summary: {len(PARCELS)} shipments") and summary.endswith("-> OK")
    for carrier in ("usps", "ups", "fedex", "dhl"):
        assert f"{carrier}:track=" in calls
    # UPS's scans come by push too (its parcels' polls drop), every push verified.
    found = re.fullmatch(r"UPS Track Alert: (\d+) subscription call\(s\), (\d+) scans pushed, "
                         r"0 refused", pushed)  # fmt: skip
    assert found is not None and int(found[1]) >= 1 and int(found[2]) >= 5, pushed


def test_every_registered_rule_is_shown_with_its_explanation(runs: Runs) -> None:
    (_, lines), _ = runs
    shown = {rule for rule, _ in _examples(lines)}
    missing = [rule.name for rule in RULES if rule.name not in shown]
    assert not missing, f"rules the demo never raises: {missing}"
    for (rule, _), example in _examples(lines).items():
        assert any(line.startswith("    action: ") for line in example), rule
        assert any(line.startswith("    - policy: ") for line in example), rule


def test_every_carrier_exception_kind_is_shown(runs: Runs) -> None:
    (_, lines), _ = runs
    shown = set(_examples(lines))
    wanted = {("exceptions", kind.key) for kind in (*KINDS.values(), ATTEMPTED, PICKUP)}
    assert set(ExceptionKind) - set(KINDS) == {ExceptionKind.LOST}  # the lost rule's
    wanted.add(("lost", "declared"))
    assert wanted <= shown, sorted(wanted - shown)


def test_late_against_the_carriers_estimate_and_the_stores_promise(runs: Runs) -> None:
    (_, lines), _ = runs
    examples = _examples(lines)
    carrier = "\n".join(examples[("late", "carrier estimate")])
    promise = "\n".join(examples[("late", "store promise")])
    assert "estimated delivery)" in carrier and "- holidays skipped: 2026-11-26" in carrier
    assert "(the store's delivery promise)" in promise and "- transit window: " in promise


def test_an_international_parcel_is_held_in_customs_and_its_customer_told(runs: Runs) -> None:
    (_, lines), _ = runs
    example = _examples(lines)[("exceptions", "customs_hold")]
    parcel = _parcel(_order(example))
    store = next(s for s in STORES if s.id == parcel.store)
    origin = StorePolicy.model_validate(read_policy_file(store.policy_path)).origin_country
    assert parcel.destination.country != origin  # abroad under its store's own policy
    says = next(line for line in example if line.startswith("    - carrier says: "))
    assert says.endswith(f", {parcel.destination.country})")  # scanned in its country
    first = next(i for i, line in enumerate(lines) if f"to customer-{parcel.order_id}@" in line)
    assert any("customs" in line.lower() for line in lines[first : first + 8])


def test_a_silent_loss_and_an_expiry_are_shown(runs: Runs) -> None:
    (_, lines), _ = runs
    examples = _examples(lines)
    silent = "\n".join(examples[("lost", "silent")])
    assert "presumed lost" in silent and "(lost.domestic_business_days)" in silent
    assert "- carrier says:" not in silent  # nothing declared it lost: silence did
    expired = examples[("expired", "")]
    assert "tracking stopped" in expired[0] and "(expiry.after_days)" in "\n".join(expired)
    order = _order(expired)
    chat = [(at, text) for at, text in _dated(lines)
            if text.startswith("staff chat: ") and f"(order {order})" in text]  # fmt: skip
    assert chat and "tracking stopped" in chat[-1][1]
    assert (chat[-1][0] - _parcel(order).shipped_at).days >= 30


def test_two_stores_each_under_its_own_policy_file(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "db", "http://127.0.0.1:1", HttpSink(), SmtpServer())
    files = {s.policy_path for s in STORES}
    assert len(files) == len(STORES) >= 2 and all(f.parent == POLICIES for f in files)
    for store in STORES:
        mine = settings.stores[store.id]
        assert mine.policy_file == store.policy_path
        assert mine.policy == StorePolicy.model_validate(read_policy_file(store.policy_path))
    policies = [settings.stores[s.id].policy for s in STORES]
    assert all(a != b for i, a in enumerate(policies) for b in policies[i + 1 :])


def test_each_store_speaks_for_itself(runs: Runs) -> None:
    (_, lines), _ = runs
    for store in STORES:
        assert f"== store {store.id!r}: {store.name}, policy deploy/policies/" in "\n".join(lines)
        assert any(f"] email from {store.name} to " in line for line in lines), store.id
        assert any(f"] staff chat: [{store.name}] " in line for line in lines), store.id
        assert any(line == f"    - policy: {store.name}" for line in lines), store.id


def test_the_customer_reports_the_parcel_missing_after_the_email_with_the_link(
    runs: Runs,
) -> None:
    (_, lines), _ = runs
    to = f"to customer-{MISSING_REPORT[0]}@example.com: "
    emails = [i for i, line in enumerate(lines) if to in line]
    reported = [i for i, line in enumerate(lines) if "reports it not received: recorded" in line]
    claim = [i for i, line in enumerate(lines)
             if "] staff chat: " in line
             and f"(order {MISSING_REPORT[0]}) is marked delivered but" in line]  # fmt: skip
    assert len(emails) >= 2 and len(reported) == 1 and len(claim) == 1, "\n".join(lines)
    assert emails[0] < reported[0] < emails[1] and reported[0] < claim[0]
    assert any("/report-missing/" in line for line in lines[emails[0] : reported[0]])


def test_customers_are_emailed_in_their_daytime(runs: Runs) -> None:
    # Each customer's day is 8 to 20 where they live (New York, Berlin, Paris).
    (_, lines), _ = runs
    emails = [(at, text) for at, text in _dated(lines) if text.startswith("email from ")]
    assert len(emails) >= 20
    for at, text in emails:
        order = re.search(r"to customer-(\w+)@", text)
        assert order is not None, text
        to = _parcel(order[1]).destination
        local = at.astimezone(zone_for(to.country, to.postal_code, to.state))
        assert 8 <= local.hour < 20, (text, local)
