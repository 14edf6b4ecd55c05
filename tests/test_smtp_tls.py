"""Emails share one TLS context (trackwatch.notify.smtp_tls), and TLS stays as strict as
Apprise alone makes it: real aiosmtpd servers on 127.0.0.1 speaking STARTTLS and implicit
TLS with certificates made here by `openssl`."""

from __future__ import annotations

import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import apprise
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from trackwatch.notify import plugins, smtp_tls
from trackwatch.notify.outbox import Outbox  # noqa: F401 - sends as the outbox does

MODES = ("starttls", "ssl")


def make_certificate(folder: Path, name: str, subject_alt_name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName={subject_alt_name}",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    return cert, key


class Inbox:
    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TlsServer:
    """aiosmtpd with `cert`: STARTTLS required, or TLS from the first byte ("ssl")."""

    def __init__(self, mode: str, cert: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.inbox = Inbox()
        self.port = free_port()
        tls = {"tls_context": context, "require_starttls": True} if mode == "starttls" else {
            "ssl_context": context}  # fmt: skip
        self.mode = mode
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **tls)

    def __enter__(self) -> TlsServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def send(self, verify: bool = True) -> bool:
        url = (f"mailtos://127.0.0.1:{self.port}?mode={self.mode}&from=orders@shop.example"
               f"&to=ada@example.org&verify={'yes' if verify else 'no'}")  # fmt: skip
        plugins.ensure(url)  # as the outbox loads the plugin of a channel's scheme
        sender = apprise.Apprise()
        assert sender.add(url)
        return bool(sender.notify(body="Your parcel is late.", title="Order 1"))


@pytest.fixture
def handed_out(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ssl.SSLContext]]:
    """Every shared context a connection got (a fresh SharedContext: no other test's)."""
    shared, got = smtp_tls.SharedContext(), []
    build = shared.get

    def get() -> ssl.SSLContext:
        got.append(build())
        return got[-1]

    monkeypatch.setattr(smtp_tls, "SHARED", shared)
    monkeypatch.setattr(shared, "get", get)
    yield got


@pytest.mark.parametrize("mode", MODES)
def test_an_untrusted_certificate_is_refused_and_verify_no_weakens_no_one_else(
    mode: str, tmp_path: Path, handed_out: list[ssl.SSLContext]
) -> None:
    cert, key = make_certificate(tmp_path, "self-signed", "IP:127.0.0.1")
    with TlsServer(mode, cert, key) as server:
        assert not server.send()
        assert server.inbox.received == []
        assert server.send(verify=False)  # the server works: the certificate was the reason
        assert len(server.inbox.received) == 1
        assert not server.send()  # verify=no got its own context, the shared one is intact
        assert len(server.inbox.received) == 1
    # The verifying connections used the one shared context, verify=no did not.
    assert len(handed_out) == 2 and handed_out[0] is handed_out[1]
    assert handed_out[0].verify_mode is ssl.CERT_REQUIRED and handed_out[0].check_hostname


@pytest.mark.parametrize("mode", MODES)
def test_a_trusted_certificate_is_accepted_for_its_own_name_only(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handed_out: list[ssl.SSLContext]
) -> None:
    """The shared context trusts what `ssl.create_default_context()` trusts (here a bundle
    named by SSL_CERT_FILE, read when the context is built) and checks the host name."""
    right, right_key = make_certificate(tmp_path, "right", "IP:127.0.0.1")
    wrong, wrong_key = make_certificate(tmp_path, "wrong", "DNS:mail.example.invalid")
    (tmp_path / "bundle.pem").write_bytes(right.read_bytes() + wrong.read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "bundle.pem"))
    with TlsServer(mode, right, right_key) as server:
        assert server.send() and server.send()
        assert len(server.inbox.received) == 2
    with TlsServer(mode, wrong, wrong_key) as server:
        assert not server.send()  # trusted, but issued for another name
        assert server.inbox.received == []
    assert len(handed_out) == 3 and len({id(c) for c in handed_out}) == 1


def test_per_send_contexts_build_one_per_email(
    tmp_path: Path, handed_out: list[ssl.SSLContext]
) -> None:
    """bench-email's "before": inside the block no connection takes the shared context."""
    cert, key = make_certificate(tmp_path, "self-signed", "IP:127.0.0.1")
    with TlsServer("starttls", cert, key) as server, smtp_tls.per_send_contexts():
        assert not server.send()
    assert handed_out == []
