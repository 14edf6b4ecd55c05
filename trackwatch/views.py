"""Plain-text views of shipments for the CLI (times in the destination's zone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trackwatch.model import Alert, Shipment, TrackingEvent
from trackwatch.zones import zone_for


def _when(value: datetime | None, shipment: Shipment) -> str:
    if value is None:
        return "-"
    zone = zone_for(shipment.destination_country, shipment.destination_postal_code)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def print_shipments(shipments: Sequence[Shipment]) -> None:
    header = f"{'id':>5}  {'store':<10} {'carrier':<6} {'tracking number':<24} {'order':<10} {'status':<20} last event"
    print(header)
    for s in shipments:
        print(
            f"{s.id or 0:>5}  {s.store:<10} {s.carrier:<6} {s.tracking_number:<24} "
            f"{s.order_id:<10} {s.status.value:<20} {_when(s.last_event_at, s)}"
        )


def print_shipment(
    shipment: Shipment, events: Sequence[TrackingEvent], alerts: Sequence[Alert]
) -> None:
    s = shipment
    print(f"shipment {s.id}: {s.carrier} {s.tracking_number}, order {s.order_id} ({s.store})")
    print(f"  destination {s.destination_country} {s.destination_postal_code}".rstrip())
    print(f"  status {s.status.value}; shipped {_when(s.shipped_at, s)}; ETA {_when(s.eta, s)}")
    print(f"  last polled {_when(s.last_polled_at, s)}; next poll {_when(s.next_poll_at, s)}")
    print("events:")
    for e in events:
        flags = [f for f, on in (("zone inferred", e.zone_inferred), ("delayed", e.delayed)) if on]
        extra = f" [{', '.join(flags)}]" if flags else ""
        where = f" ({e.place.label()})" if e.place.label() else ""
        print(f"  {_when(e.occurred_at, s)}  {e.status.value:<20} {e.description}{where}{extra}")
    print("alerts:" if alerts else "alerts: none")
    for a in alerts:
        state = a.state.value if a.resolved_at is None else f"resolved {_when(a.resolved_at, s)}"
        print(f"  #{a.id} {a.rule} ({a.severity.value}), opened {_when(a.opened_at, s)}, {state}")
        print(f"    {a.summary}")
        print(f"    action: {a.action}")
        for key, value in a.explanation.items():
            print(f"    - {key}: {value}")
