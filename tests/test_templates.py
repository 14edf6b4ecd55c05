"""Every customer notice carries the order number, the carrier, the tracking link and the
store's contact (POLICY.md: 'every notice carries the tracking link'); staff notices carry
the explanation and one line of action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.rulekit import NYC, at, ev, fires, view
from trackwatch.config import StoreSettings
from trackwatch.model import (
    Audience,
    DeliveryLocation,
    ExceptionKind,
    Finding,
    Shipment,
    Status,
    TrackingEvent,
)
from trackwatch.notify.render import Renderer

STORE = StoreSettings(name="Jetoy", contact_email="support@jetoy.example")
BASE = [ev(at(11, 20, 9), Status.LABEL_CREATED, "Label"), ev(at(11, 23, 9))]


def scenarios() -> list[tuple[str, Finding]]:
    def one(
        rule: str, events: list[TrackingEvent], now: datetime, **fields: Any
    ) -> tuple[str, Finding]:
        v = view(events, customer_name="Ada", **fields)
        finding = fires(rule, v, now)
        assert finding is not None, rule
        return finding.facts.get("kind", rule), finding

    found = [
        one("stalled", BASE, at(11, 30)),
        one("late", BASE, at(12, 10), eta=at(12, 1)),
        one(
            "lost",
            [*BASE, ev(at(11, 24, 9), Status.EXCEPTION, "Lost", NYC, ExceptionKind.LOST)],
            at(11, 24, 10),
        ),
        one(
            "delivered",
            [
                *BASE,
                ev(
                    at(11, 25, 9), Status.DELIVERED, "Delivered", location=DeliveryLocation.MAILROOM
                ),
            ],
            at(11, 25, 10),
        ),
        one(
            "delivered_not_received",
            [*BASE, ev(at(11, 25, 9), Status.DELIVERED, "Delivered")],
            at(11, 27),
            missing_reported_at=at(11, 25, 12),
        ),
    ]
    for kind in (ExceptionKind.ADDRESS_ISSUE, ExceptionKind.RETURNED_TO_SENDER,
                 ExceptionKind.CUSTOMS_HOLD, ExceptionKind.DAMAGED, ExceptionKind.OTHER):  # fmt: skip
        found.append(one("exceptions", [*BASE, ev(at(11, 24, 9), Status.EXCEPTION, "X", NYC,
                                                  kind)], at(11, 24, 10)))  # fmt: skip
    for status in (Status.DELIVERY_ATTEMPTED, Status.AVAILABLE_FOR_PICKUP):
        found.append(one("exceptions", [*BASE, ev(at(11, 24, 9), status, "X")], at(11, 24, 10)))
    return found


def context(shipment: Shipment, finding: Finding, **extra: object) -> dict[str, object]:
    return {"shipment": shipment, "store": STORE, "alert": finding, **extra}


@pytest.mark.parametrize(
    ("name", "finding"), scenarios(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_customer_notices_carry_order_carrier_link_and_contact(name: str, finding: Finding) -> None:
    shipment = view(BASE, customer_name="Ada").shipment
    title, body = Renderer().render("shop", finding.rule, Audience.CUSTOMER, "opened",
                                    context(shipment, finding, report_url=None))  # fmt: skip
    assert shipment.order_id in title
    assert "Hello Ada," in body
    assert "Order A1 · UPS 1Z5R89390357567127" in body
    assert "https://www.ups.com/track?tracknum=1Z5R89390357567127" in body
    assert "Jetoy · support@jetoy.example" in body
    assert "{{" not in body and "None" not in body


def test_each_exception_kind_has_its_own_customer_wording() -> None:
    bodies = {}
    shipment = view(BASE).shipment
    for name, finding in scenarios():
        if finding.rule == "exceptions":
            bodies[name] = Renderer().render("shop", "exceptions", Audience.CUSTOMER, "opened",
                                             context(shipment, finding, report_url=None))[1]  # fmt: skip
    assert len(set(bodies.values())) == len(bodies) == 7
    # The default policy promises nothing: no hold time, no remedy, only help.
    assert "goes back around" not in bodies["address_issue"]
    assert "refund" not in bodies["customs_hold"] and "Reply to this email and we will help" \
        in bodies["customs_hold"]  # fmt: skip


def test_staff_escalation_carries_the_explanation_and_the_action() -> None:
    finding = dict(scenarios())["late"]
    title, body = Renderer().render("shop", "late", Audience.STAFF, "escalated",
                                    context(view(BASE).shipment, finding))  # fmt: skip
    assert title.startswith("[Jetoy] Escalated:")
    assert f"Action: {finding.action}" in body
    assert "- staff escalation:" in body and "- policy: test policy" in body
