"""Kill -9 the daemon while it is delivering, start it again: no alert is lost and none is
sent twice. The daemon runs as `trackwatch run` in a subprocess against the sandbox carriers
(real time: the subprocess has its own clock), and staff chat goes to a local HTTP receiver
that answers the first two notices, then holds every request open until the kill."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from trackwatch.clock import SystemClock
from trackwatch.model import NoticeState, Place, Shipment
from trackwatch.sandbox.local import serve_locally
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.store import SqliteStore

NUMBERS = ("1Z5R89390357567127", "1Z879E930346834440", "1Z410E7W0392751591",
           "1Z8V92A70367203024", "1ZXX3150YW44070023")  # fmt: skip
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")


class Receiver:
    """Answers `answer_first` requests, then holds the rest open until `release()`."""

    def __init__(self, answer_first: int) -> None:
        self.answer_first = answer_first
        self.seen: list[str] = []  # idempotency keys, in arrival order
        self.answered: list[str] = []
        self._open = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        self.seen.append(key)
        if len(self.seen) > self.answer_first:
            await self._open.wait()
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=499)  # the sender died waiting: not delivered to it
        self.answered.append(key)
        return web.json_response({"ok": True})

    def release(self) -> None:
        self._open.set()

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/chat", self.handle)
        self._runner, self.port = await serve_locally(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def config(tmp_path: Path, carriers: str, chat_port: int) -> Path:
    path = tmp_path / "trackwatch.toml"
    disabled = "\n".join(f"[carriers.{n}]\nenabled = false\n" for n in ("usps", "fedex", "dhl"))
    path.write_text(f"""
[daemon]
database = "{tmp_path / "tw.db"}"
http_port = 0
notice_lease_seconds = 2
notice_concurrency = 1
min_poll_minutes = 1

[carriers.ups]
base_url = "{carriers}"
client_id = "id"
client_secret = "secret"
rate_limit = 100
{disabled}
[stores.shop]
name = "Jetoy"
channels.staff_chat = ["json://127.0.0.1:{chat_port}/chat"]
policy.staff = {{ weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], day_starts = 0, day_ends = 24, digest_at = "" }}
""")
    return path


async def until(condition: Callable[[], Awaitable[bool]], what: str, seconds: float = 30) -> None:
    """Wait for a real subprocess to get somewhere (it has its own clock)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def start_daemon(path: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "trackwatch.cli", "run", "--config", str(path),
            stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


@pytest.fixture
async def carriers() -> AsyncIterator[SandboxServer]:
    world = World()
    now = datetime.now(UTC)
    for number in NUMBERS:  # each parcel already has an address problem: an urgent alert
        world.add(Parcel("ups", number, [
            Milestone(now - timedelta(days=2), "label", CHICAGO),
            Milestone(now - timedelta(days=2, hours=-6), "picked_up", CHICAGO),
            Milestone(now - timedelta(hours=3), "address_issue", NYC),
        ], NYC))  # fmt: skip
    server = await SandboxServer(world, SystemClock()).start()
    yield server
    await server.stop()


async def test_a_daemon_killed_mid_delivery_loses_nothing_and_repeats_nothing(
    tmp_path: Path, carriers: SandboxServer
) -> None:
    receiver = await Receiver(answer_first=2).start()
    path = config(tmp_path, carriers.base_url, receiver.port)
    store = await SqliteStore.open(tmp_path / "tw.db")
    for number in NUMBERS:
        await store.add_shipment(Shipment(
            store="shop", carrier="ups", tracking_number=number, order_id=number[-4:],
            customer_email="c@example.com", destination_postal_code="10001",
            shipped_at=datetime.now(UTC) - timedelta(days=2)), datetime.now(UTC))  # fmt: skip
    log = tmp_path / "daemon.log"

    async def seen(count: int) -> bool:
        return len(receiver.seen) >= count

    async def all_sent() -> bool:
        notices = await store.notices()
        return len(notices) == 5 and all(n.state is NoticeState.SENT for n in notices)

    daemon = await start_daemon(path, log)
    try:
        await until(lambda: seen(3), "two notices delivered and a third held open")
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()
        held = receiver.seen[2]
        receiver.release()
        daemon = await start_daemon(path, log)
        await until(all_sent, "every notice sent after the restart")
    finally:
        if daemon.returncode is None:
            daemon.send_signal(signal.SIGTERM)
            await asyncio.wait_for(daemon.wait(), 20)
        await receiver.stop()
        print(log.read_text() if log.exists() else "")
    alerts = await store.all_alerts()
    notices = await store.notices()
    await store.close()
    assert sorted(a.rule for a in alerts) == ["exceptions"] * 5  # one alert per parcel
    assert len(notices) == 5 and all(n.state is NoticeState.SENT for n in notices)
    keys = {n.idempotency_key for n in notices}
    assert set(receiver.answered) == keys  # none lost
    # The held request never got an answer; its notice went again, under the same key.
    counts = Counter(receiver.seen)
    assert counts[held] == 2 and all(counts[k] == 1 for k in keys - {held})
    assert Counter(receiver.answered) == Counter(dict.fromkeys(keys, 1))  # none twice
