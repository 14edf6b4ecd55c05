"""What `trackwatch demo` prints: each store's terms and parcels, then what reached staff
chat and the customers' inboxes, under a header per day, then one alert of each kind.

Times are New York's. Staff chat is one line per message (its title); a customer email is
its subject and its plain-text body, as the customer reads it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from datetime import date, datetime
from email.message import Message
from email.utils import parseaddr

from trackwatch.config import StoreSettings
from trackwatch.model import Alert, Direction
from trackwatch.policy import StorePolicy
from trackwatch.sandbox.demo_world import NY, PARCELS, DemoParcel, DemoStore
from trackwatch.sandbox.sinks import Received

Out = Callable[[str], None]
_LOCAL_APP = re.compile(r"http://127\.0\.0\.1:\d+")  # the daemon's HTTP app: a random port
_BLANKS = re.compile(r"\n{3,}")
WIDTH = 100


def stamp(now: datetime) -> str:
    return now.astimezone(NY).strftime("%H:%M")


def text_part(mail: Message) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else ""
    return ""


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _terms(policy: StorePolicy) -> str:
    """The thresholds that drive the alerts, in a sentence (check-config prints them all)."""
    s, lost, late, d = policy.stall, policy.lost, policy.late, policy.delivered
    return (
        f"ships from {policy.origin_country}; no pickup scan: {policy.pickup.business_days} "
        f"business days; stalled: {s.domestic_business_days} domestic, "
        f"{s.international_business_days} international, {s.customs_business_days} in customs "
        f"(business days); lost: {lost.domestic_business_days} domestic, "
        f"{lost.international_business_days} international (business days of silence); "
        f"late: customer {late.grace_business_days} business day(s) past the ETA, staff "
        f"{late.escalate_after_hours:g} h; not received: {d.wait_hours:g} h wait; claim "
        f"window {d.claim_window_days} {d.claim_window_unit} days; refund "
        f"{policy.returns.refund_days} {policy.returns.refund_unit} days after a return "
        f"arrives; tracking stops {policy.expiry.after_days} days after a label never "
        f"scanned, {policy.expiry.silent_after_days} days after the last scan"
    )


def _policy_title(store: DemoStore) -> str:
    """The policy file's first comment line: what kind of store it was written for."""
    for line in store.policy_path.read_text().splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def print_stores(stores: Iterable[tuple[DemoStore, StoreSettings]], out: Out) -> None:
    for store, settings in stores:
        out("")
        out(f"== store {store.id!r}: {store.name}, policy deploy/policies/{store.policy_file}")
        for line in _wrap(_policy_title(store), "   ") + _wrap(_terms(settings.policy), "   "):
            out(line)
        for p in (p for p in PARCELS if p.store == store.id):
            to = f"to {p.destination.city}, {p.destination.country}"
            if p.direction is Direction.RETURN:
                to = f"return from {p.scans[0].place.city} {to}"
            line = f"{p.order_id} {p.carrier.upper()} {to}: {p.story}"
            for wrapped in textwrap.wrap(
                line, WIDTH, initial_indent="   ", subsequent_indent="        "
            ):
                out(wrapped)


class Arrivals:
    """What reached the staff chat sink and the customer inbox, in arrival order, printed
    after each pass under the day's header. The inbox calls from its own thread, but a pass
    returns only once each send is acknowledged, so nothing arrives while this prints."""

    def __init__(self, out: Out, stores: Iterable[DemoStore]) -> None:
        self._out = out
        self._names = {s.id: s.name for s in stores}
        self._domains = {s.email_domain: s.name for s in stores}
        self._pending: list[list[str]] = []
        self._day: date | None = None

    def chat(self, item: Received) -> None:
        self._pending.append([f"staff chat: {item.body.get('title', '')}"])

    def mail(self, mail: Message) -> None:
        sender = parseaddr(mail["From"] or "")[1].rpartition("@")[2]
        to = parseaddr(mail["To"] or "")[1]
        head = f"email from {self._domains.get(sender, sender)} to {to}: {mail['Subject']}"
        body = _BLANKS.sub("\n\n", _LOCAL_APP.sub("http://127.0.0.1:PORT", text_part(mail)))
        lines = [f"      | {line}".rstrip() for line in body.strip().splitlines()]
        self._pending.append([head, *lines])

    def note(self, now: datetime, line: str) -> None:
        self._header(now)
        self._out(f"[{stamp(now)}] {line}")

    def show(self, now: datetime) -> None:
        if self._pending:
            self._header(now)
        for head, *body in self._pending:
            self._out(f"[{stamp(now)}] {head}")
            for line in body:
                self._out(line)
        self._pending.clear()

    def _header(self, now: datetime) -> None:
        day = now.astimezone(NY).date()
        if day != self._day:
            self._day = day
            self._out("")
            self._out(f"-- {day:%a %d %b %Y} --")


def variant(alert: Alert, parcel: DemoParcel | None) -> str:
    """Which way of firing a rule this alert shows: an exception's kind, a lost parcel
    declared or silent, a late one against the carrier's estimate or the store's promise."""
    if alert.rule == "exceptions":
        return alert.explanation.get("kind", "")
    if alert.rule == "lost":
        return "declared" if alert.episode.startswith("declared@") else "silent"
    if alert.rule == "late" and parcel is not None:
        return "carrier estimate" if parcel.eta else "store promise"
    return ""


def print_examples(alerts: list[tuple[Alert, str]], order: list[str], out: Out) -> None:
    """One alert of each kind and variant (the first of `alerts` that has it), with the
    explanation a person would read."""
    seen: dict[tuple[str, str], Alert] = {}
    for alert, kind in alerts:
        seen.setdefault((alert.rule, kind), alert)
    out("")
    out("one alert of each kind, as `trackwatch show` explains it:")
    for (rule, kind), alert in sorted(seen.items(), key=lambda i: (order.index(i[0][0]), i[0][1])):
        told = ", ".join(a.value for a in alert.audiences)
        name = f"{rule}/{kind}" if kind else rule
        out(f"  {name} ({alert.severity.value}; told: {told}): {alert.summary}")
        out(f"    action: {alert.action}")
        for key, value in alert.explanation.items():
            out(f"    - {key}: {value}")
