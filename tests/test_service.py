"""`trackwatch run` as systemd runs it: a real daemon in a subprocess, against the sandbox
carriers and a chat sink in this process, with a NOTIFY_SOCKET datagram listener standing in
for systemd. Signals are real; waits are for datagrams and log lines, with time limits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from trackwatch import __version__
from trackwatch.clock import FrozenClock
from trackwatch.model import Place
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.sdnotify import Notifier, watchdog_interval

NUMBER = "1Z5R89390357567127"
CHICAGO = Place(city="Chicago", state="IL", postal_code="60601", country="US")
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")
CANARIES = {
    "ups_secret": "CANARY-UPS-SECRET-7f3a9c1d",
    "api_token": "CANARY-API-TOKEN-0123456789ab",
    "shopify": "CANARY-SHOPIFY-SECRET-4242",
    "chat_pass": "CANARY-CHAT-PASS-9911",
    "chat_token": "CANARYHOOKTOKEN5566778899",
    "email": "canary.customer@example.org",
}
LIMIT = 30.0  # seconds any one expected datagram or log line may take


class NotifySocket:
    """What systemd's end of NOTIFY_SOCKET receives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[dict[str, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.setblocking(False)
        self._arrived = asyncio.Event()
        asyncio.get_running_loop().add_reader(self._sock.fileno(), self._read)

    def _read(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                data = self._sock.recv(4096).decode()
                self.messages.append(dict(line.split("=", 1) for line in data.splitlines()))
                self._arrived.set()

    async def expect(self, key: str, value: str | None = None, after: int = 0) -> int:
        """The index of the first message from `after` on that assigns `key` (= `value`)."""
        async with asyncio.timeout(LIMIT):
            while True:
                for index in range(after, len(self.messages)):
                    got = self.messages[index].get(key)
                    if got is not None and (value is None or got == value):
                        return index
                self._arrived.clear()
                await self._arrived.wait()

    def count(self, key: str) -> int:
        return sum(1 for m in self.messages if key in m)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self._sock.fileno())
        self._sock.close()


@dataclass
class Running:
    process: asyncio.subprocess.Process
    notify: NotifySocket
    config: Path
    database: Path
    http: str
    stderr: list[str] = field(default_factory=list)
    _line: asyncio.Event = field(default_factory=asyncio.Event)

    async def pump(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.stderr.append(raw.decode(errors="replace"))
            self._line.set()

    async def logged(self, text: str) -> str:
        async with asyncio.timeout(LIMIT):
            while True:
                for line in self.stderr:
                    if text in line:
                        return line
                self._line.clear()
                await self._line.wait()

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(self.http + path) as response:
            return response.status, await response.text()

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(LIMIT):
            return await self.process.wait()


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for something this process's own servers see (checked every 20 ms)."""
    for _ in range(int(LIMIT / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, database: Path, port: int, sandbox: str, sink: HttpSink,
                 store_name: str = "Test Shop") -> None:  # fmt: skip
    c = CANARIES
    off = "".join(f"[carriers.{n}]\nenabled = false\n" for n in ("usps", "fedex", "dhl"))
    path.write_text(f"""
[daemon]
database = "{database}"
http_port = {port}
log_level = "DEBUG"
stop_timeout_seconds = 20
monitor_interval_minutes = 1
outbox_interval_seconds = 1

[carriers.ups]
base_url = "{sandbox}"
client_id = "id"
client_secret = "{c["ups_secret"]}"
rate_limit = 100
max_inline_wait_seconds = 0
{off}
[stores.shop]
name = "{store_name}"
api_token = "{c["api_token"]}"
shopify_secret = "{c["shopify"]}"

[stores.shop.channels]
staff_chat = ["{sink.url("staff/" + c["chat_token"])}",
              "json://canary:{c["chat_pass"]}@127.0.0.1:1/dead"]

[stores.shop.policy.staff]
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
day_starts = 0
day_ends = 24
""")


# The daemon runs on the real clock, so the sandbox does too, and the parcel's story is
# told relative to now: labelled and picked up two days ago, damaged an hour ago.
NOW = datetime.now(UTC)
SHIPPED = NOW - timedelta(days=2)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def damaged(world: World) -> World:
    """A UPS parcel scanned damaged, as the sandbox's clock sees it now."""
    timeline = [Milestone(SHIPPED, "label", CHICAGO),
                Milestone(SHIPPED + timedelta(hours=9), "picked_up", CHICAGO),
                Milestone(NOW - timedelta(hours=1), "damaged", CHICAGO)]  # fmt: skip
    world.add(Parcel("ups", NUMBER, timeline, NYC))
    return world


async def add_shipment(config: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "trackwatch.cli", "add", "--config", str(config), "--store", "shop",
        "--tracking-number", NUMBER, "--order-id", "A1", "--customer-email", CANARIES["email"],
        "--postal-code", "10001", "--shipped-at", SHIPPED.isoformat(),
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert await process.wait() == 0


@contextlib.asynccontextmanager
async def daemon(
    tmp_path: Path, sandbox: SandboxServer, sink: HttpSink, **env: str
) -> AsyncIterator[Running]:
    config, database, port = tmp_path / "trackwatch.toml", tmp_path / "tw.db", free_port()
    write_config(config, database, port, sandbox.base_url, sink)
    await add_shipment(config)
    notify = NotifySocket(tmp_path / "notify.sock")
    environment = {**os.environ, "NOTIFY_SOCKET": str(notify.path), "JOURNAL_STREAM": "8:1234",
                   **env}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "trackwatch.cli", "run", "--config", str(config),
        env=environment, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    running = Running(process, notify, config, database, f"http://127.0.0.1:{port}")
    pump = asyncio.create_task(running.pump())
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await pump
        notify.close()
        print("".join(running.stderr))  # shown when a test fails


async def test_the_service_speaks_sd_notify_reloads_and_stops(
    tmp_path: Path, sandbox: SandboxServer, sink: HttpSink, damaged: World
) -> None:
    async with daemon(tmp_path, sandbox, sink, WATCHDOG_USEC="400000") as run:
        ready = await run.notify.expect("READY", "1")
        assert "shipments polled" in run.notify.messages[ready]["STATUS"]
        # WATCHDOG=1 every 0.2 s (half of 0.4 s), sent from the event loop.
        first = await run.notify.expect("WATCHDOG", "1")
        await run.notify.expect("WATCHDOG", "1", after=first + 1)
        # The damaged parcel: polled, alerted, staff told on the working chat channel.
        await run.logged("exceptions alert opened")
        await eventually(lambda: bool(sink.received))
        assert CANARIES["chat_token"] in sink.received[0].path  # it went where configured

        # SIGHUP: the edited configuration is applied without a restart.
        write_config(run.config, run.database, int(run.http.rsplit(":", 1)[1]),
                     sandbox.base_url, sink, store_name="Renamed Shop")  # fmt: skip
        mark = len(run.notify.messages)
        run.process.send_signal(signal.SIGHUP)
        reloading = await run.notify.expect("RELOADING", "1", after=mark)
        await run.notify.expect("READY", "1", after=reloading)
        await run.logged("configuration reloaded: 1 stores")
        # A broken one is refused, and the daemon runs on with what it had.
        run.config.write_text("[daemon\n")
        mark = len(run.notify.messages)
        run.process.send_signal(signal.SIGHUP)
        await run.notify.expect("READY", "1", after=mark)
        refused = await run.logged("reload refused")
        assert refused.startswith("<3>")
        status, body = await run.get("/healthz")
        assert status == 200 and '"status": "degraded"' not in body

        status, metrics = await run.get("/metrics")
        assert status == 200
        assert 'trackwatch_polls_total{carrier="ups",outcome="found"} 1.0' in metrics
        assert 'trackwatch_carrier_request_seconds_count{carrier="ups"}' in metrics
        assert 'trackwatch_open_alerts{rule="exceptions",store="shop"} 1.0' in metrics
        assert 'trackwatch_open_alerts{rule="lost",store="shop"} 0.0' in metrics
        assert 'trackwatch_carrier_up{carrier="ups"} 1.0' in metrics
        assert 'trackwatch_carrier_last_success_timestamp_seconds{carrier="ups"}' in metrics
        assert f'trackwatch_build_info{{version="{__version__}"}} 1.0' in metrics
        assert "process_resident_memory_bytes" in metrics
        assert 'trackwatch_notices_sent_total{channel="staff_chat"}' in metrics
        assert 'trackwatch_notices_failed_total{channel="staff_chat"}' in metrics

        mark = len(run.notify.messages)
        assert await run.stop() == 0
        await run.notify.expect("STOPPING", "1", after=mark)
    log = "".join(run.stderr)
    assert "trackwatch stopped" in log
    assert all(line.startswith("<") for line in run.stderr if line.strip())
    for name, canary in CANARIES.items():
        assert canary not in log, name
    # Something did try to print them: the redaction is what kept them out.
    assert "***" in log or "<email>" in log


async def test_sigterm_finishes_the_poll_in_flight(
    tmp_path: Path, sandbox: SandboxServer, sink: HttpSink, damaged: World
) -> None:
    damaged.slow_seconds = 2.0
    damaged.inject("ups", "timeout")  # the first UPS answer is held back 2 s
    async with daemon(tmp_path, sandbox, sink, WATCHDOG_USEC="400000") as run:
        await run.notify.expect("READY", "1")
        await eventually(lambda: not damaged.faults["ups"])  # the held-back answer is coming
        mark = len(run.notify.messages)
        run.process.send_signal(signal.SIGTERM)
        stopping = await run.notify.expect("STOPPING", "1", after=mark)
        # The drain outlasts WatchdogSec here: the watchdog keeps being told all is well.
        await run.notify.expect("WATCHDOG", "1", after=stopping + 1)
        async with asyncio.timeout(LIMIT):
            assert await run.process.wait() == 0
    rows = await polled(run.database)
    assert rows == [(1, "exception")]  # the answer that was in flight was stored


async def polled(database: Path) -> list[tuple[int, str]]:
    from trackwatch.store import SqliteStore

    store = await SqliteStore.open(database)
    try:
        return [(s.polls, s.status.value) for s in (await store.list_shipments()).shipments]
    finally:
        await store.close()


def test_watchdog_interval_is_half_of_watchdog_sec_for_this_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, pid=2) is None
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "2"}, pid=2) == 15.0
    assert watchdog_interval({}) is None


async def test_notifier_sends_to_a_path_and_to_an_abstract_socket(tmp_path: Path) -> None:
    listener = NotifySocket(tmp_path / "n.sock")
    try:
        notifier = Notifier({"NOTIFY_SOCKET": str(listener.path)})
        assert notifier.ready("3 shipments polled")
        index = await listener.expect("READY", "1")
        assert listener.messages[index] == {"READY": "1", "STATUS": "3 shipments polled"}
    finally:
        listener.close()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    abstract.bind("\0trackwatch-test-" + str(os.getpid()))
    with abstract:
        Notifier({"NOTIFY_SOCKET": "@trackwatch-test-" + str(os.getpid())}).stopping()
        assert abstract.recv(4096).startswith(b"STOPPING=1\n")
    assert Notifier({}).watchdog_ping() is False  # not under systemd: a no-op, no error
