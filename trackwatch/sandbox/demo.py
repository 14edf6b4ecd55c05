"""`trackwatch demo`: the real daemon against the sandbox, four and a half weeks from the
Monday of Thanksgiving week 2026, in virtual time (trackwatch/sim/stepping.py): the clock
jumps to the next instant anything is due, so the month takes seconds and prints the same
text, byte for byte, on any machine.

Two stores, each under its own policy file from deploy/policies (read from the file, so
the demo says what the file says today): a custom toy store shipping in the US and an art
print store shipping from London to Europe and the US. Their parcels (trackwatch/sandbox/
demo_world.py, each with its story) raise every alert kind of rules/ at least once: every
carrier exception kind, including a customs hold abroad; a loss declared by the carrier and
a silent one; late against the carrier's estimate and against the store's promise; and a
label that never moves until tracking expires. Customer email goes to a real SMTP server
and staff chat to an HTTP sink; the demo prints both as they arrive.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import aiohttp

from rules import RULES
from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import Alert, NoticeState
from trackwatch.sandbox.demo_output import (
    Arrivals,
    print_examples,
    print_stores,
    text_part,
    variant,
)
from trackwatch.sandbox.demo_world import NY, PARCELS, STORES, DemoParcel, demo_world, shipment
from trackwatch.sandbox.push import Portal, SandboxPush
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.sim.pushing import PushingScript
from trackwatch.sim.stepping import Stepper

START = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
END = datetime(2026, 12, 24, 12, 0, tzinfo=NY)  # order 1011's 30 quiet days end on the 23rd
# The customer of this order opens the link in their delivered email and says it is not there.
MISSING_REPORT = ("1004", datetime(2026, 11, 26, 9, 0, tzinfo=NY))
STEP = timedelta(minutes=1)  # the most a due instant waits for its pass
LINK_SECRET = "demo-link-secret-not-for-production"  # so that links print the same each run
# What the merchant enters on developer.ups.com for Track Alert's calls to the daemon.
UPS_WEBHOOK = ("demo-ups-webhook", "demo-ups-webhook-secret-not-for-production")


def demo_settings(database: Path, carrier_url: str, sink: HttpSink, inbox: SmtpServer) -> Settings:
    """The stores' settings: their own policy files, their own chat and mail, and UPS Track
    Alert pushing UPS's scans (the other carriers are polled only). Two differ from a real
    daemon's, so that the run is the same each time: one notice is sent at a time (the
    order they arrive in is the order they were queued in), and a carrier call is never
    retried after a wait (the stepped clock does not move inside a pass, see
    trackwatch/sim/stepping.py)."""
    stores = {
        s.id: {"name": s.name, "contact_email": f"help@{s.email_domain}",
               "policy_file": str(s.policy_path),
               "channels": {"staff_chat": [sink.url(s.id)],
                            "customer_email": [inbox.url(f"orders@{s.email_domain}")]}}
        for s in STORES
    }  # fmt: skip
    data: dict[str, Any] = {
        "daemon": {"database": str(database), "http_port": 0, "notice_concurrency": 1,
                   "link_secret": LINK_SECRET},
        "carriers": {
            name: {"base_url": carrier_url, "client_id": "demo", "client_secret": "demo-secret",
                   "api_key": "demo-key", "rate_limit": 100, "max_inline_wait_seconds": 0}
            for name in ("usps", "ups", "fedex", "dhl")
        },
        "stores": stores,
    }  # fmt: skip
    data["carriers"]["ups"]["push"] = {"enabled": True, "webhook_client_id": UPS_WEBHOOK[0],
                                       "webhook_client_secret": UPS_WEBHOOK[1]}  # fmt: skip
    return build_settings(data)


@dataclass(frozen=True)
class Sinks:
    chat: HttpSink
    inbox: SmtpServer
    arrivals: Arrivals
    push: SandboxPush


async def run_demo(out: Callable[[str], None] = print) -> int:
    """Play the scenario in virtual time; 0 when exactly the expected alerts and notices
    happened. The same run, byte for byte, on any machine."""
    missing = [str(s.policy_path) for s in STORES if not s.policy_path.is_file()]
    if missing:
        out(f"demo: the stores' policy files are read from a source checkout; not found: "
            f"{', '.join(missing)}")  # fmt: skip
        return 2
    clock = FrozenClock(START)
    arrivals = Arrivals(out, STORES)
    world = demo_world()
    push = SandboxPush(world, clock)
    sandbox = await SandboxServer(world, clock, push=push).start()
    sink = await HttpSink(arrivals.chat).start()
    inbox = SmtpServer(arrivals.mail)
    inbox.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = demo_settings(Path(tmp) / "demo.db", sandbox.base_url, sink, inbox)
            status = await _play(settings, clock, Sinks(sink, inbox, arrivals, push), out)
            calls = sandbox.world.calls
            out("carrier calls: " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))
            out(f"UPS Track Alert: {push.calls['ups']} subscription call(s), "
                f"{push.pushed['ups']} scans pushed, {sum(push.refused.values())} refused")  # fmt: skip
            return status
    finally:
        inbox.stop()
        await sink.stop()
        await sandbox.stop()


def _check(parcel: DemoParcel, mine: list[Alert], out: Callable[[str], None]) -> bool:
    """The parcel has exactly the alerts its story expects, each in the state expected."""
    left = list(mine)
    for wanted in sorted(parcel.expect, key=lambda e: ":" not in e):  # stated states first
        rule, _, state = wanted.partition(":")
        hit = next((a for a in left if a.rule == rule and state in ("", a.state.value)), None)
        if hit is not None:
            left.remove(hit)
    if len(mine) - len(left) == len(parcel.expect) and not left:
        return True
    got = sorted(f"{a.rule}:{a.state.value}" for a in mine)
    out(f"order {parcel.order_id}: expected {sorted(parcel.expect)}, got {got}")
    return False


async def _play(settings: Settings, clock: FrozenClock, sinks: Sinks,
                out: Callable[[str], None]) -> int:  # fmt: skip
    out(f"demo: {len(STORES)} stores, {len(PARCELS)} parcels, {START:%a %d %b %Y} to "
        f"{END:%a %d %b %Y}, in virtual time (the clock jumps to the next instant anything "
        "is due); times are New York's")  # fmt: skip
    print_stores(((s, settings.store(s.id)) for s in STORES), out)
    async with open_daemon(settings, clock) as daemon:
        ids = [await daemon.store.add_shipment(shipment(p), clock.now()) for p in PARCELS]
        sinks.push.portal = Portal(ups_url=f"{daemon.push_base}/push/ups",
                                   ups_token_url=f"{daemon.push_base}/push/ups/token",
                                   ups_client_id=UPS_WEBHOOK[0], ups_client_secret=UPS_WEBHOOK[1])  # fmt: skip
        sinks.push.start()
        await _month(daemon, clock, Customer(sinks, out), sinks.push)
        alerts = [a for a in await daemon.store.all_alerts() if a.shipment_id is not None]
        failed = await daemon.store.notices(NoticeState.DEAD)
        sent = await daemon.store.notices(NoticeState.SENT)
    chat, mail = len(sinks.chat.received), len(sinks.inbox.messages)
    ok = not failed and chat + mail == len(sent) and chat > 0 and mail > 0
    ok = _review(dict(zip(ids, PARCELS, strict=True)), alerts, out) and ok
    kinds = Counter(a.rule for a in alerts)
    by_kind = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"
    out(f"summary: {len(PARCELS)} shipments, alerts {by_kind} "
        f"({sum(a.resolved_at is not None for a in alerts)} resolved), "
        f"notices sent {len(sent)} (staff chat {chat}, customer email {mail}), "
        f"notices failed {len(failed)} "
        f"-> {'OK' if ok else 'UNEXPECTED'}")  # fmt: skip
    return 0 if ok else 1


def _review(
    parcels: dict[int, DemoParcel], alerts: list[Alert], out: Callable[[str], None]
) -> bool:
    """Check each parcel's alerts against its story, then print one alert of each kind: the
    first parcel's (in the order the stores list them) that has one."""
    ok = True
    for shipment_id, parcel in parcels.items():
        ok = _check(parcel, [a for a in alerts if a.shipment_id == shipment_id], out) and ok
    order = list(parcels)
    first = sorted(alerts, key=lambda a: (order.index(a.shipment_id or 0), a.id))
    tagged = [(a, variant(a, parcels.get(a.shipment_id or 0))) for a in first]
    print_examples(tagged, [rule.name for rule in RULES], out)
    return ok


async def _month(daemon: Daemon, clock: FrozenClock, customer: Customer,
                 push: SandboxPush) -> None:  # fmt: skip
    """The daemon's loops, stepped from START through END in virtual time, with UPS's
    pushes delivered at their scans' instants."""
    stepper = Stepper(daemon, clock, STEP)
    await stepper.run(PushingScript(customer, push), END)
    await stepper.pass_at(END)
    customer.after(END)
    customer.done()


class Customer:
    """The demo's script: the customer of MISSING_REPORT's order opens the link in their
    delivered email and presses the button, at MISSING_REPORT's time or, if the email has
    not come by then, as soon as it does (never before: the link is in it)."""

    def __init__(self, sinks: Sinks, out: Callable[[str], None]) -> None:
        self._inbox = sinks.inbox
        self._arrivals = sinks.arrivals
        self._out = out
        self.reported = False

    def next_at(self) -> datetime | None:
        return None if self.reported else MISSING_REPORT[1]

    async def act(self, now: datetime) -> bool:
        if self.reported or now < MISSING_REPORT[1] or (link := self._link()) is None:
            return False
        async with aiohttp.ClientSession() as http:
            async with http.get(link) as page:
                asked = "I have not received it" in await page.text()
            async with http.post(link) as page:
                done = page.status == 200 and "Thank you" in await page.text()
        self._arrivals.note(
            now,
            f"customer of order {MISSING_REPORT[0]} opens the link in their email and reports "
            f"it not received: {'recorded' if asked and done else 'FAILED'}",
        )
        self.reported = True
        return True

    def after(self, now: datetime) -> None:
        self._arrivals.show(now)

    def done(self) -> None:
        if not self.reported:
            self._out(f"order {MISSING_REPORT[0]}: no 'didn't receive it?' link in its "
                      "customer's email")  # fmt: skip

    def _link(self) -> str | None:
        to = f"customer-{MISSING_REPORT[0]}@example.com"
        for mail in self._inbox.messages:
            if parseaddr(mail["To"] or "")[1] == to:
                found = _report_link(mail)
                if found:
                    return found
        return None


def _report_link(mail: Message) -> str | None:
    """The "didn't receive it?" link in an email (the customer writes: "it says
    delivered, it is not here")."""
    for word in text_part(mail).split():
        if "/report-missing/" in word and word.startswith("http"):
            return word
    return None
