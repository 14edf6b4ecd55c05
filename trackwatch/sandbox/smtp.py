"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives: the customer
inbox of the demo, the email benchmark and the tests."""

from __future__ import annotations

import socket
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives; it can be
    stopped and started again on the same port to play an outage."""

    def __init__(self, on_receive: Callable[[Message], None] | None = None) -> None:
        self.messages: list[Message] = []
        self._on_receive = on_receive
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._controller: Controller | None = None

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        content = envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        message = message_from_bytes(raw)
        self.messages.append(message)
        if self._on_receive is not None:
            self._on_receive(message)
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
