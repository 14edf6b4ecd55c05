"""Two stores' parcels, alerts and notices, and their staff, for the console's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.backends import execute
from trackwatch.model import Audience, Finding, Severity, Shipment
from trackwatch.staff import hash_password
from trackwatch.store import Store
from trackwatch.store.records import (
    OPERATOR,
    STAFF,
    AlertOpen,
    Evaluation,
    NoticeDraft,
    StaffAccount,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
NUMBERS = {"shop": "1Z5R89390357567127", "other": "1Z5R89390357567128"}


def parcel(store: str) -> Shipment:
    return Shipment(store=store, carrier="ups", tracking_number=NUMBERS[store],
                    order_id=f"{store}-1001", customer_email=f"Buyer@{store}.example",
                    destination_country="US", destination_postal_code="10001",
                    shipped_at=NOW)  # fmt: skip


def finding(severity: Severity, rule: str = "stalled") -> Finding:
    return Finding(rule=rule, episode="e1", severity=severity, audiences=(Audience.STAFF,),
                   summary=f"{rule} summary", action=f"{rule}: call the carrier",
                   explanation={"threshold": "3 business days", "days counted": "4",
                                "policy key": "stall.domestic_business_days"})  # fmt: skip


async def seed(store: Store, database: str) -> dict[str, int]:
    """Each store's parcel with a warning (stalled) and an urgent (lost) alert, and a dead
    staff notice; returns shipment ids by store."""
    ids = {}
    for name in NUMBERS:
        sid = await store.add_shipment(parcel(name), NOW)
        draft = NoticeDraft("opened", Audience.STAFF, "staff_chat.0", name, f"{name} title",
                            f"{name} body")  # fmt: skip
        await store.apply_evaluation(Evaluation(opens=[
            AlertOpen(sid, finding(Severity.WARNING), (draft,)),
            AlertOpen(sid, finding(Severity.URGENT, "lost"), ())]), NOW)  # fmt: skip
        ids[name] = sid
    await execute(database, "UPDATE notices SET state='dead', last_error='HTTP 500'")
    return ids


async def accounts(store: Store) -> None:
    hashed = hash_password(PASSWORD)
    for account in (StaffAccount("ann", STAFF, "shop", hashed),
                    StaffAccount("bob", STAFF, "other", hashed),
                    StaffAccount("root", OPERATOR, None, hashed)):  # fmt: skip
        assert await store.add_staff(account, NOW)


async def many_alerts(store: Store, count: int, carrier: str, start: int = 0) -> None:
    """`count` more of shop's parcels (by `carrier`), each with one open warning (late)."""
    parcels = [
        Shipment(store="shop", carrier=carrier, tracking_number=f"9400{start + n:018d}",
                 order_id=f"shop-{2000 + start + n}", customer_email="many@shop.example",
                 shipped_at=NOW)
        for n in range(count)
    ]  # fmt: skip
    added = await store.add_shipments(parcels, NOW)
    opens = [AlertOpen(sid, finding(Severity.WARNING, "late"), ()) for sid, _ in added]
    await store.apply_evaluation(Evaluation(opens=opens), NOW)
