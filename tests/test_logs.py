"""Logs carry no secrets and no customer data, in any encoding a library may print them.

The redaction is checked form by form, and on a real DEBUG run of the daemon: a UPS parcel
polled against the sandbox stalls, and the customer is emailed (aiosmtpd) and texted (HTTP
sink) through Apprise, whose DEBUG lines print the URLs it was given.
"""

from __future__ import annotations

import html
import io
import json
import logging
import quopri
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, unquote, unquote_plus, urlencode

import pytest

from tests.conftest import ALWAYS_STAFFED
from tests.promised import STALL_PROMISED
from trackwatch.app import open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.logs import RedactingFormatter, configure, redact, secrets_of
from trackwatch.model import Place, Shipment
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.sandbox.world import Milestone, Parcel, World

NUMBER = "1Z5R89390357567127"
NYC = Place(city="New York", state="NY", postal_code="10001", country="US")


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Sent Email to canary.customer+x@example.org", "canary.customer"),
        ("mailtos://orders:CanarySecret1@smtp.example.com:587?to=a@b.co", "CanarySecret1"),
        ("json://hooks.example/x?token=CanaryToken2&+Idempotency-Key=k", "CanaryToken2"),
    ],
)
def test_secrets_and_addresses_are_redacted(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_the_formatter_redacts_formatted_arguments() -> None:
    record = logging.LogRecord("apprise", logging.INFO, __file__, 1, "Sent Email to %s",
                               ("canary@example.org",), None)  # fmt: skip
    text = RedactingFormatter([], journald=False).format(record)
    assert text == "INFO apprise: Sent Email to <email>"


def test_configured_secrets_are_redacted_in_tracebacks_with_journald_priorities() -> None:
    settings = build_settings({
        "carriers": {"ups": {"client_secret": "CanaryUpsSecret77"}},
        "stores": {"shop": {"name": "Shop", "api_token": "CanaryApiToken-0123456789",
                            "channels": {"staff_chat": ["discord://1234/CanaryWebhookToken99"]}}},
    })  # fmt: skip
    formatter = RedactingFormatter(secrets_of(settings), journald=True)
    try:
        raise RuntimeError("token CanaryApiToken-0123456789 refused for +15551234567")
    except RuntimeError:
        record = logging.LogRecord("trackwatch", logging.ERROR, __file__, 1,
                                   "call with %s to %s failed",
                                   ("CanaryUpsSecret77", "discord://1234/CanaryWebhookToken99"),
                                   sys.exc_info())  # fmt: skip
    text = formatter.format(record)
    for leak in ("CanaryUpsSecret77", "CanaryApiToken", "CanaryWebhookToken99", "5551234567"):
        assert leak not in text
    lines = text.splitlines()
    assert len(lines) > 3 and all(line.startswith("<3>") for line in lines)
    assert lines[0] == "<3>trackwatch: call with *** to *** failed"
    # A part of a secret URL is a secret on its own (a library may log the token alone).
    warning = logging.LogRecord("apprise", logging.WARNING, __file__, 1,
                                "Discord token CanaryWebhookToken99 rejected", None, None)  # fmt: skip
    assert formatter.format(warning) == "<4>apprise: Discord token *** rejected"


def test_plain_lines_outside_journald() -> None:
    formatter = RedactingFormatter([], journald=False)
    record = logging.LogRecord("trackwatch", logging.INFO, __file__, 1, "running", None, None)
    assert formatter.format(record) == "INFO trackwatch: running"


# --- every form of a customer's address and number, and the daemon's own path ------------

ADDRESS = "canary.customer+orders@example.org"
PHONE = "+15550001111"
FORMS = {
    "plain": ADDRESS,
    "url-encoded": quote(ADDRESS, safe=""),
    "url-encoded twice": quote(quote(ADDRESS, safe=""), safe=""),
    "form-encoded query": urlencode({"to": f"Canary Customer <{ADDRESS}>"}),
    "lower-case escapes": quote(ADDRESS, safe="").lower(),
    "json \\u0040": json.dumps(ADDRESS).replace("@", "\\u0040"),
    "html &#64;": html.escape(ADDRESS).replace("@", "&#64;"),
    "html &#x40;": ADDRESS.replace("@", "&#x40;"),
    "html &commat;": ADDRESS.replace("@", "&commat;"),
    "quoted-printable": quopri.encodestring(ADDRESS.encode(), quotetabs=True)
    .decode()
    .replace("@", "=40"),
}
PHONES = {
    "e164": PHONE,
    "url-encoded": quote(PHONE, safe=""),
    "url-encoded twice": quote(quote(PHONE, safe=""), safe=""),
    "json \\u002b": PHONE.replace("+", "\\u002b"),
    "spaced": "+1 555 000 1111",
    "dashed": "+1-555-000-1111",
    "national": "(555) 000-1111",
    "national dashed": "555-000-1111",
    "national dotted": "555.000.1111",
    "uk": "+44 20 7946 0958",
    "uk national": "020 7946 0958",
}


def plain_views(text: str) -> list[str]:
    """`text` as a reader could decode it: URL (once, twice, `+` for space), JSON escapes,
    HTML entities, quoted-printable. A customer's data must be absent from every view."""
    views = [text, unquote(text), unquote(unquote(text)), unquote_plus(text), html.unescape(text)]
    views.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text))
    views.append(quopri.decodestring(text.encode()).decode("utf-8", "replace"))
    return views


def leaks(text: str, address: str = ADDRESS, phone: str = PHONE) -> list[str]:
    local, _, domain = address.partition("@")
    digits = phone.lstrip("+")[-10:]
    found = []
    for view in plain_views(text):
        lowered = view.lower()
        found += [part for part in (local.split("+")[0], domain) if part in lowered]
        if digits in re.sub(r"[\s().+-]", "", view):
            found.append(digits)
    return found


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_form_of_an_address_is_redacted(form: str) -> None:
    line = f"Loaded E-Mail URL: mailto://127.0.0.1:2525/{form}?from=shop&to={form} ({form})"
    assert leaks(line) != []  # the form really carries the address
    assert leaks(redact(line)) == [], redact(line)


@pytest.mark.parametrize("form", PHONES.values(), ids=PHONES.keys())
def test_every_form_of_a_phone_number_is_redacted(form: str) -> None:
    line = f"JSON POST URL: http://127.0.0.1:8080/sms/{form} to {form}, call {form}."
    redacted = redact(line)
    assert "<phone>" in redacted and form not in redacted, redacted
    if form.startswith(("+", "%", "\\")):
        assert leaks(redacted) == [], redacted


@pytest.mark.parametrize(
    "text",
    [
        "shipment 1042: stalled alert opened (warning)",
        "ups: answer lacked 3 requested numbers for 1Z5R89390357567127",
        "usps 9400111899223197428490 polled at 2026-11-23T10:00:00+00:00",
        "fedex 123456789012 and 61299998820821171811 answered 200 in 0.125 s",
        "listening on http://127.0.0.1:8080/ (pid 4242, port 51234)",
        "retry=40 wait=0.5 cto=15.0",
    ],
)
def test_our_own_lines_are_left_readable(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The root logger as `configure("DEBUG")` sets it, writing to a buffer; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("aiosqlite").level)
    buffer = io.StringIO()
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("aiosqlite").setLevel(saved[2])


def debug_settings(tmp_path: Path, sandbox: SandboxServer, sink: HttpSink, smtp: SmtpServer
                   ) -> Settings:  # fmt: skip
    """UPS against the sandbox; staff chat and customer texts to the sink, email to aiosmtpd."""
    carrier = {"base_url": sandbox.base_url, "client_id": "id", "client_secret": "secret",
               "max_inline_wait_seconds": 0}  # fmt: skip
    channels = {
        "staff_chat": [sink.url("chat")],
        "customer_email": [smtp.url("orders@jetoy.example")],
        "customer_sms": [f"json://127.0.0.1:{sink.port}/sms/{{phone}}"],
    }
    return build_settings({
        "daemon": {"database": str(tmp_path / "tw.db"), "http_port": 0, "log_level": "DEBUG"},
        "carriers": {name: {**carrier, "enabled": name == "ups"}
                     for name in ("usps", "ups", "fedex", "dhl")},
        "stores": {"shop": {"name": "Jetoy", "contact_email": "support@jetoy.example",
                            "policy": {"staff": ALWAYS_STAFFED, **STALL_PROMISED},
                            "channels": channels}},
    })  # fmt: skip


async def test_a_debug_run_of_the_daemon_logs_no_form_of_the_customers_address(
    tmp_path: Path, world: World, clock: FrozenClock, sandbox: SandboxServer, sink: HttpSink,
    smtp: SmtpServer, debug_log: io.StringIO,
) -> None:  # fmt: skip
    settings = debug_settings(tmp_path, sandbox, sink, smtp)
    configure(settings.daemon.log_level, settings, journald=False)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(debug_log)
    start = clock.set(clock.now() + timedelta(hours=10))  # Monday 10:00, customers' day
    timeline = [Milestone(start - timedelta(days=6), "label", NYC),
                Milestone(start - timedelta(days=6, hours=-8), "picked_up", NYC)]  # fmt: skip
    world.add(Parcel("ups", NUMBER, timeline, NYC))
    async with open_daemon(settings, clock) as daemon:
        shipment = Shipment(store="shop", carrier="ups", tracking_number=NUMBER, order_id="A1",
                            customer_email=ADDRESS, customer_phone=PHONE,
                            destination_postal_code="10001",
                            shipped_at=start - timedelta(days=6))  # fmt: skip
        await daemon.store.add_shipment(shipment, start)
        for _ in range(3):
            await daemon.tick()
            clock.advance(minutes=1)
    # The path ran: the customer was emailed and texted, and DEBUG lines were written.
    assert [m["To"] for m in smtp.messages] == [ADDRESS]
    assert [r.path for r in sink.received if r.path.startswith("/sms/")] == [f"/sms/{PHONE}"]
    text = debug_log.getvalue()
    assert "DEBUG apprise" in text and "<email>" in text
    assert leaks(text) == []
