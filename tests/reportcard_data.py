"""A store filled through its own methods with parcels whose report card is worked out by
hand (tests/test_reportcard*.py).

Store "shop" ships from the US (its promise: 5 calendar days anywhere), store "euro" from
Germany (the default promise). All shipped 2026-11-02 12:00 UTC, in November's period:

- shop, UPS to the US, first ETA 11-06 23:00:
  P1 delivered 11-05 12:00 (3.0 days), promised 11-07: on time by both.
  P2 delivered 11-06 12:00 (4.0 days), promised 11-05: on time by the ETA, late by the
     promise; an exception alert, the customer told 30 minutes after it opened.
  P3 delivered 11-08 12:00 (6.0 days) though its later ETA said 11-09: late by the first
     ETA; by the policy due the end of 11-07 in New York (11-08 04:59:59 UTC): late;
     stalled twice (two episodes, one parcel), the customer told 90 minutes after the first
     opened (staff 5 minutes after: not the customer).
  P4 delivered 11-06 00:00 (3.5 days), no promised date: by the policy, on time.
  => UPS US→US: 4 shipped, 4 delivered, ETA 3/4, promise 2/4, transit median 3.8 (3.75),
     p90 5.4; stalled 1/4, exceptions 1/4, lost 0/4; told 2, median 60 min, p90 84 min.
- shop, UPS to Germany: P5 shipped, not delivered. => UPS US→DE: 1 shipped.
- euro, DHL to Germany: E1 delivered 11-04 12:00 (2.0 days), first ETA 11-05: on time by
  both (4-7 business days by default); E2 lost. => DHL DE→DE: 2 shipped, 1 delivered, ETA
  1/1, promise 1/1, transit 2.0 / 2.0, lost 1/2.
- Not counted: a UPS parcel shipped in October, and a return.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from trackwatch.model import (
    Audience,
    Direction,
    Finding,
    Outcome,
    Severity,
    Shipment,
    Status,
    TrackingEvent,
    TrackingResult,
)
from trackwatch.store import Store
from trackwatch.store.records import AlertOpen, Evaluation, NoticeDraft, PollUpdate

SHIPPED = datetime(2026, 11, 2, 12, tzinfo=UTC)
SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
FIRST_ETA = datetime(2026, 11, 6, 23, tzinfo=UTC)
CONFIG = """[daemon]
database = "{database}"
[stores.shop]
name = "Shop"
[stores.shop.policy]
origin_country = "US"
[[stores.shop.policy.promise.transit]]
regions = ["*"]
min_days = 2
max_days = 5
unit = "calendar"
[stores.euro]
name = "Euro"
[stores.euro.policy]
origin_country = "DE"
"""


def write_config(path: Path, database: str) -> Path:
    path.write_text(CONFIG.format(database=database))
    return path


def _event(at: datetime, status: Status) -> TrackingEvent:
    return TrackingEvent(occurred_at=at, status=status, code=status.value[:2].upper(),
                         description=status.value)  # fmt: skip


async def _parcel(store: Store, shipment: Shipment, eta: datetime | None,
                  delivered: datetime | None, later_eta: datetime | None = None) -> int:  # fmt: skip
    """Added, polled once in transit with `eta`, then once more (delivered, if so)."""
    sid = await store.add_shipment(shipment, shipment.shipped_at)
    moving = _event(shipment.shipped_at + timedelta(hours=1), Status.IN_TRANSIT)
    first = TrackingResult(tracking_number=shipment.tracking_number, outcome=Outcome.FOUND,
                           events=[moving], status=Status.IN_TRANSIT, eta=eta)  # fmt: skip
    await store.apply_polls([PollUpdate(sid, moving.occurred_at, moving.occurred_at, first)])
    if delivered is not None:
        done = _event(delivered, Status.DELIVERED)
        last = first.model_copy(update={"events": [moving, done], "status": Status.DELIVERED,
                                        "eta": later_eta})  # fmt: skip
        await store.apply_polls([PollUpdate(sid, delivered, delivered, last)])
    return sid


async def _alert(store: Store, sid: int, rule: str, episode: str, at: datetime,
                 told_after: timedelta | None, staff_after: timedelta | None = None) -> None:  # fmt: skip
    """An alert opened at `at`, its customer notice sent `told_after` later (and its staff
    notice `staff_after` later)."""
    drafts = []
    if told_after is not None:
        drafts.append(NoticeDraft("opened", Audience.CUSTOMER, "email", "shop", "t", "b",
                                  recipient="c@example.com"))  # fmt: skip
    if staff_after is not None:
        drafts.append(NoticeDraft("opened", Audience.STAFF, "staff_chat.0", "shop", "t", "b"))
    finding = Finding(rule=rule, episode=episode, severity=Severity.WARNING,
                      audiences=(Audience.STAFF, Audience.CUSTOMER), summary="s", action="a",
                      explanation={"k": "v"})  # fmt: skip
    await store.apply_evaluation(Evaluation(opens=[AlertOpen(sid, finding, tuple(drafts))]), at)
    for after, audience in ((staff_after, Audience.STAFF), (told_after, Audience.CUSTOMER)):
        if after is None:
            continue
        claimed = await store.claim_notices(at, at + timedelta(minutes=1), 10)
        ids = [n.id for n in claimed if n.audience is audience and n.id is not None]
        await store.mark_sent(ids, at + after)
        for other in (n for n in claimed if n.audience is not audience and n.id is not None):
            await store.mark_deferred(other.id, at)


def _shipment(store: str, carrier: str, number: str, country: str, **more: object) -> Shipment:
    return Shipment.model_validate({
        "store": store, "carrier": carrier, "tracking_number": number, "order_id": number,
        "customer_email": "c@example.com", "destination_country": country,
        "shipped_at": SHIPPED, **more,
    })  # fmt: skip


async def fill(store: Store) -> None:
    day = timedelta(days=1)
    nov = datetime(2026, 11, 1, tzinfo=UTC)
    p1 = _shipment("shop", "ups", "P1", "US", promised_by=nov + 6 * day)
    await _parcel(store, p1, FIRST_ETA, SHIPPED + 3 * day)
    p2 = _shipment("shop", "ups", "P2", "US", promised_by=nov + 4 * day)
    sid2 = await _parcel(store, p2, FIRST_ETA, SHIPPED + 4 * day)
    await _alert(store, sid2, "exceptions", "e", SHIPPED + 2 * day, timedelta(minutes=30))
    p3 = _shipment("shop", "ups", "P3", "US")
    sid3 = await _parcel(store, p3, FIRST_ETA, SHIPPED + 6 * day, later_eta=nov + 8 * day)
    await _alert(store, sid3, "stalled", "s1", SHIPPED + 3 * day, timedelta(minutes=90),
                 staff_after=timedelta(minutes=5))  # fmt: skip
    await _alert(store, sid3, "stalled", "s2", SHIPPED + 4 * day, None)
    await _parcel(store, _shipment("shop", "ups", "P4", "US"), FIRST_ETA, SHIPPED + 3.5 * day)
    await _parcel(store, _shipment("shop", "ups", "P5", "DE"), None, None)
    e1 = _shipment("euro", "dhl", "E1", "DE")
    await _parcel(store, e1, nov + 4 * day, SHIPPED + 2 * day)
    sid = await _parcel(store, _shipment("euro", "dhl", "E2", "DE"), None, None)
    await _alert(store, sid, "lost", "l", SHIPPED + 9 * day, None)
    october = _shipment("shop", "ups", "OLD", "US", shipped_at=SHIPPED - 20 * day)
    await _parcel(store, october, FIRST_ETA - 20 * day, SHIPPED - 15 * day)
    back = _shipment("shop", "ups", "RET", "US", direction=Direction.RETURN)
    await _parcel(store, back, None, SHIPPED + 8 * day)
