"""`trackwatch demo`: the real daemon against the sandbox, Thanksgiving week 2026, in
virtual time (trackwatch/sim/stepping.py): the clock jumps to the next instant anything is
due, so the week takes seconds and prints the same text, byte for byte, on any machine.

Eleven parcels across all four carriers, one or more for every alert kind:
- 1001 UPS, delivered to a front door: the delivered check-in and a risky-delivery flag.
- 1002 UPS goes quiet the Wednesday before Thanksgiving: the holiday and the weekend don't
  count, so its stall alert comes the next Wednesday.
- 1003 UPS, quiet since the Friday before: stalled on Thanksgiving, resolved when it moves.
- 1004 USPS, delivered; the customer reports it missing the next morning: after the 24 h
  wait the delivered-not-received claim opens.
- 1005 FedEx and 1006 DHL, delivered on time through their own APIs' shapes.
- 1007 UPS has a label and no pickup scan for two business days, then is picked up.
- 1008 FedEx misses its ETA: staff are escalated to 48 h after it, the customer is told a
  business day after it (Thanksgiving skipped), and it resolves on delivery.
- 1009 USPS has an address problem (urgent), then goes back to the sender.
- 1010 DHL is declared lost.
- 1011 UPS is a customer's return, delivered to the store: a refund reminder.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from trackwatch.app import Daemon, open_daemon
from trackwatch.clock import FrozenClock
from trackwatch.config import Settings, build_settings
from trackwatch.model import Alert, Direction, NoticeState, Place, Shipment
from trackwatch.sandbox.server import SandboxServer
from trackwatch.sandbox.sinks import HttpSink, Received
from trackwatch.sandbox.smtp import SmtpServer
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.sim.stepping import Stepper

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 23, 0, 0, tzinfo=NY)
END = datetime(2026, 12, 2, 12, 0, tzinfo=NY)
DEST = Place(city="New York", state="NY", postal_code="10001", country="US")

_PLACES = {
    "chicago": Place(city="Chicago", state="IL", postal_code="60601", country="US"),
    "atlanta": Place(city="Atlanta", state="GA", postal_code="30301", country="US"),
    "dallas": Place(city="Dallas", state="TX", postal_code="75201", country="US"),
    "memphis": Place(city="Memphis", state="TN", postal_code="38118", country="US"),
    "philadelphia": Place(city="Philadelphia", state="PA", postal_code="19019", country="US"),
    "secaucus": Place(city="Secaucus", state="NJ", postal_code="07094", country="US"),
    "new york": DEST,
}


def _at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=NY)


def _timeline(*steps: tuple[datetime, str, str] | tuple[datetime, str, str, str]
              ) -> list[Milestone]:  # fmt: skip
    return [Milestone(step[0], step[1], _PLACES[step[2]], *step[3:]) for step in steps]


@dataclass(frozen=True)
class DemoParcel:
    order_id: str
    number: str
    shipped_at: datetime
    timeline: list[Milestone]
    expect: tuple[str, ...]  # each alert by the end: "rule" (open) or "rule:resolved"
    carrier: str = "ups"
    eta: date | None = None
    returning: bool = False


PARCELS = (
    DemoParcel("1001", "1Z5R89390357567127", _at(23, 9), _timeline(
        (_at(23, 9), "label", "chicago"), (_at(23, 18), "picked_up", "chicago"),
        (_at(24, 2), "departed", "chicago"), (_at(24, 20), "arrived", "secaucus"),
        (_at(25, 8), "out_for_delivery", "new york"),
        (_at(25, 14), "delivered", "new york", "Front Door"),
    ), expect=("delivered", "risky_delivery")),
    DemoParcel("1002", "1Z879E930346834440", _at(23, 10), _timeline(
        (_at(23, 10), "label", "atlanta"), (_at(23, 19), "picked_up", "atlanta"),
        (_at(24, 3), "departed", "atlanta"), (_at(25, 4), "arrived", "philadelphia"),
    ), expect=("stalled",)),
    DemoParcel("1003", "1Z410E7W0392751591", _at(19, 12), _timeline(
        (_at(19, 12), "label", "dallas"), (_at(19, 18), "picked_up", "dallas"),
        (_at(20, 9), "arrived", "memphis"), (_at(27, 10), "departed", "memphis"),
        (_at(28, 6), "arrived", "secaucus"), (_at(30, 8), "out_for_delivery", "new york"),
        (_at(30, 13), "delivered", "new york", "Mailbox"),
    ), expect=("stalled:resolved", "delivered")),
    DemoParcel("1004", "9400111206206406260787", _at(23, 8), _timeline(
        (_at(23, 8), "label", "philadelphia"), (_at(23, 17), "picked_up", "philadelphia"),
        (_at(24, 1), "departed", "philadelphia"), (_at(24, 22), "arrived", "secaucus"),
        (_at(25, 7), "out_for_delivery", "new york"),
        (_at(25, 12), "delivered", "new york", "In/At Mailbox"),
    ), expect=("delivered", "delivered_not_received"), carrier="usps"),
    DemoParcel("1005", "738488882438", _at(23, 11), _timeline(
        (_at(23, 11), "label", "memphis"), (_at(23, 20), "picked_up", "memphis"),
        (_at(24, 4), "departed", "memphis"), (_at(25, 9), "arrived", "secaucus"),
        (_at(27, 8), "out_for_delivery", "new york"), (_at(27, 15), "delivered", "new york"),
    ), expect=("delivered", "risky_delivery"), carrier="fedex"),
    DemoParcel("1006", "3318810025", _at(23, 9), _timeline(
        (_at(23, 9), "label", "chicago"), (_at(23, 21), "picked_up", "chicago"),
        (_at(24, 6), "arrived", "secaucus"), (_at(24, 20), "out_for_delivery", "new york"),
        (_at(25, 11), "delivered", "new york"),
    ), expect=("delivered",), carrier="dhl"),
    DemoParcel("1007", "1Z8V92A70367203024", _at(23, 9), _timeline(
        (_at(23, 9), "label", "chicago"), (_at(27, 17), "picked_up", "chicago"),
        (_at(30, 9), "arrived", "secaucus"), (_at(1, 9, 12), "departed", "secaucus"),
    ), expect=("not_picked_up:resolved",)),
    DemoParcel("1008", "986578788855", _at(23, 8), _timeline(
        (_at(23, 8), "label", "memphis"), (_at(23, 18), "picked_up", "memphis"),
        (_at(24, 6), "departed", "memphis"), (_at(25, 9), "arrived", "philadelphia"),
        (_at(27, 10), "in_transit", "philadelphia"), (_at(30, 9), "arrived", "secaucus"),
        (_at(1, 8, 12), "out_for_delivery", "new york"), (_at(1, 15, 12), "delivered", "new york"),
    ), expect=("late:resolved", "delivered", "risky_delivery"), carrier="fedex",
        eta=date(2026, 11, 25)),
    DemoParcel("1009", "9405803699300124287899", _at(23, 8), _timeline(
        (_at(23, 8), "label", "philadelphia"), (_at(23, 17), "picked_up", "philadelphia"),
        (_at(24, 22), "arrived", "secaucus"), (_at(25, 9), "address_issue", "new york"),
        (_at(1, 10, 12), "returned", "new york"),
    ), expect=("exceptions:resolved", "exceptions"), carrier="usps"),
    DemoParcel("1010", "8487135506", _at(23, 9), _timeline(
        (_at(23, 9), "label", "chicago"), (_at(23, 20), "picked_up", "chicago"),
        (_at(24, 6), "arrived", "secaucus"), (_at(26, 10), "lost", "secaucus"),
    ), expect=("lost",), carrier="dhl"),
    DemoParcel("1011", "1ZXX3150YW44070023", _at(23, 10), _timeline(
        (_at(23, 10), "label", "new york"), (_at(23, 18), "picked_up", "new york"),
        (_at(24, 15), "delivered", "chicago", "Dock"),
    ), expect=("returns",), returning=True),
)  # fmt: skip
MISSING_REPORT = ("1004", _at(26, 9))
STEP = timedelta(minutes=1)  # the most a due instant waits for its pass
_REPORT_LINK = re.compile(
    r"https?://\S+/report-missing/\S+"
)  # the customer writes: "it says delivered, it is not here"


def demo_world() -> World:
    world = World()
    for p in PARCELS:
        to = _PLACES["chicago"] if p.returning else DEST
        world.add(Parcel(p.carrier, p.number, p.timeline, to, scheduled_delivery=p.eta))
    return world


def demo_settings(database: Path, carrier_url: str, chat_url: str, mail_url: str) -> Settings:
    """The demo store's settings. Two differ from a real daemon's, so that the run is the
    same each time: one notice is sent at a time (the order they arrive in is the order they
    were queued in), and a carrier call is never retried after a wait (the stepped clock does
    not move inside a pass, see trackwatch/sim/stepping.py)."""
    data: dict[str, Any] = {
        "daemon": {"database": str(database), "http_port": 0, "notice_concurrency": 1},
        "carriers": {
            name: {"base_url": carrier_url, "client_id": "demo", "client_secret": "demo-secret",
                   "api_key": "demo-key", "rate_limit": 100, "max_inline_wait_seconds": 0}
            for name in ("usps", "ups", "fedex", "dhl")
        },
        "stores": {"demo": {"name": "Demo Prints", "contact_email": "help@demo-prints.example",
                            "policy": {"stall": {"domestic_business_days": 3},
                                       # seed 004's words: its customers hear of a stall
                                       "promises": {"stall": {"domestic_business_days":
                                           "If your tracking hasn't updated in more than "
                                           "3 business days"}}},
                            "channels": {"staff_chat": [chat_url],
                                         "customer_email": [mail_url]}}},
    }  # fmt: skip
    return build_settings(data)


def _stamp(now: datetime) -> str:
    return now.astimezone(NY).strftime("%a %d %b %H:%M")


class Arrivals:
    """What reached the staff chat sink and the customer inbox, in arrival order, printed
    after each pass with the pass's instant. The inbox calls from its own thread, but a pass
    returns only once each send is acknowledged, so nothing arrives while this prints."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self._out = out
        self._lines: list[str] = []
        self._shown = 0

    def chat(self, item: Received) -> None:
        self._lines.append(f"staff chat <- {item.body.get('title', '')}")

    def mail(self, mail: Message) -> None:
        self._lines.append(f"customer email <- {mail['Subject']}")

    def show(self, now: datetime) -> None:
        for line in self._lines[self._shown :]:
            self._out(f"[{_stamp(now)}] {line}")
        self._shown = len(self._lines)


def text_part(mail: Message) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else ""
    return ""


async def run_demo(out: Callable[[str], None] = print) -> int:
    """Play the scenario in virtual time; 0 when exactly the expected alerts and notices
    happened. The same run, byte for byte, on any machine."""
    clock = FrozenClock(START)
    arrivals = Arrivals(out)
    sandbox = await SandboxServer(demo_world(), clock).start()
    sink = await HttpSink(arrivals.chat).start()
    inbox = SmtpServer(arrivals.mail)
    inbox.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = demo_settings(Path(tmp) / "demo.db", sandbox.base_url, sink.url("staff"),
                                     inbox.url("orders@demo-prints.example"))  # fmt: skip
            status = await _play(settings, clock, Sinks(sink, inbox, arrivals), out)
            calls = sandbox.world.calls
            out("carrier calls: " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))
            return status
    finally:
        inbox.stop()
        await sink.stop()
        await sandbox.stop()


def _shipment(parcel: DemoParcel) -> Shipment:
    to = _PLACES["chicago"] if parcel.returning else DEST
    return Shipment(
        store="demo", carrier=parcel.carrier, tracking_number=parcel.number,
        order_id=parcel.order_id, customer_email="customer@example.com",
        destination_country="US", destination_postal_code=to.postal_code or "",
        destination_city=to.city or "", shipped_at=parcel.shipped_at,
        direction=Direction.RETURN if parcel.returning else Direction.OUTBOUND,
    )  # fmt: skip


def _outcome(alert: Alert) -> str:
    return alert.rule + (":resolved" if alert.resolved_at is not None else "")


@dataclass(frozen=True)
class Sinks:
    chat: HttpSink
    inbox: SmtpServer
    arrivals: Arrivals


async def _play(settings: Settings, clock: FrozenClock, sinks: Sinks,
                out: Callable[[str], None]) -> int:  # fmt: skip
    out(f"demo: {START:%a %d %b %Y} to {END:%a %d %b %Y} (America/New_York), in virtual "
        "time: the clock jumps to the next instant anything is due")  # fmt: skip
    async with open_daemon(settings, clock) as daemon:
        ids = {p.order_id: await daemon.store.add_shipment(_shipment(p), clock.now())
               for p in PARCELS}  # fmt: skip
        await _week(daemon, clock, Customer(sinks, out))
        alerts = await daemon.store.all_alerts()
        failed = await daemon.store.notices(NoticeState.DEAD)
        sent = await daemon.store.notices(NoticeState.SENT)
    chat, mail = len(sinks.chat.received), len(sinks.inbox.messages)
    ok = not failed and chat + mail == len(sent) and chat > 0 and mail > 0
    for parcel in PARCELS:
        mine = sorted(_outcome(a) for a in alerts if a.shipment_id == ids[parcel.order_id])
        if mine != sorted(parcel.expect):
            out(f"order {parcel.order_id}: expected {sorted(parcel.expect)}, got {mine}")
            ok = False
    _print_examples(alerts, out)
    kinds = Counter(a.rule for a in alerts)
    by_kind = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"
    out(f"summary: {len(PARCELS)} shipments, alerts {by_kind} "
        f"({sum(a.resolved_at is not None for a in alerts)} resolved), "
        f"notices sent {len(sent)} (staff chat {chat}, customer email {mail}), "
        f"notices failed {len(failed)} "
        f"-> {'OK' if ok else 'UNEXPECTED'}")  # fmt: skip
    return 0 if ok else 1


async def _week(daemon: Daemon, clock: FrozenClock, customer: Customer) -> None:
    """The daemon's loops, stepped from START through END in virtual time."""
    stepper = Stepper(daemon, clock, STEP)
    await stepper.run(customer, END)
    await stepper.pass_at(END)
    customer.after(END)
    customer.done()


def _print_examples(alerts: list[Alert], out: Callable[[str], None]) -> None:
    """One alert of each kind, with the explanation a person would read."""
    seen: set[str] = set()
    out("one alert of each kind, as `trackwatch show` explains it:")
    for alert in alerts:
        if alert.rule in seen:
            continue
        seen.add(alert.rule)
        told = ", ".join(a.value for a in alert.audiences)
        out(f"  {alert.rule} ({alert.severity.value}; told: {told}): {alert.summary}")
        out(f"    action: {alert.action}")
        for key, value in alert.explanation.items():
            out(f"    - {key}: {value}")


class Customer:
    """The demo's script: the customer of order 1004 opens the link in their delivered
    email and presses the button, at MISSING_REPORT's time or, if the email has not come
    by then, as soon as it does (never before: the link is in it)."""

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
        self._out(
            f"[{_stamp(now)}] customer opens the link in the email for order "
            f"{MISSING_REPORT[0]} and reports it not received: "
            f"{'recorded' if asked and done else 'FAILED'}"
        )
        self.reported = True
        return True

    def after(self, now: datetime) -> None:
        self._arrivals.show(now)

    def done(self) -> None:
        if not self.reported:
            self._out(f"order {MISSING_REPORT[0]}: no 'didn't receive it?' link in its "
                      "delivered email")  # fmt: skip

    def _link(self) -> str | None:
        subject = f"Your order {MISSING_REPORT[0]} has been delivered"
        bodies = [text_part(m) for m in self._inbox.messages if m["Subject"] == subject]
        links = [m[0] for body in bodies if (m := _REPORT_LINK.search(body))]
        return links[0] if links else None
