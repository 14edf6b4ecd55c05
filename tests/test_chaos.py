"""The chaos suite (trackwatch/chaos) at CI size through `trackwatch chaos`, one phase per
test so that a miss names its phase; and the checks the suite judges by, each shown to catch
the failure it is there for (a harness that cannot fail would prove nothing)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from trackwatch.chaos.carriers import ChaosSandbox, Fault
from trackwatch.chaos.deliveries import Copy, email_copies, match, webhook_copies
from trackwatch.chaos.faults import backed_off, intervals
from trackwatch.chaos.fuzz_client import FuzzClient
from trackwatch.chaos.kills import Kill
from trackwatch.chaos.process import to_toml
from trackwatch.cli import main
from trackwatch.clock import FrozenClock
from trackwatch.model import Audience, Notice, NoticeState, Place, Shipment
from trackwatch.sandbox.sinks import Received
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store import SqliteStore

KILLS = 6  # the CI size; `trackwatch chaos --kills 100` for the real thing
EXAMPLES = 40


def chaos(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    status = main(["chaos", "--seed", "1", "--json", *args])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert status == (0 if report["passed"] else 1)
    [phase] = report["phases"]
    return dict(phase)


def missed(phase: dict[str, Any]) -> list[str]:
    return [f"{t['name']}: {t['measured']}" for t in phase["targets"] if not t["met"]]


def test_a_daemon_killed_at_random_moments_loses_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """SIGKILL at seeded moments, KILLS times: every alert of a clean run raised, every
    notice delivered, every duplicate deduplicable, no first poll delayed, the file sound."""
    phase = chaos(capsys, "--phases", "kills", "--kills", str(KILLS), "--workdir", str(tmp_path))
    figures = phase["figures"]
    assert figures["kills"] == KILLS and figures["clean_run"]["alerts"] > 0
    assert figures["chaos_run"]["notices"] >= figures["clean_run"]["notices"] > 0
    assert not missed(phase), missed(phase)


def test_carrier_faults_raise_no_false_alert_and_are_backed_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    phase = chaos(capsys, "--phases", "faults")
    assert phase["figures"]["faulted_calls"] > 0  # the schedule hit the daemon's calls
    assert not missed(phase), missed(phase)


def test_fuzzed_input_gets_no_5xx_stores_nothing_refused_and_crosses_no_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    phase = chaos(capsys, "--phases", "fuzz", "--examples", str(EXAMPLES),
                  "--workdir", str(tmp_path))  # fmt: skip
    figures = phase["figures"]
    assert figures["shipments_stored"] > 0  # some input was good: refusals were decisions
    assert {"api", "shopify", "link", "csv"} <= set(figures["requests"])
    assert not missed(phase), missed(phase)


def test_a_phase_that_does_not_exist_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chaos", "--phases", "kills,quakes"]) == 2
    assert "phases: quakes" in capsys.readouterr().err


# --- the checks themselves ------------------------------------------------------------------


def notice(key: str, recipient: str | None = None, title: str = "Delayed") -> Notice:
    return Notice(id=len(key), alert_id=1, event="opened", audience=Audience.STAFF,
                  channel="staff_chat.0", store="shop", title=title, body="...",
                  state=NoticeState.SENT, attempts=1, next_attempt_at=datetime.now(UTC),
                  idempotency_key=key, recipient=recipient)  # fmt: skip


def mail(to: str, subject: str, message_id: str) -> Message:
    message = Message()
    message["To"], message["Subject"], message["Message-ID"] = to, subject, message_id
    return message


def test_an_email_sent_twice_under_two_message_ids_cannot_be_deduplicated() -> None:
    notices = [notice("k1", "a@example.com"), notice("k22", "b@example.com")]
    copies = email_copies([
        mail("a@example.com", "Delayed", "<1@x>"), mail("a@example.com", "Delayed", "<1@x>"),
        mail("B@example.com", "Delayed", "<2@x>"), mail("b@example.com", "Delayed", "<3@x>"),
    ])  # fmt: skip
    found = match(notices, copies)
    assert (found.duplicates, found.undeduplicable, found.lost) == (2, 1, [])


def test_a_notice_never_received_is_lost_and_a_copy_without_a_key_is_a_stray() -> None:
    notices = [notice("k1"), notice("k22")]
    received = [Received("/chat", {"idempotency-key": "k1"}, {}),
                Received("/chat", {"Idempotency-Key": "k1"}, {}), Received("/chat", {}, {})]  # fmt: skip
    found = match(notices, webhook_copies(received))
    assert found.lost == [3] and found.duplicates == 1 and found.strays == 1
    assert found.undeduplicable == 0  # the same key twice: a receiver drops the second
    assert match(notices, [Copy(("webhook", "k1"), "k1"), Copy(("webhook", "k22"), "k22")]
                 ).figures()["lost"] == 0  # fmt: skip


def test_a_never_polled_shipment_due_after_the_restart_was_delayed() -> None:
    restart = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    kill = Kill(1.0, {"K1": restart - timedelta(minutes=5), "K2": restart + timedelta(minutes=15),
                      "K3": None, "K4": restart + timedelta(seconds=1)})  # fmt: skip
    kill.judge(restart)
    assert kill.late == ["K2", "K3"]


def test_back_off_is_seen_only_when_retry_after_is_kept_or_the_gaps_grow() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    storm = Fault("usps", "429", start, start + timedelta(hours=8), retry_after=1800)
    assert backed_off(storm, [30.0, 31.2, 30.0]) and not backed_off(storm, [30.0, 15.0])
    outage = Fault("ups", "500", start, start + timedelta(hours=8))
    assert not backed_off(outage, [15.0, 15.0, 15.0]) and not backed_off(outage, [15.0])
    assert backed_off(outage, [15.0, 30.0, 60.0])
    calls = [start, start, start + timedelta(minutes=15), start + timedelta(minutes=45)]
    assert intervals(calls) == [15.0, 30.0]  # calls of one pass count once


async def test_the_fault_schedule_answers_each_fault_over_http() -> None:
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    kinds = ("500", "html", "429", "truncated", "hang")
    faults = tuple(Fault("ups", k, start + timedelta(hours=i), start + timedelta(hours=i + 1),
                         retry_after=900) for i, k in enumerate(kinds))  # fmt: skip
    world, clock = World(), FrozenClock(start - timedelta(hours=1))
    place = Place(city="Chicago", state="IL", postal_code="60601", country="US")
    world.add(Parcel("ups", "1Z5R89390357567127", [Milestone(start - timedelta(days=1), "label",
                                                             place)], place))  # fmt: skip
    sandbox = await ChaosSandbox(world, clock, faults, hang_seconds=0.5).start()
    url = f"{sandbox.base_url}/api/track/v1/details/1Z5R89390357567127"
    headers = {"transId": "t", "transactionSrc": "chaos"}
    seen: list[tuple[int, str, str]] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.2)) as http:
            for _ in range(len(kinds) + 1):
                try:
                    async with http.get(url, headers=headers) as answer:
                        seen.append((answer.status, answer.content_type, await answer.text()))
                except TimeoutError:
                    seen.append((0, "", ""))
                clock.advance(hours=1)
    finally:
        await sandbox.stop()
    (ok, _, _), (e500, t500, _), (html, thtml, _), (e429, _, _), (cut, _, body), hung = seen
    assert ok == 401 and (e500, t500) == (500, "text/html") and (html, thtml) == (200, "text/html")
    assert e429 == 429 and cut == 401 and hung == (0, "", "")
    with pytest.raises(ValueError):
        json.loads(body)  # a real answer, cut off halfway
    assert [c.fault for c in sandbox.calls] == [None, *kinds]
    assert len(world.history["ups"]) == 1 + len(kinds)  # faulted calls count against quota


async def test_a_refusal_that_stored_a_row_is_caught(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    store = await SqliteStore.open(db)
    client = FuzzClient("http://127.0.0.1:9", db, tmp_path / "x.toml", {}, {}, b"k" * 16,
                        tmp_path)  # fmt: skip
    before = client.counts()
    await store.add_shipment(Shipment(store="a", carrier="ups", order_id="1",
                                      tracking_number="1Z5R89390357567127",
                                      customer_email="c@example.com",
                                      shipped_at=datetime.now(UTC)), datetime.now(UTC))  # fmt: skip
    await store.close()
    client.judge("api POST", 400, before, 0)
    client.judge("api POST", 201, before, 0)  # said nothing new, yet one row more
    client.judge("api POST", 201, before, 1)
    client.judge("api GET", 502, client.counts(), 0)
    assert len(client.tally.stored_on_refusal) == 2 and client.tally.server_errors == [
        "api GET: 502"]  # fmt: skip


def test_a_configuration_written_for_the_daemon_reads_back_the_same() -> None:
    data = {"daemon": {"database": 'a "b".db', "http_port": 0, "ratio": 0.5, "on": True},
            "stores": {"shop": {"name": "S", "channels": {"staff_chat": ["json://x/y"]},
                                "policy": {"staff": {"weekdays": ["mon"], "day_ends": 24}}}}}  # fmt: skip
    assert tomllib.loads(to_toml(data)) == data
