"""Shared test fixtures: real servers on 127.0.0.1, real SQLite files, an injected clock."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.world import World

NY = ZoneInfo("America/New_York")
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 0, 0, tzinfo=NY))


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def sandbox(world: World, clock: FrozenClock) -> AsyncIterator[SandboxServer]:
    server = await SandboxServer(world, clock).start()
    yield server
    await server.stop()


@pytest.fixture
async def sink() -> AsyncIterator[HttpSink]:
    server = await HttpSink().start()
    yield server
    await server.stop()


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives; it can be
    stopped and started again on the same port to play an outage."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._controller: Controller | None = None

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        content = envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        self.messages.append(message_from_bytes(raw))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, sender: str = "orders@shop.example") -> str:
        return f"mailto://127.0.0.1:{self.port}?from={sender}"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path, sandbox: SandboxServer, sink: HttpSink) -> SettingsFactory:
    def make(stall_days: int = 3, **daemon: Any) -> Settings:
        carriers = {
            name: {"enabled": name == "ups", "base_url": sandbox.base_url, "client_id": "id",
                   "client_secret": "secret", "rate_limit": 100, "max_inline_wait_seconds": 0}
            for name in ("usps", "ups", "fedex", "dhl")
        }  # fmt: skip
        return build_settings(
            {
                "daemon": {"database": str(tmp_path / "tw.db"), **daemon},
                "carriers": carriers,
                "stores": {
                    "shop": {
                        "name": "Test Shop",
                        "policy": {"stall": {"domestic_business_days": stall_days}},
                        "channels": {"staff_chat": [sink.url("staff")]},
                    }
                },
            }
        )

    return make
