"""The demo's stores and parcels: who ships what, where, and what the carriers will say.

Each store runs under one of deploy/policies/*.toml, read from the file (so the demo shows
the store's own terms as the file states them today). Timelines are written in the local
time of the place each scan happens, as carriers print them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from trackwatch.model import Direction, Place, Shipment
from trackwatch.sandbox.world import Milestone, Parcel, World
from trackwatch.zones import zone_for

POLICIES = Path(__file__).resolve().parents[2] / "deploy" / "policies"
NY = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class DemoStore:
    id: str
    name: str
    policy_file: str  # a file in deploy/policies
    email_domain: str

    @property
    def policy_path(self) -> Path:
        return POLICIES / self.policy_file


STORES = (
    DemoStore("toys", "Demo Toys", "custom-toy-store.toml", "demo-toys.example"),
    DemoStore("prints", "Demo Art Prints", "art-print-store.toml", "demo-prints.example"),
)

PLACES = {
    "chicago": Place(city="Chicago", state="IL", postal_code="60601", country="US"),
    "atlanta": Place(city="Atlanta", state="GA", postal_code="30301", country="US"),
    "dallas": Place(city="Dallas", state="TX", postal_code="75201", country="US"),
    "memphis": Place(city="Memphis", state="TN", postal_code="38118", country="US"),
    "philadelphia": Place(city="Philadelphia", state="PA", postal_code="19019", country="US"),
    "secaucus": Place(city="Secaucus", state="NJ", postal_code="07094", country="US"),
    "new york": Place(city="New York", state="NY", postal_code="10001", country="US"),
    "london": Place(city="London", postal_code="E1 6AN", country="GB"),
    "manchester": Place(city="Manchester", postal_code="M1 1AE", country="GB"),
    "east midlands": Place(city="East Midlands Airport", postal_code="DE74 2SA", country="GB"),
    "stansted": Place(city="Stansted", postal_code="CM24 1QW", country="GB"),
    "leipzig": Place(city="Leipzig", postal_code="04435", country="DE"),
    "berlin": Place(city="Berlin", postal_code="10115", country="DE"),
    "roissy": Place(city="Roissy-en-France", postal_code="95700", country="FR"),
    "paris": Place(city="Paris", postal_code="75001", country="FR"),
}


def local(when: str, place: str) -> datetime:
    """'Nov 23 09:00' (2026) as the wall-clock time at `place`."""
    at = PLACES[place]
    naive = datetime.strptime(f"2026 {when}", "%Y %b %d %H:%M")
    return naive.replace(tzinfo=zone_for(at.country, at.postal_code, at.state))


def timeline(*steps: tuple[str, str, str] | tuple[str, str, str, str]) -> list[Milestone]:
    """Scans as (when, kind, place[, detail]), `when` local to the place."""
    return [Milestone(local(s[0], s[2]), s[1], PLACES[s[2]], *s[3:]) for s in steps]


@dataclass(frozen=True)
class DemoParcel:
    """One parcel and what it shows. `expect` is each alert it has by the end: "rule" in
    any state, "rule:resolved" or "rule:open"."""

    store: str
    order_id: str
    carrier: str
    number: str
    to: str  # a key of PLACES
    story: str
    scans: list[Milestone]
    expect: tuple[str, ...]
    eta: date | None = None  # the carrier's scheduled delivery
    ordered: datetime | None = None
    direction: Direction = Direction.OUTBOUND

    @property
    def shipped_at(self) -> datetime:
        return self.scans[0].at

    @property
    def destination(self) -> Place:
        return PLACES[self.to]


_TOYS = (
    DemoParcel("toys", "1001", "ups", "1Z5R89390357567127", "new york",
        "delivered to a front door: the delivered check-in and a risky-delivery flag",
        timeline(("Nov 23 09:00", "label", "chicago"), ("Nov 23 17:00", "picked_up", "chicago"),
                 ("Nov 24 01:00", "departed", "chicago"), ("Nov 24 20:00", "arrived", "secaucus"),
                 ("Nov 25 08:00", "out_for_delivery", "new york"),
                 ("Nov 25 14:00", "delivered", "new york", "Front Door")),
        ("delivered", "risky_delivery")),
    DemoParcel("toys", "1002", "usps", "9400111590507590631831", "new york",
        "no carrier estimate: late against the store's own promise (ordered Monday 16th, "
        "processing, then the transit window), delivered the next week",
        timeline(("Nov 23 08:00", "label", "philadelphia"),
                 ("Nov 23 17:00", "picked_up", "philadelphia"),
                 ("Nov 25 01:00", "departed", "philadelphia"),
                 ("Nov 27 10:00", "arrived", "secaucus"), ("Dec 01 09:00", "delayed", "secaucus"),
                 ("Dec 03 09:00", "arrived", "new york"),
                 ("Dec 07 07:00", "in_transit", "new york"),
                 ("Dec 08 07:00", "out_for_delivery", "new york"),
                 ("Dec 08 12:00", "delivered", "new york", "In/At Mailbox")),
        ("late:resolved", "delivered"), ordered=datetime(2026, 11, 16, 10, 0, tzinfo=NY)),
    DemoParcel("toys", "1003", "ups", "1Z410E7W0392751591", "new york",
        "quiet since the Friday before: stalled on Thanksgiving, resolved when it moves, "
        "then delivered",
        timeline(("Nov 19 11:00", "label", "dallas"), ("Nov 19 17:00", "picked_up", "dallas"),
                 ("Nov 20 08:00", "arrived", "memphis"), ("Nov 27 09:00", "departed", "memphis"),
                 ("Nov 28 06:00", "arrived", "secaucus"),
                 ("Nov 30 08:00", "out_for_delivery", "new york"),
                 ("Nov 30 13:00", "delivered", "new york", "Mailbox")),
        ("stalled:resolved", "delivered")),
    DemoParcel("toys", "1004", "usps", "9400111206206406260787", "new york",
        "delivered to a mailbox; the customer reports it missing the next morning: the "
        "delivered-not-received claim opens after the wait",
        timeline(("Nov 23 08:00", "label", "philadelphia"),
                 ("Nov 23 17:00", "picked_up", "philadelphia"),
                 ("Nov 24 01:00", "departed", "philadelphia"),
                 ("Nov 24 22:00", "arrived", "secaucus"),
                 ("Nov 25 07:00", "out_for_delivery", "new york"),
                 ("Nov 25 12:00", "delivered", "new york", "In/At Mailbox")),
        ("delivered", "delivered_not_received")),
    DemoParcel("toys", "1005", "fedex", "738488882438", "new york",
        "nobody home on Wednesday: a delivery attempt (the customer is told how to get it "
        "redelivered), delivered on Friday",
        timeline(("Nov 23 10:00", "label", "memphis"), ("Nov 23 19:00", "picked_up", "memphis"),
                 ("Nov 24 03:00", "departed", "memphis"), ("Nov 25 05:00", "arrived", "secaucus"),
                 ("Nov 25 08:00", "out_for_delivery", "new york"),
                 ("Nov 25 15:00", "attempted", "new york"),
                 ("Nov 27 08:00", "out_for_delivery", "new york"),
                 ("Nov 27 13:00", "delivered", "new york")),
        ("exceptions:resolved", "delivered", "risky_delivery")),
    DemoParcel("toys", "1006", "ups", "1Z8V92A70367203024", "new york",
        "no pickup scan for two business days (staff only), picked up on Friday, then left at "
        "a UPS Access Point until the customer collects it",
        timeline(("Nov 23 09:00", "label", "chicago"), ("Nov 27 16:00", "picked_up", "chicago"),
                 ("Nov 30 09:00", "arrived", "secaucus"),
                 ("Dec 01 08:00", "access_point", "new york"),
                 ("Dec 02 17:00", "delivered", "new york", "UPS Access Point")),
        ("not_picked_up:resolved", "exceptions:resolved", "delivered")),
    DemoParcel("toys", "1007", "fedex", "986578788855", "new york",
        "misses FedEx's estimated delivery (Wednesday): the customer is told a business day "
        "after it (Thanksgiving skipped), staff 48 hours after it; resolved on delivery",
        timeline(("Nov 23 07:00", "label", "memphis"), ("Nov 23 17:00", "picked_up", "memphis"),
                 ("Nov 24 05:00", "departed", "memphis"),
                 ("Nov 25 09:00", "arrived", "philadelphia"),
                 ("Nov 27 10:00", "in_transit", "philadelphia"),
                 ("Nov 30 09:00", "arrived", "secaucus"),
                 ("Dec 01 08:00", "out_for_delivery", "new york"),
                 ("Dec 01 15:00", "delivered", "new york")),
        ("late:resolved", "delivered", "risky_delivery"), eta=date(2026, 11, 25)),
    DemoParcel("toys", "1008", "usps", "9405803699300124287899", "new york",
        "an address problem (urgent: the customer is asked to fix it), then it goes back to "
        "the sender and arrives back at the store",
        timeline(("Nov 23 08:00", "label", "philadelphia"),
                 ("Nov 23 17:00", "picked_up", "philadelphia"),
                 ("Nov 24 22:00", "arrived", "secaucus"),
                 ("Nov 25 09:00", "address_issue", "new york"),
                 ("Dec 01 10:00", "returned", "new york"),
                 ("Dec 03 14:00", "delivered", "philadelphia")),
        ("exceptions:resolved", "exceptions:open")),
    DemoParcel("toys", "1009", "ups", "1Z879E930346834440", "new york",
        "goes quiet the day before Thanksgiving: stalled (the holiday and the weekend don't "
        "count), late against the store's promise, then presumed lost after the lost "
        "threshold of silence (a silent loss)",
        timeline(("Nov 23 10:00", "label", "atlanta"), ("Nov 23 19:00", "picked_up", "atlanta"),
                 ("Nov 24 03:00", "departed", "atlanta"),
                 ("Nov 25 04:00", "arrived", "philadelphia")),
        ("stalled:resolved", "late:resolved", "lost:open")),
    DemoParcel("toys", "1010", "ups", "1Z5R89390386454284", "new york",
        "reported damaged in a sorting centre, moves on and is delivered",
        timeline(("Nov 23 10:00", "label", "chicago"), ("Nov 23 18:00", "picked_up", "chicago"),
                 ("Nov 24 06:00", "damaged", "chicago"), ("Nov 27 10:00", "departed", "chicago"),
                 ("Nov 28 09:00", "arrived", "secaucus"),
                 ("Nov 30 08:00", "out_for_delivery", "new york"),
                 ("Nov 30 12:00", "delivered", "new york", "Front Desk")),
        ("exceptions:resolved", "delivered")),
    DemoParcel("toys", "1011", "ups", "1Z5R89390341036640", "new york",
        "a label UPS never receives: staff hear it is not picked up after two business days, "
        "the customer that it is late against the store's promise; with no news for the "
        "expiry threshold, tracking stops (expired)",
        timeline(("Nov 23 09:00", "label", "chicago")),
        ("not_picked_up", "late", "expired:open")),
)  # fmt: skip

_PRINTS = (
    DemoParcel("prints", "2001", "dhl", "7099826790", "berlin",
        "London to Berlin: held by German customs at Leipzig, released, then waiting at a "
        "DHL parcel shop until the customer collects it",
        timeline(("Nov 23 10:00", "label", "london"), ("Nov 23 17:00", "picked_up", "london"),
                 ("Nov 24 02:00", "departed", "east midlands"),
                 ("Nov 24 09:00", "arrived", "leipzig"),
                 ("Nov 24 14:00", "customs_hold", "leipzig"),
                 ("Nov 30 10:00", "in_transit", "leipzig"), ("Dec 01 09:00", "arrived", "berlin"),
                 ("Dec 01 14:00", "access_point", "berlin"),
                 ("Dec 03 11:00", "delivered", "berlin")),
        ("exceptions:resolved", "exceptions:resolved", "delivered")),
    DemoParcel("prints", "2002", "fedex", "455251994506", "new york",
        "London to New York: declared lost by FedEx at its Memphis hub",
        timeline(("Nov 23 11:00", "label", "london"), ("Nov 23 17:00", "picked_up", "london"),
                 ("Nov 24 06:00", "departed", "stansted"), ("Nov 24 12:00", "arrived", "memphis"),
                 ("Nov 25 09:00", "in_transit", "memphis"), ("Nov 30 10:00", "lost", "memphis")),
        ("lost:open",)),
    DemoParcel("prints", "2003", "dhl", "6234213086", "paris",
        "London to Paris: DHL puts it on hold with no cause named (undeliverable as things "
        "stand), then delivers it",
        timeline(("Nov 24 10:00", "label", "london"), ("Nov 24 18:00", "picked_up", "london"),
                 ("Nov 25 03:00", "departed", "east midlands"),
                 ("Nov 25 10:00", "arrived", "roissy"),
                 ("Nov 26 09:00", "undeliverable", "paris"),
                 ("Nov 30 09:00", "out_for_delivery", "paris"),
                 ("Nov 30 14:00", "delivered", "paris")),
        ("exceptions:resolved", "delivered")),
    DemoParcel("prints", "2004", "dhl", "4550261446", "london",
        "a customer's return from Manchester arrives at the store: staff are reminded of the "
        "refund deadline",
        timeline(("Nov 24 10:00", "label", "manchester"),
                 ("Nov 24 17:00", "picked_up", "manchester"),
                 ("Nov 25 03:00", "arrived", "east midlands"),
                 ("Nov 26 10:00", "delivered", "london", "Reception")),
        ("returns",), direction=Direction.RETURN),
)  # fmt: skip

PARCELS = _TOYS + _PRINTS


def demo_world() -> World:
    world = World()
    for p in PARCELS:
        world.add(Parcel(p.carrier, p.number, p.scans, p.destination, scheduled_delivery=p.eta))
    return world


def shipment(parcel: DemoParcel) -> Shipment:
    to = parcel.destination
    return Shipment(
        store=parcel.store, carrier=parcel.carrier, tracking_number=parcel.number,
        order_id=parcel.order_id, customer_email=f"customer-{parcel.order_id}@example.com",
        destination_country=to.country or "US", destination_postal_code=to.postal_code or "",
        destination_city=to.city or "", shipped_at=parcel.shipped_at,
        ordered_at=parcel.ordered, direction=parcel.direction,
    )  # fmt: skip
