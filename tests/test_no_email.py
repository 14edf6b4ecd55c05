"""Finding 18: an order without an email (point of sale, phone, marketplace) is watched; its
alerts reach staff, and the customer only by text when there is a phone and an SMS channel.
The delivered email is also what carries the "didn't receive it?" link: no email, no link."""

from __future__ import annotations

import pytest

from tests.rulekit import at, ev, fires, view
from trackwatch.config import build_settings
from trackwatch.model import Audience, Status
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter, Pacing
from trackwatch.notify.render import Renderer
from trackwatch.web.signing import ReportLinks

CHANNELS = {
    "customer_email": ["mailto://127.0.0.1:2525?from=orders@jetoy.example"],
    "customer_sms": ["json://127.0.0.1:9/sms/{phone}"],
}


@pytest.mark.parametrize(
    ("email", "phone", "expected"),
    [
        ("ada@example.org", "", [("customer_email.0", "ada@example.org")]),
        ("", "", []),
        ("", "+12015550123", [("customer_sms.0", "+12015550123")]),
        ("ada@example.org", "+12015550123",
         [("customer_email.0", "ada@example.org"), ("customer_sms.0", "+12015550123")]),
    ],
)  # fmt: skip
def test_customer_notices_go_only_where_there_is_an_address(
    email: str, phone: str, expected: list[tuple[str, str]]
) -> None:
    settings = build_settings({"stores": {"shop": {"name": "Jetoy", "channels": CHANNELS}}})
    links = ReportLinks(b"k" * 32, "https://track.example")
    drafter = Drafter(settings, ChannelDirectory(settings.stores), Renderer(), links)
    delivered = view([ev(at(11, 25, 12), Status.DELIVERED, "Delivered")], id=7,
                     customer_email=email, customer_phone=phone)  # fmt: skip
    finding = fires("delivered", delivered, at(11, 25, 13))
    assert finding is not None
    drafts = drafter.for_shipment(
        delivered.shipment, "delivered", finding.severity,
        [(Audience.CUSTOMER, "opened")], Pacing(at(11, 25, 13)), alert=finding,
    )  # fmt: skip
    customer = [(d.channel, d.recipient) for d in drafts if d.audience is Audience.CUSTOMER]
    assert customer == expected
