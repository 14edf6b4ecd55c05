"""The "didn't receive it?" page a customer opens from the delivered email.

Opening the link (GET) only shows the question: mail scanners and link previews fetch links
on their own, so only the button (POST) records the report. A tampered or expired link, an
unknown parcel, or one the carrier has not marked delivered gets a plain page that says so,
and nothing changes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from carriers.names import label
from rules.missing import case_opens
from trackwatch.clock import Clock
from trackwatch.config import Settings
from trackwatch.model import Shipment, Status
from trackwatch.store import UnreadableShipment
from trackwatch.store.contract import Shipments
from trackwatch.web.signing import REPORT_PATH, ExpiredLink, LinkError, ReportLinks
from trackwatch.zones import zone_for

REPORTED_BY = "customer (link)"


def _nothing() -> None:
    return None


@dataclass
class ReportDesk:
    """What the page needs; `wake` (the daemon's) is set once the daemon exists."""

    store: Shipments
    clock: Clock
    settings: Settings
    links: ReportLinks
    wake: Callable[[], None] = field(default=_nothing)


def page(title: str, *paragraphs: str, status: int = 200, form: str = "") -> web.Response:
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}{form}</body></html>\n"
    )
    return web.Response(
        text=text, status=status, content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                 "X-Robots-Tag": "noindex"},
    )  # fmt: skip


class ReportPage:
    def __init__(self, desk: ReportDesk) -> None:
        self._desk = desk

    def routes(self) -> list[web.RouteDef]:
        # Any path under it, empty or with slashes, is a link to judge: the customer gets
        # the plain page that says it is not valid, not the server's bare 404.
        path = REPORT_PATH + r"{token:[\s\S]*}"
        return [web.get(path, self.show), web.post(path, self.confirm)]

    def _contact(self, shipment: Shipment | None) -> str:
        if shipment is None:
            return "Please reply to the email you received from the store."
        store = self._desk.settings.store(shipment.store)
        address = f" at {store.contact_email}" if store.contact_email else ""
        return f"Please contact {store.name}{address} with your order number."

    async def _check(self, token: str) -> Shipment | web.Response:
        now = self._desk.clock.now()
        try:
            shipment_id = self._desk.links.verify(token, now)
        except ExpiredLink as exc:
            shipment = await self._desk.store.get_shipment(exc.shipment_id)
            return page("This link has expired", str(exc), self._contact(shipment), status=410)
        except LinkError as exc:
            return page("This link is not valid", str(exc), self._contact(None), status=400)
        try:
            shipment = await self._desk.store.get_shipment(shipment_id)
        except UnreadableShipment:
            return page("We cannot look this order up", "Something is wrong on our side.",
                        self._contact(None), status=409)  # fmt: skip
        if shipment is None:
            return page("This link is not valid", "We cannot find this order.", status=404)
        if not shipment.active:
            return page("This order is no longer tracked", "The store has stopped tracking "
                        "this parcel, so a report here would reach nobody.",
                        self._contact(shipment), status=410)  # fmt: skip
        if shipment.status is not Status.DELIVERED:
            return page("Not delivered yet", "The carrier has not marked this parcel "
                        "delivered, so there is nothing to report yet.",
                        self._contact(shipment), status=409)  # fmt: skip
        return shipment

    async def show(self, request: web.Request) -> web.Response:
        found = await self._check(request.match_info["token"])
        if isinstance(found, web.Response):
            return found
        if found.missing_reported_at is not None:
            return await self._recorded(found, found.missing_reported_at)
        store = self._desk.settings.store(found.store)
        form = ('<form method="post"><button type="submit">I have not received it</button>'
                "</form>\n")  # fmt: skip
        return page(
            f"Order {found.order_id} from {store.name}",
            f"{label(found.carrier)} says this parcel was delivered. If it has not reached "
            "you, press the button and we will look into it.",
            form=form,
        )

    async def confirm(self, request: web.Request) -> web.Response:
        found = await self._check(request.match_info["token"])
        if isinstance(found, web.Response):
            return found
        now = self._desk.clock.now()
        reported = await self._desk.store.report_missing(found.id or 0, REPORTED_BY, now)
        self._desk.wake()
        return await self._recorded(found, reported or now)

    async def _recorded(self, shipment: Shipment, when: datetime) -> web.Response:
        store = self._desk.settings.store(shipment.store)
        sid = shipment.id or 0
        events = (await self._desk.store.events_for([sid]))[sid]
        # The case opens as the rule counts it: a day (the wait) after the delivery scan.
        opens = case_opens(when, events, store.policy.delivered.wait_hours)
        zone = zone_for(shipment.destination_country, shipment.destination_postal_code)
        by = f"If it has not turned up by {opens.astimezone(zone):%d %b %Y at %H:%M %Z}"
        if store.channels.customer_email and shipment.customer_email:
            then = f"{by}, {store.name} will email you what to do next."
        else:  # no email will come: say whom to ask instead of promising one
            contact = self._contact(shipment)
            then = f"{by}, {contact[0].lower()}{contact[1:]}"
        return page(
            "Thank you, we have noted it",
            f"Your report for order {shipment.order_id} was recorded on "
            f"{when.astimezone(zone):%d %b %Y at %H:%M %Z}.",
            then,
        )
