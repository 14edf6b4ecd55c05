"""Plain-text views of shipments for the CLI (times in the destination's zone)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from trackwatch.model import Alert, Notice, Shipment, TrackingEvent
from trackwatch.policy import StorePolicy
from trackwatch.zones import zone_for


def _when(value: datetime | None, shipment: Shipment) -> str:
    if value is None:
        return "-"
    zone = zone_for(shipment.destination_country, shipment.destination_postal_code)
    try:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    except (OverflowError, ValueError):
        # Rows older versions let in can sit at the ends of what a datetime holds, where a
        # zone's offset pushes the year past 1 or 9999: those are shown in UTC.
        return value.astimezone(UTC).isoformat(sep=" ", timespec="minutes")[:16] + " UTC"


def _last(s: Shipment) -> str:
    """The last scan; before any, what the carrier says instead (it does not know the
    number yet, say); instead of it, why the row is set aside or no longer watched."""
    if s.set_aside:
        return f"set aside: {s.set_aside}"
    if not s.active:
        return f"stopped {s.stopped}"
    if s.last_event_at is None and s.carrier_note:
        return s.carrier_note
    return _when(s.last_event_at, s)


def print_shipments(shipments: Sequence[Shipment]) -> None:
    header = f"{'id':>5}  {'store':<10} {'carrier':<6} {'tracking number':<24} {'order':<10} {'status':<20} last event"
    print(header)
    for s in shipments:
        print(
            f"{s.id or 0:>5}  {s.store:<10} {s.carrier:<6} {s.tracking_number:<24} "
            f"{s.order_id:<10} {s.status.value:<20} {_last(s)}"
        )


def print_alerts(alerts: Sequence[tuple[Alert, str | None]]) -> None:
    print(f"{'id':>5}  {'store':<10} {'rule':<22} {'severity':<8} {'about':<16} opened (UTC)")
    for alert, order in alerts:
        about = f"order {order}" if order else alert.subject
        print(f"{alert.id:>5}  {alert.store:<10} {alert.rule:<22} {alert.severity.value:<8} "
              f"{about:<16} {alert.opened_at:%Y-%m-%d %H:%M}  {alert.summary}")  # fmt: skip


def print_notices(notices: Sequence[Notice]) -> None:
    """Notices without their recipients or bodies: those are customers' data."""
    print(f"{'id':>5}  {'store':<10} {'channel':<18} {'state':<9} {'tries':>5}  title / last error")
    for n in notices:
        detail = n.title if n.last_error is None else f"{n.title} / {n.last_error}"
        print(f"{n.id:>5}  {n.store:<10} {n.channel:<18} {n.state.value:<9} {n.attempts:>5}  "
              f"{detail}")  # fmt: skip


def _polling(s: Shipment) -> list[str]:
    """When it was and will be polled, and anything that stopped or slowed that."""
    lines = [f"  last polled {_when(s.last_polled_at, s)}; next poll {_when(s.next_poll_at, s)}"]
    if not s.active:
        lines.append(f"  watching stopped {_when(s.stopped_at, s)} {s.stopped}: no more polls "
                     "or alerts, nothing more goes to the customer "
                     f"(trackwatch restart {s.id} watches it again)")  # fmt: skip
    elif s.stopped:
        lines.append(f"  polling stopped {_when(s.stopped_at, s)}: {s.stopped} "
                     f"(trackwatch restart {s.id} polls it again)")  # fmt: skip
    if s.set_aside:
        lines.append(f"  set aside {_when(s.set_aside_at, s)}: {s.set_aside} "
                     f"(trackwatch restart {s.id} takes it back)")  # fmt: skip
    if s.carrier_note:
        tries = f" ({s.misses} answers in a row without data)" if s.misses > 1 else ""
        lines.append(f"  carrier: {s.carrier_note}{tries}")
    return lines


def print_shipment(
    shipment: Shipment,
    events: Sequence[TrackingEvent],
    alerts: Sequence[Alert],
    notes: Sequence[str] = (),
) -> None:
    """A shipment, its events and alerts; `notes` say how it is watched (ingest.notes_for)."""
    s = shipment
    print(f"shipment {s.id}: {s.carrier} {s.tracking_number}, order {s.order_id} ({s.store})")
    for note in notes:
        print(f"  {note}")
    print(f"  destination {s.destination_country} {s.destination_postal_code}".rstrip())
    print(f"  status {s.status.value}; shipped {_when(s.shipped_at, s)}; ETA {_when(s.eta, s)}")
    if s.ordered_at or s.promised_by:
        print(f"  ordered {_when(s.ordered_at, s)}; promised by {_when(s.promised_by, s)}")
    if s.direction.value != "outbound":
        print(f"  direction: {s.direction.value}")
    if s.missing_reported_at:
        print(f"  reported not received {_when(s.missing_reported_at, s)} by "
              f"{s.missing_reported_by}")  # fmt: skip
    for line in _polling(s):
        print(line)
    print("events:")
    for e in events:
        flags = [f for f, on in (("zone inferred", e.zone_inferred), ("delayed", e.delayed)) if on]
        extra = f" [{', '.join(flags)}]" if flags else ""
        where = f" ({e.place.label()})" if e.place.label() else ""
        print(f"  {_when(e.occurred_at, s)}  {e.status.value:<20} {e.description}{where}{extra}")
    print("alerts:" if alerts else "alerts: none")
    for a in alerts:
        state = a.state.value
        if a.resolved_at is not None:
            state = f"resolved {_when(a.resolved_at, s)} ({a.resolved_by}: {a.resolution})"
        told = ", ".join(x.value for x in a.audiences) or "nobody"
        escalated = f", escalated {_when(a.escalated_at, s)}" if a.escalated_at else ""
        print(f"  #{a.id} {a.rule} ({a.severity.value}), opened {_when(a.opened_at, s)}"
              f"{escalated}, {state}; told: {told}")  # fmt: skip
        print(f"    {a.summary}")
        print(f"    action: {a.action}")
        for key, value in a.explanation.items():
            print(f"    - {key}: {value}")


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, v in value.items() for pair in _flatten(f"{prefix}{key}.", v)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value) for pair in _flatten(f"{prefix}{i}.", v)]
    return [(prefix.rstrip("."), value)]


def _note(policy: StorePolicy, key: str, value: Any) -> str:
    """Whose setting a line is: the store's promise (its words), an operator's number, or
    (for a remedy) nothing offered."""
    section, _, rest = key.partition(".")
    if section == "remedies":
        return "" if value else "  # nothing offered"
    words = policy.promised(f"{section}.{rest.split('.')[0]}")
    if words:
        return f"  # the store's promise: “{words}”"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return "  # operator's setting" if number else ""


def policy_lines(policy: StorePolicy) -> list[str]:
    """Every setting of a policy as `key = value`, defaults included, each number marked as
    the store's promise (with its words) or an operator's setting, and each remedy."""
    pairs = _flatten("", policy.model_dump(mode="json", exclude={"promises"}))
    return [f"{key} = {json.dumps(value)}{_note(policy, key, value)}" for key, value in pairs]


def local_time(value: datetime | None, shipment: Shipment) -> str:
    """A time as the CLI shows it: in the shipment's destination's zone (the console's)."""
    return _when(value, shipment)


def polling_lines(shipment: Shipment) -> list[str]:
    """When it was and will be polled, and what stopped or slowed that (the console's)."""
    return _polling(shipment)
