"""From "tell these audiences about this alert" to notices: which channels hear of it, the
rendered text, and the earliest moment each may go out.

- Customers: email (one recipient per notice) when the parcel has an address (orders from a
  till, the phone or a marketplace may have none) and, when the store has one and the parcel
  a phone number, a text message; in the customer's daytime, a window after their previous
  notice about the same parcel. An urgent notice (an address problem: the carrier holds the
  parcel only about a week) skips the window but still waits for the customer's morning.
- Staff: chat and email, each from the store's minimum severity up; chat waits for staff
  hours (off on the staff's public holidays) unless the alert is urgent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trackwatch.config import Settings, StoreSettings
from trackwatch.model import Audience, Severity, Shipment
from trackwatch.notify.channels import ChannelDirectory, kind_of
from trackwatch.notify.links import tracking_url
from trackwatch.notify.pacing import customer_send_time, daytime, staff_closed, staff_time
from trackwatch.notify.render import Renderer
from trackwatch.store.records import NoticeDraft
from trackwatch.web.signing import TRACK_PURPOSE, ReportLinks, track_link_path
from trackwatch.zones import zone_for


def staff_slot(store: StoreSettings, channel: str, severity: Severity, now: datetime) -> datetime:
    """Staff chat keeps staff hours; urgent alerts and email do not wait."""
    if kind_of(channel) != "staff_chat" or severity is Severity.URGENT:
        return now
    staff = store.policy.staff
    return staff_time(now, store.policy.staff_zone(), staff.days(),
                      (staff.day_starts, staff.day_ends), staff_closed(store.policy))  # fmt: skip


def _address(shipment: Shipment, channel: str) -> str:
    """The customer's address on a channel; "" when the parcel has none there (an email
    channel with no email would otherwise mail the store's own account)."""
    if kind_of(channel) == "customer_sms":
        return shipment.customer_phone
    return shipment.customer_email


@dataclass
class Pacing:
    """The time a rules pass drafts at, and when each shipment's customer last heard from us
    (or will): updated as the pass drafts, so that two alerts of one parcel in one pass are
    paced too."""

    now: datetime
    last_customer: dict[int, datetime] = field(default_factory=dict)


class Drafter:
    def __init__(
        self,
        settings: Settings,
        channels: ChannelDirectory,
        renderer: Renderer,
        links: ReportLinks | None = None,
    ) -> None:
        self._settings = settings
        self._channels = channels
        self._renderer = renderer
        self._links = links

    def for_shipment(
        self,
        shipment: Shipment,
        rule: str,
        severity: Severity,
        notify: Sequence[tuple[Audience, str]],
        pace: Pacing,
        **context: object,
    ) -> tuple[NoticeDraft, ...]:
        store = self._settings.store(shipment.store)
        drafts: list[NoticeDraft] = []
        for audience, event in notify:
            channels = self._channels.channels(shipment.store, audience, severity)
            if not channels:
                continue
            args = dict(context, shipment=shipment, store=store)
            if audience is Audience.CUSTOMER:
                args["report_url"] = self._report_url(shipment, context)
                args["track_url"] = self._track_url(shipment, store, pace.now)
                drafts.extend(self._customer(shipment, rule, severity, event, channels, args,
                                             pace))  # fmt: skip
                continue
            title, body = self._renderer.render(shipment.store, rule, audience, event, args)
            drafts.extend(
                NoticeDraft(event, audience, channel, shipment.store, title, body,
                            not_before=staff_slot(store, channel, severity, pace.now))
                for channel in channels
            )  # fmt: skip
        return tuple(drafts)

    def for_store(
        self, store_id: str, now: datetime, rule: str, severity: Severity, event: str,
        skip: str | None = None, key: str | None = None, **context: object,
    ) -> tuple[NoticeDraft, ...]:  # fmt: skip
        """Staff notices about the store itself (a failing channel, the digest); `skip` is
        a channel not to use (the one that is failing)."""
        store = self._settings.store(store_id)
        channels = [c for c in self._channels.channels(store_id, Audience.STAFF, severity)
                    if c != skip]  # fmt: skip
        if not channels:
            return ()
        title, body = self._renderer.render(
            store_id, rule, Audience.STAFF, event, dict(context, store=store)
        )
        return tuple(
            NoticeDraft(event, Audience.STAFF, channel, store_id, title, body,
                        not_before=staff_slot(store, channel, severity, now),
                        key=key and f"{key}-{channel}")
            for channel in channels
        )  # fmt: skip

    def _customer(
        self, shipment: Shipment, rule: str, severity: Severity, event: str,
        channels: Sequence[str], args: dict[str, object], pace: Pacing,
    ) -> list[NoticeDraft]:  # fmt: skip
        reachable = [c for c in channels if _address(shipment, c)]
        if not reachable:
            return []  # no pacing slot taken either: nothing goes out
        slot = self._customer_slot(shipment, severity, pace)
        title, body = self._renderer.render(shipment.store, rule, Audience.CUSTOMER, event, args)
        drafts = []
        for channel in reachable:
            recipient, text = _address(shipment, channel), (title, body)
            if kind_of(channel) == "customer_sms":
                text = self._renderer.render(shipment.store, rule, Audience.CUSTOMER, event,
                                             dict(args, headline=title), kind="sms")  # fmt: skip
            drafts.append(NoticeDraft(event, Audience.CUSTOMER, channel, shipment.store, *text,
                                      recipient=recipient, not_before=slot))  # fmt: skip
        return drafts

    def _customer_slot(self, shipment: Shipment, severity: Severity, pace: Pacing) -> datetime:
        """The customer's daytime, a window after their previous notice; an urgent notice
        the customer's daytime alone. The window of the next notice runs from the later of
        the two."""
        notices = self._settings.store(shipment.store).notices
        sid = shipment.id or 0
        zone = zone_for(shipment.destination_country, shipment.destination_postal_code)
        hours = (notices.customer_day_starts, notices.customer_day_ends)
        previous = pace.last_customer.get(sid)
        if severity is Severity.URGENT:
            slot = daytime(pace.now, zone, *hours)
        else:
            window = timedelta(hours=notices.customer_window_hours)
            slot = customer_send_time(pace.now, previous, window, zone, hours)
        pace.last_customer[sid] = slot if previous is None else max(slot, previous)
        return slot

    def _report_url(self, shipment: Shipment, context: dict[str, object]) -> str | None:
        """The "didn't receive it?" link, valid while the claim window is open."""
        facts = getattr(context.get("alert"), "facts", None) or {}
        until = facts.get("claim_until") if isinstance(facts, dict) else None
        if self._links is None or shipment.id is None or not until:
            return None
        return self._links.url(shipment.id, datetime.fromisoformat(str(until)))

    def _track_url(self, shipment: Shipment, store: StoreSettings, now: datetime) -> str:
        """The store's tracking page (a signed link, valid `link_days`) when the store
        enables it, else the carrier's page."""
        page = store.tracking_page
        if not page.enabled or self._links is None or shipment.id is None:
            return tracking_url(shipment.carrier, shipment.tracking_number)
        token = self._links.token(shipment.id, now + timedelta(days=page.link_days),
                                  TRACK_PURPOSE)  # fmt: skip
        return self._links.base_url + track_link_path(shipment.store, token)
