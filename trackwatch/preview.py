"""`trackwatch preview`: every message a store's customers and staff can receive, rendered
under its policy for one sample parcel, for a merchant to read before going live.

The messages are made the way the daemon makes them: the real rules judge sample timelines
at each of their deadlines, and the real templates render what they find. A rule whose
customer message the store's policy does not allow (a threshold it never promised) shows
why instead, so a merchant sees what their customers will and will not be told.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from rules import RULES, ShipmentView
from trackwatch.calendar import calendar_for
from trackwatch.config import ConfigError, StoreSettings, read_policy_file
from trackwatch.errors import InputError
from trackwatch.model import (
    Alert,
    AlertState,
    Audience,
    DeliveryLocation,
    Direction,
    ExceptionKind,
    Finding,
    Place,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
)
from trackwatch.notify.render import Renderer

NY = ZoneInfo("America/New_York")
CITY = Place(city="New York", state="NY", postal_code="10001", country="US")
HUB = Place(city="Chicago", state="IL", postal_code="60601", country="US")
REPORT_URL = "https://track.example.com/r/sample-link"
# Where a store with its own tracking page links instead of the carrier (a signed link).
TRACK_PAGE_URL = "https://track.example.com/track/{store}/link/sample-link"
BY_NAME = {rule.name: rule for rule in RULES}
# Rules that can tell a customer, and so are worth a line when they do not.
CUSTOMER_RULES = frozenset({"stalled", "late", "lost", "exceptions", "delivered",
                            "delivered_not_received"})  # fmt: skip


@dataclass(frozen=True)
class Message:
    """One rendered notice, or (title "" and body the reason) one a customer does not get."""

    sample: str
    rule: str
    audience: Audience
    event: str
    title: str
    body: str

    @property
    def name(self) -> str:
        return f"{self.sample}.{self.audience.value}.{self.event}"

    @property
    def sent(self) -> bool:
        return bool(self.title)


def _at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=NY)


def _event(when: datetime, status: Status, text: str, place: Place = HUB,
           exception: ExceptionKind | None = None,
           location: DeliveryLocation | None = None) -> TrackingEvent:  # fmt: skip
    return TrackingEvent(occurred_at=when, status=status, code="X", description=text,
                         place=place, exception=exception, delivery_location=location)  # fmt: skip


LABEL = _event(_at(23, 9), Status.LABEL_CREATED, "Shipper created a label", CITY)
MOVING = [LABEL, _event(_at(23, 18), Status.IN_TRANSIT, "Departed facility")]
DELIVERED = [*MOVING, _event(_at(25, 14), Status.DELIVERED, "Delivered", CITY,
                             location=DeliveryLocation.FRONT_DOOR)]  # fmt: skip
_EXCEPTIONS = {
    "address_issue": (Status.EXCEPTION, ExceptionKind.ADDRESS_ISSUE, "Address incorrect"),
    "returned_to_sender": (Status.EXCEPTION, ExceptionKind.RETURNED_TO_SENDER, "Returning"),
    "customs_hold": (Status.EXCEPTION, ExceptionKind.CUSTOMS_HOLD, "Held by customs"),
    "damaged": (Status.EXCEPTION, ExceptionKind.DAMAGED, "Damaged in transit"),
    "undeliverable": (Status.EXCEPTION, None, "Delivery exception"),
    "delivery_attempted": (Status.DELIVERY_ATTEMPTED, None, "Delivery attempted"),
    "available_for_pickup": (Status.AVAILABLE_FOR_PICKUP, None, "Ready for pickup"),
}


def _samples() -> Iterator[tuple[str, str, list[TrackingEvent], dict[str, object]]]:
    """(sample name, rule, events, shipment fields) for every message kind."""
    yield "not_picked_up", "not_picked_up", [LABEL], {}
    yield "stalled", "stalled", MOVING, {}
    yield "late", "late", MOVING, {"eta": _at(1, 0, 12)}
    yield "late.promise", "late", MOVING, {"ordered_at": _at(20, 10)}
    yield "lost", "lost", [*MOVING, _event(_at(25, 12), Status.EXCEPTION, "Lost",
                                           exception=ExceptionKind.LOST)], {}  # fmt: skip
    yield "lost.silent", "lost", MOVING, {}
    for kind, (status, exception, text) in _EXCEPTIONS.items():
        yield f"exceptions.{kind}", "exceptions", [*MOVING, _event(_at(24, 10), status, text,
                                                                   CITY, exception)], {}  # fmt: skip
    yield "delivered", "delivered", DELIVERED, {}
    yield "risky_delivery", "risky_delivery", DELIVERED, {}
    yield "delivered_not_received", "delivered_not_received", DELIVERED, \
        {"missing_reported_at": _at(25, 20), "missing_reported_by": "customer"}  # fmt: skip
    yield "returns", "returns", DELIVERED, {"direction": Direction.RETURN}
    yield "expired", "expired", [], {}


def sample_shipment(store_id: str, **fields: object) -> Shipment:
    data: dict[str, object] = {
        "id": 1, "store": store_id, "carrier": "ups", "tracking_number": "1Z5R89390357567127",
        "order_id": "1001", "customer_email": "ada@example.com", "customer_name": "Ada",
        "destination_country": "US", "destination_postal_code": "10001",
        "destination_city": "New York", "shipped_at": _at(23, 9), **fields,
    }  # fmt: skip
    return Shipment.model_validate(data)


def _view(store_id: str, store: StoreSettings, events: list[TrackingEvent],
          fields: dict[str, object]) -> ShipmentView:  # fmt: skip
    status = events[-1].status if events else Status.UNKNOWN
    shipment = sample_shipment(store_id, status=status, **fields)
    calendar = calendar_for(shipment.carrier, shipment.destination_country,
                            shipment.destination_postal_code)  # fmt: skip
    return ShipmentView(shipment, events, store.policy, store.name, calendar)


def _stages(view: ShipmentView, rule: str) -> list[Finding]:
    """The rule's findings at each of its deadlines (first alert, then each new stage)."""
    found = [BY_NAME[rule].evaluate(view, due) for due in BY_NAME[rule].deadlines(view)]
    stages: list[Finding] = []
    for finding in found:
        if finding is not None and (not stages or finding.audiences != stages[-1].audiences
                                    or finding.escalated != stages[-1].escalated):  # fmt: skip
            stages.append(finding)
    return stages


def _notices(stages: list[Finding]) -> Iterator[tuple[Finding, Audience, str]]:
    """Who hears what at each stage, as the monitor sends it: each audience once when it
    is first told, staff again when the alert escalates, and staff at the resolution
    (unless the alert ended at info level: a heads-up's end is no news)."""
    told: list[Audience] = []
    for finding in stages:
        escalating = finding.escalated and stages.index(finding) > 0
        for audience in finding.audiences:
            if audience not in told:
                told.append(audience)
                yield finding, audience, "escalated" if escalating and audience is \
                    Audience.STAFF else "opened"  # fmt: skip
            elif escalating and audience is Audience.STAFF:
                yield finding, audience, "escalated"
    for audience in told:
        if audience is Audience.STAFF and stages[-1].severity is Severity.INFO:
            continue
        yield stages[-1], audience, "resolved"


# Why each sample's alert ends, as the daemon words it: a scan ends a stall or an exception
# (the rules loop), a delivery a late parcel; staff end what no scan can (trackwatch stop).
MOVED = "the carrier reported it in transit at 2026-12-02 10:00 EST"
RESOLUTIONS = {
    "late": "the carrier reported it delivered at 2026-12-02 10:00 EST",
    "late.promise": "the carrier reported it delivered at 2026-12-02 10:00 EST",
    "lost": "watching stopped by staff: settled with the customer",
    "exceptions.returned_to_sender": "watching stopped by staff: the parcel is back with us",
    "delivered_not_received": "watching stopped by staff: settled with the customer",
    "returns": "watching stopped by staff: refund made",
    "expired": "watching stopped by staff: the order was shipped again under a new number",
}


def _stored(finding: Finding, store_id: str) -> Alert:
    return Alert(id=1, shipment_id=1, store=store_id, rule=finding.rule,
                 episode=finding.episode, state=AlertState.RESOLVED, severity=finding.severity,
                 summary=finding.summary, action=finding.action,
                 explanation=finding.explanation, audiences=finding.audiences,
                 opened_at=finding.due or _at(23, 9))  # fmt: skip


def _not_told(sample: str, rule: str, stages: list[Finding]) -> Message | None:
    if rule not in CUSTOMER_RULES or any(Audience.CUSTOMER in f.audiences for f in stages):
        return None
    why = stages[-1].explanation.get("set by", "the rule does not tell customers here")
    return Message(sample, rule, Audience.CUSTOMER, "opened", "",
                   f"Customers are not told: this rests on {why}.")  # fmt: skip


def messages(
    store_id: str, store: StoreSettings, renderer: Renderer | None = None
) -> list[Message]:
    """Every message of every sample under `store`'s policy, in order."""
    renderer = renderer or Renderer()
    out: list[Message] = []
    for sample, rule, events, fields in _samples():
        view = _view(store_id, store, events, fields)
        stages = _stages(view, rule)
        if not stages:
            continue
        for finding, audience, event in _notices(stages):
            if event == "resolved" and not (audience is Audience.STAFF or renderer.has_template(
                    store_id, rule, audience, event)):  # fmt: skip
                continue
            context: dict[str, object] = {"shipment": view.shipment, "store": store,
                                          "alert": finding, "report_url": REPORT_URL}  # fmt: skip
            if store.tracking_page.enabled:  # else the renderer's default: the carrier's page
                context["track_url"] = TRACK_PAGE_URL.format(store=store_id)
            if event == "resolved":
                context.update(alert=_stored(finding, store_id),
                               reason=RESOLUTIONS.get(sample, MOVED))  # fmt: skip
            title, body = renderer.render(store_id, rule, audience, event, context)
            out.append(Message(sample, rule, audience, event, title, body))
        missing = _not_told(sample, rule, stages)
        if missing is not None:
            out.append(missing)
    return out


def preview_text(store_id: str, store: StoreSettings, source: str) -> str:
    """The preview as printed: a header, then each message under a rule of its own."""
    lines = [f"Messages of {store.name} ({store_id}) under {source}, for a sample parcel:",
             "UPS 1Z5R89390357567127, order 1001, to Ada in New York 10001 US, shipped "
             "Monday 23 November 2026 (times US Eastern).", ""]  # fmt: skip
    overrides = {store_id: store.templates_dir} if store.templates_dir else {}
    for message in messages(store_id, store, Renderer(overrides)):
        head = f"== {message.sample} · {message.audience.value} · {message.event} "
        lines.append(head.ljust(78, "="))
        if message.sent:
            lines += [f"Subject: {message.title}", "", message.body, ""]
        else:
            lines += [message.body, ""]
    return "\n".join(lines).rstrip() + "\n"


def _store(data: dict[str, object], prefix: str) -> StoreSettings:
    """StoreSettings from `data`; ConfigError lines start with `prefix` and name the key."""
    try:
        return StoreSettings.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        problems = (
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            if isinstance(exc, ValidationError)
            else [str(exc)]
        )
        raise ConfigError([f"{prefix}{problem}" for problem in problems]) from None


def _policy_store(name: str, path: Path) -> StoreSettings:
    """A store with the policy file at `path` and no other settings."""
    try:
        policy = read_policy_file(path)
    except ValueError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    return _store({"name": name, "policy": policy}, f"{path}: ")


# What a preview reads of a configured store: what its messages are made of. The rest (its
# API token, its channels, the daemon's and carriers' secrets) are files a preview must not
# need: a merchant reads it before the credentials exist.
PREVIEWED = ("name", "contact_email", "policy_file", "policy", "templates_dir")


def _configured_store(config: Path | None, store_id: str) -> StoreSettings:
    """Store `store_id` of the configuration file, its messages' settings alone (PREVIEWED;
    paths relative to the file, as the daemon reads them; no environment overrides)."""
    if config is None:
        raise InputError("config", "give the configuration file (--config FILE), or --policy FILE")
    try:
        with config.open("rb") as handle:
            stores = tomllib.load(handle).get("stores", {})
    except FileNotFoundError:
        raise ConfigError([f"{config}: no such file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{config}: not valid TOML: {exc}"]) from None
    found = stores.get(store_id) if isinstance(stores, dict) else None
    if not isinstance(found, dict):
        known = ", ".join(sorted(stores)) if isinstance(stores, dict) and stores else "none"
        raise InputError("store", f"no store {store_id!r} in the configuration (stores: {known})")
    data = {key: found[key] for key in PREVIEWED if key in found}
    for key in ("policy_file", "templates_dir"):
        if isinstance(data.get(key), str):
            data[key] = str(config.parent / str(data[key]))
    return _store(data, f"stores.{store_id}.")


def preview_command(store_id: str | None, config: Path | None, policy: Path | None) -> str:
    """`trackwatch preview`: a configured store (`--store ID --config FILE`), or a policy
    file on its own (`--policy FILE`, with `--store` as the name shown)."""
    if policy is not None:
        name = store_id or policy.stem
        return preview_text(name, _policy_store(name, policy), str(policy))
    if store_id is None:
        raise InputError("store", "name a store of the configuration, or give --policy FILE")
    store = _configured_store(config, store_id)
    source = f"the policy from {store.policy_file}" if store.policy_file else "its policy"
    return preview_text(store_id, store, source)
